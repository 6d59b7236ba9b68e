//! The API reference at `/docs`, rendered on the server from `api-spec/openapi.yaml`:
//! a table of contents by tag, every operation with who may call it, its parameters,
//! body and answers (shared answers and parameters resolved), and every schema with
//! its fields. Descriptions are Markdown ([`super::markdown`]); no script, no CDN.

use super::markdown::{render, render_inline};
use crate::routes::access::{self, Access};
use maud::{html, Markup};
use serde_json::{Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => spec.pointer(pointer).unwrap_or(v),
        None => v,
    }
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")
        .and_then(Value::as_str)
        .map(|r| r.rsplit('/').next().unwrap_or(r))
}

fn anchor(op: &Value, method: &str, path: &str) -> String {
    match op.get("operationId").and_then(Value::as_str) {
        Some(id) => format!("op-{id}"),
        None => format!("op-{method}-{}", path.replace(['/', '{', '}'], "-")),
    }
}

/// A schema's type in a line: links to named schemas, arrays, unions, enums, formats.
fn type_of(v: &Value) -> Markup {
    if let Some(name) = ref_name(v) {
        return html! { a href={"#schema-" (name)} { code { (name) } } };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = v.get(key).and_then(Value::as_array) {
            return html! {
                @for (i, alt) in alts.iter().enumerate() {
                    @if i > 0 { " | " }
                    (type_of(alt))
                }
            };
        }
    }
    if let Some(all) = v.get("allOf").and_then(Value::as_array) {
        return html! {
            @for (i, part) in all.iter().enumerate() {
                @if i > 0 { " & " }
                (type_of(part))
            }
        };
    }
    let types: Vec<&str> = match v.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if v.get("properties").is_some() => vec!["object"],
        _ => vec![],
    };
    html! {
        @if types.is_empty() { "bất kỳ" }
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " | " }
            @if *t == "array" {
                "mảng " (v.get("items").map(type_of).unwrap_or_else(|| html! { "bất kỳ" }))
            } @else {
                code { (t) }
            }
        }
        @if let Some(f) = v.get("format").and_then(Value::as_str) { " (" (f) ")" }
    }
}

/// Constraints worth knowing beside a field: allowed values, lengths, bounds, default.
fn constraints(v: &Value) -> Markup {
    let mut parts: Vec<String> = Vec::new();
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        let list: Vec<String> = values
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect();
        parts.push(format!("một trong: {}", list.join(", ")));
    }
    for (key, label) in [
        ("minLength", "ít nhất {} ký tự"),
        ("maxLength", "tối đa {} ký tự"),
        ("minimum", "nhỏ nhất {}"),
        ("maximum", "lớn nhất {}"),
        ("minItems", "ít nhất {} phần tử"),
        ("maxItems", "tối đa {} phần tử"),
        ("default", "mặc định {}"),
    ] {
        if let Some(x) = v.get(key) {
            parts.push(label.replace("{}", &x.to_string()));
        }
    }
    html! {
        @if !parts.is_empty() { span.constraints { (parts.join("; ")) } }
    }
}

/// The field table of an object schema (`properties`), if it has any.
fn fields(spec: &Value, schema: &Value) -> Markup {
    let schema = resolve(spec, schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return html! {};
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    html! {
        table.fields {
            thead { tr { th { "Trường" } th { "Kiểu" } th { "Mô tả" } } }
            tbody {
                @for (name, f) in props {
                    tr {
                        td {
                            code { (name) }
                            @if required.contains(&name.as_str()) { " " span.req title="bắt buộc" { "bắt buộc" } }
                        }
                        td { (type_of(f)) }
                        td { (render(text(f, "description"))) (constraints(f)) }
                    }
                }
            }
        }
    }
}

fn who(method: &str, path: &str, op: &Value) -> Markup {
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.is_empty());
    let rule = access::of(&method.to_uppercase(), path);
    html! {
        p.who {
            @match (public, rule) {
                (true, _) | (_, Some(Access::Public)) => { "Không cần đăng nhập." }
                (_, Some(Access::Staff)) => { "Cần đăng nhập: mọi tài khoản cán bộ." }
                (_, Some(Access::Roles(roles))) => {
                    "Cần đăng nhập, vai trò: "
                    @for (i, r) in roles.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (r.as_str()) }
                    }
                    "."
                }
                (_, None) => { "Cần đăng nhập." }
            }
        }
    }
}

fn place(location: &str) -> &str {
    match location {
        "path" => "đường dẫn",
        "query" => "truy vấn",
        "header" => "tiêu đề",
        "cookie" => "cookie",
        other => other,
    }
}

