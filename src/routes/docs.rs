//! The API reference, rendered on the server from `api-spec/openapi.yaml` (no CDN,
//! no script), the raw spec, and the landing page.

use crate::error::ApiError;
use crate::pages::{assets, html_response};
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
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

fn page(state: &AppState, title: &str, body: Markup) -> HttpResponse {
    let doc = html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(assets::url("docs.css"));
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
            }
            body { (body) }
        }
    };
    html_response(state, doc)
}

async fn index(state: web::Data<AppState>) -> HttpResponse {
    let apps = [
        (
            "/track",
            "Tra cứu hồ sơ",
            "Người dân xem hồ sơ đang ở đâu bằng mã trên biên nhận.",
        ),
        (
            "/operator",
            "Tổng đài tiếp nhận",
            "Tổng đài viên nhập yêu cầu lấy hồ sơ khi người dân gọi.",
        ),
        (
            "/dispatch",
            "Điều phối",
            "Bản đồ, phân công bưu tá và lập tuyến trong ngày.",
        ),
        (
            "/courier",
            "Bưu tá",
            "Ứng dụng trên điện thoại của bưu tá, dùng được khi mất mạng.",
        ),
        (
            "/desk",
            "Bộ phận một cửa",
            "Cán bộ tiếp nhận hồ sơ, yêu cầu bổ sung, báo có kết quả.",
        ),
    ];
    let doc = crate::pages::layout(
        "Buuta — Bưu chính công ích",
        "index",
        html! {},
        html! {
            header.top {
                a.brand href="/" { "Buuta" }
                span.app-title { "Bưu chính công ích" }
            }
            main.narrow {
                h1 { "Lấy và trả hồ sơ hành chính tận nhà" }
                p { "Dịch vụ tiếp nhận hồ sơ và trả kết quả giải quyết thủ tục hành chính tận nhà qua bưu chính công ích." }
                ul.list {
                    @for (href, name, what) in apps {
                        li { a href=(href) { strong { (name) } } br; span.muted { (what) } }
                    }
                }
                p.muted {
                    a href="/docs" { "Tài liệu API" } " · "
                    a href="/api-spec/openapi.yaml" { "OpenAPI (YAML)" } " · "
                    a href="/readyz" { "Trạng thái" }
                }
            }
        },
    );
    html_response(&state, doc)
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

async fn docs(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
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
        &state,
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
