//! The API reference, rendered on the server from `api-spec/openapi.yaml` (no CDN,
//! no script), the raw spec, and the landing page.

use crate::error::ApiError;
use crate::routing::Routes;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;
use std::sync::OnceLock;

/// The contract, compiled into the binary.
pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

pub fn routes(r: &mut Routes) {
    r.get("/", index)
        .get("/docs", docs)
        .get("/api-spec/openapi.yaml", spec_yaml);
}

/// The spec parsed once.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_yaml::from_str(OPENAPI_YAML).unwrap_or(Value::Null))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:64rem;margin:0 auto;padding:1rem;line-height:1.45;color:#1a1a1a}
h1{color:#b30000}code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}
.get{color:#0a6b2d}.post{color:#0b4f9c}.put{color:#8a5a00}.delete{color:#a00}
table{border-collapse:collapse;font-size:.92rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
nav a{margin-right:1rem}";

fn page(title: &str, body: Markup) -> HttpResponse {
    let doc = html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (STYLE) }
            }
            body { (body) }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(doc.into_string())
}

async fn index() -> HttpResponse {
    page(
        "Buuta — Bưu chính công ích",
        html! {
            h1 { "Buuta" }
            p { "Dịch vụ tiếp nhận hồ sơ và trả kết quả giải quyết thủ tục hành chính tận nhà qua bưu chính công ích." }
            nav {
                a href="/docs" { "Tài liệu API" }
                a href="/api-spec/openapi.yaml" { "OpenAPI (YAML)" }
                a href="/readyz" { "Trạng thái" }
            }
        },
    )
}

fn schema_name(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(types) = v.get("type").and_then(Value::as_array) {
        let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        return names.join(" | ");
    }
    match v.get("type").and_then(Value::as_str) {
        Some("array") => format!("[{}]", v.get("items").map(schema_name).unwrap_or_default()),
        Some(t) => t.to_owned(),
        None => "object".to_owned(),
    }
}

/// Follows a local `$ref` (`#/components/...`) inside the spec.
fn resolve(v: &Value) -> &Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => spec().pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn operation(method: &str, path: &str, op: &Value) -> Markup {
    let params: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(|p| resolve(p).clone()).collect())
        .unwrap_or_default();
    let body = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next())
        .and_then(|m| m.get("schema"));
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    html! {
        div.op id=(op.get("operationId").and_then(Value::as_str).unwrap_or("")) {
            span class={"m " (method)} { (method) } " " code { (path) }
            @if let Some(s) = op.get("summary").and_then(Value::as_str) { " — " (s) }
            @if let Some(d) = op.get("description").and_then(Value::as_str) { p { (d) } }
            @if op.get("security").and_then(Value::as_array).is_some_and(|s| s.is_empty()) {
                p { em { "Không cần đăng nhập." } }
            }
            @if !params.is_empty() {
                table {
                    tr { th { "Tham số" } th { "Ở đâu" } th { "Kiểu" } th { "Mô tả" } }
                    @for p in &params {
                        tr {
                            td { code { (p.get("name").and_then(Value::as_str).unwrap_or("")) } }
                            td { (p.get("in").and_then(Value::as_str).unwrap_or("")) }
                            td { (p.get("schema").map(schema_name).unwrap_or_default()) }
                            td { (p.get("description").and_then(Value::as_str).unwrap_or("")) }
                        }
                    }
                }
            }
            @if let Some(b) = body { p { "Nội dung gửi: " code { (schema_name(b)) } } }
            p {
                "Trả về: "
                @for (status, r) in &responses {
                    code { (status) } " " (r.get("description").and_then(Value::as_str).unwrap_or("")) "; "
                }
            }
        }
    }
}

async fn docs() -> Result<HttpResponse, ApiError> {
    let spec = spec();
    let title = spec
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("Buuta API");
    let version = spec
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(page(
        "Tài liệu API — Buuta",
        html! {
            h1 { (title) " " small { (version) } }
            @if let Some(d) = spec.pointer("/info/description").and_then(Value::as_str) { p { (d) } }
            p { "Bản đặc tả đầy đủ: " a href="/api-spec/openapi.yaml" { "openapi.yaml" } }
            h2 { "Các đường dẫn" }
            @for (path, item) in &paths {
                @for method in ["get", "post", "put", "patch", "delete"] {
                    @if let Some(op) = item.get(method) { (operation(method, path, op)) }
                }
            }
            h2 { "Lược đồ dữ liệu" }
            @for (name, s) in &schemas {
                div.op id={"schema-" (name)} {
                    strong { (name) }
                    @if let Some(props) = s.get("properties").and_then(Value::as_object) {
                        table {
                            tr { th { "Trường" } th { "Kiểu" } th { "Mô tả" } }
                            @for (field, f) in props {
                                tr {
                                    td { code { (field) } }
                                    td { (schema_name(f)) }
                                    td { (f.get("description").and_then(Value::as_str).unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn spec_yaml() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