fn operation(spec: &Value, method: &str, path: &str, op: &Value) -> Markup {
    let params: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(|p| resolve(spec, p)).collect())
        .unwrap_or_default();
    let body = op.get("requestBody").map(|b| resolve(spec, b));
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    html! {
        section.op id=(anchor(op, method, path)) {
            h3 {
                span class={"m " (method)} { (method.to_uppercase()) } " "
                code.path { (path) }
            }
            @if !text(op, "summary").is_empty() { p.summary { (render_inline(text(op, "summary"))) } }
            (who(method, path, op))
            (render(text(op, "description")))
            @if !params.is_empty() {
                h4 { "Tham số" }
                table.fields {
                    thead { tr { th { "Tên" } th { "Ở đâu" } th { "Kiểu" } th { "Mô tả" } } }
                    tbody {
                        @for p in &params {
                            tr {
                                td {
                                    code { (text(p, "name")) }
                                    @if p.get("required").and_then(Value::as_bool) == Some(true) { " " span.req { "bắt buộc" } }
                                }
                                td { (place(text(p, "in"))) }
                                td { (p.get("schema").map(type_of).unwrap_or_default()) }
                                td {
                                    (render(text(p, "description")))
                                    @if let Some(s) = p.get("schema") { (constraints(s)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(b) = body {
                h4 { "Nội dung gửi" @if b.get("required").and_then(Value::as_bool) != Some(true) { " (không bắt buộc)" } }
                (render(text(b, "description")))
                @if let Some(content) = b.get("content").and_then(Value::as_object) {
                    @for (ctype, media) in content {
                        p { code { (ctype) } @if let Some(s) = media.get("schema") { " — " (type_of(s)) } }
                        @if let Some(s) = media.get("schema") { (fields(spec, s)) }
                    }
                }
            }
            h4 { "Trả về" }
            table.responses {
                thead { tr { th { "Mã" } th { "Ý nghĩa" } th { "Nội dung" } } }
                tbody {
                    @for (status, r) in &responses {
                        @let r = resolve(spec, r);
                        tr {
                            td { code.status { (status) } }
                            td { (render(text(r, "description"))) }
                            td {
                                @if let Some(content) = r.get("content").and_then(Value::as_object) {
                                    @for (ctype, media) in content {
                                        div { code { (ctype) } @if let Some(s) = media.get("schema") { " " (type_of(s)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One operation: method, path, the operation object.
type Op = (String, String, Value);
/// A tag: name, description, its operations.
type Group = (String, String, Vec<Op>);

/// Operations grouped by their first tag, in the spec's tag order (untagged last).
fn by_tag(spec: &Value) -> Vec<Group> {
    let mut groups: Vec<Group> = spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| {
                    (
                        text(t, "name").to_owned(),
                        text(t, "description").to_owned(),
                        Vec::new(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let empty = Map::new();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op
                .pointer("/tags/0")
                .and_then(Value::as_str)
                .unwrap_or("khác")
                .to_owned();
            let entry = (method.to_owned(), path.clone(), op.clone());
            match groups.iter_mut().find(|g| g.0 == tag) {
                Some(g) => g.2.push(entry),
                None => groups.push((tag, String::new(), vec![entry])),
            }
        }
    }
    groups.retain(|g| !g.2.is_empty());
    groups
}

/// The whole reference page body.
pub fn page(spec: &Value) -> Markup {
    let groups = by_tag(spec);
    let empty = Map::new();
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let info = spec.get("info").cloned().unwrap_or(Value::Null);
    html! {
        header.top {
            a.brand href="/" { "Buuta" }
            span.app-title { "Tài liệu API" }
        }
        div.docs-layout {
            nav.toc #toc aria-label="Mục lục" {
                details open {
                    summary { "Mục lục" }
                    ol {
                        li { a href="#overview" { "Quy ước chung" } }
                        @for (tag, _, ops) in &groups {
                            li {
                                a href={"#tag-" (tag)} { (tag) }
                                ol {
                                    @for (method, path, op) in ops {
                                        li {
                                            a href={"#" (anchor(op, method, path))} {
                                                span class={"m " (method)} { (method.to_uppercase()) } " " (path)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        li {
                            a href="#schemas" { "Lược đồ dữ liệu" }
                            ol.schema-index {
                                @for name in schemas.keys() {
                                    li { a href={"#schema-" (name)} { (name) } }
                                }
                            }
                        }
                    }
                }
            }
            main.reference {
                h1 { (text(&info, "title")) " " small { (text(&info, "version")) } }
                section #overview {
                    (render(text(&info, "description")))
                    @if let Some(schemes) = spec.pointer("/components/securitySchemes").and_then(Value::as_object) {
                        h2 { "Xác thực" }
                        @for (name, s) in schemes {
                            p { code { (name) } ": " (text(s, "scheme")) " " (text(s, "bearerFormat")) }
                            (render(text(s, "description")))
                        }
                    }
                    p { "Bản đặc tả đầy đủ (OpenAPI 3.1): " a href="/api-spec/openapi.yaml" { "openapi.yaml" } }
                }
                @for (tag, description, ops) in &groups {
                    section.tag id={"tag-" (tag)} {
                        h2 { (tag) }
                        (render(description))
                        @for (method, path, op) in ops { (operation(spec, method, path, op)) }
                    }
                }
                section #schemas {
                    h2 { "Lược đồ dữ liệu" }
                    @for (name, s) in schemas {
                        section.schema id={"schema-" (name)} {
                            h3 { code { (name) } " " span.kind { (type_of(s)) } }
                            (render(text(s, "description")))
                            (constraints(s))
                            (fields(spec, s))
                        }
                    }
                }
            }
        }
    }
}
