//! The API reference, rendered on the server from `api-spec/openapi.yaml` (no CDN,
//! no script), the raw spec, and the landing page.

use crate::error::ApiError;
use crate::pages::{assets, html_response};
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use maud::html;
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
    crate::pages::public_page(
        &state,
        actix_web::http::StatusCode::OK,
        "Buuta — Bưu chính công ích",
        "index",
        "Bưu chính công ích",
        html! {
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
    )
}

async fn docs(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let doc = crate::pages::layout(
        "Tài liệu API — Buuta",
        "docs",
        html! { link rel="stylesheet" href=(assets::url("docs.css")); },
        crate::pages::reference::page(spec()),
    );
    Ok(html_response(&state, doc))
}

async fn spec_yaml() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
