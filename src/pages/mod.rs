//! The pages: one small shared stylesheet and script of our own, a script per page,
//! and server-rendered shells (maud escapes everything it prints). Everything is
//! compiled into the binary; nothing loads from another host.

pub mod assets;
pub mod markdown;
pub mod reference;
pub mod track;

use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use maud::{html, Markup, DOCTYPE};

pub fn routes(r: &mut Routes) {
    r.get("/static/{name}", assets::serve)
        .get("/courier/sw.js", assets::courier_worker)
        .get("/courier/manifest.webmanifest", assets::courier_manifest)
        .get("/courier", courier)
        .get("/operator", operator)
        .get("/dispatch", dispatch)
        .get("/desk", desk)
        .get("/reports", reports)
        .get("/favicon.ico", assets::favicon);
    track::routes(r);
}

/// The Content-Security-Policy of every page: our own scripts and styles only, no
/// inline code, no framing; images may also come from the configured map tiles.
pub fn content_security_policy(tile_origin: Option<&str>) -> String {
    let tiles = tile_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// An HTML answer with the page headers (CSP, no framing).
pub fn html_response(state: &AppState, doc: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            content_security_policy(state.settings.tile_origin().as_deref()),
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(doc.into_string())
}

/// The document around every page.
pub fn layout(title: &str, page: &str, head_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="theme-color" content="#b30000";
                title { (title) }
                link rel="stylesheet" href=(assets::url("app.css"));
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
                (head_extra)
            }
            body data-page=(page) { (body) }
        }
    }
}

/// The support hotline printed where a citizen may need a person.
pub const HOTLINE: &str = "1900 54 54 81";

/// A page anyone may open (no sign-in): the brand bar with `app_title`, then `main`
/// in the narrow column, answered with `status`.
pub fn public_page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    title: &str,
    page: &str,
    app_title: &str,
    main: Markup,
) -> HttpResponse {
    let doc = layout(
        title,
        page,
        html! {},
        html! {
            header.top {
                a.brand href="/" { "Buuta" }
                span.app-title { (app_title) }
            }
            (main)
        },
    );
    let mut res = html_response(state, doc);
    *res.status_mut() = status;
    res
}

/// The page a browser gets for an unknown address: 404, in Vietnamese, with the way on.
pub fn not_found(state: &AppState) -> HttpResponse {
    public_page(
        state,
        actix_web::http::StatusCode::NOT_FOUND,
        "Không tìm thấy trang — Buuta",
        "not-found",
        "Bưu chính công ích",
        html! {
            main.narrow #not-found {
                h1 { "Không tìm thấy trang" }
                p { "Địa chỉ này không có trên Buuta. Có thể đường dẫn bị gõ sai hoặc đã cũ." }
                ul.list {
                    li { a href="/" { "Trang chủ" } }
                    li { a href="/track" { "Tra cứu hồ sơ bằng mã trên biên nhận" } }
                }
                p.muted { "Cần hỗ trợ, gọi tổng đài " strong { (HOTLINE) } "." }
            }
        },
    )
}

/// A staff application: header, a `main` the page script fills, the scripts.
fn app_shell(state: &AppState, title: &str, page: &str, head_extra: Markup) -> HttpResponse {
    let tile_url = state.settings.tile_url.clone().unwrap_or_default();
    let doc = layout(
        title,
        page,
        html! {
            link rel="stylesheet" href=(assets::url(&format!("{page}.css")));
            (head_extra)
        },
        html! {
            header.top {
                a.brand href="/" { "Buuta" }
                span.app-title { (title) }
                span #net.net hidden { "Mất kết nối" }
                span #who.who {}
            }
            main #app data-tile-url=(tile_url) aria-live="polite" {
                p.loading { "Đang tải…" }
            }
            noscript { p.error { "Trang này cần JavaScript. Hãy bật JavaScript trong trình duyệt." } }
            div #toast.toast role="status" aria-live="polite" {}
            script src=(assets::url("app.js")) {}
            script src=(assets::url(&format!("{page}.js"))) {}
        },
    );
    html_response(state, doc)
}

async fn courier(state: web::Data<AppState>) -> HttpResponse {
    app_shell(
        &state,
        "Bưu tá",
        "courier",
        html! { link rel="manifest" href="/courier/manifest.webmanifest"; },
    )
}

async fn operator(state: web::Data<AppState>) -> HttpResponse {
    app_shell(&state, "Tổng đài tiếp nhận", "operator", html! {})
}

async fn dispatch(state: web::Data<AppState>) -> HttpResponse {
    app_shell(&state, "Điều phối", "dispatch", html! {})
}

async fn desk(state: web::Data<AppState>) -> HttpResponse {
    app_shell(&state, "Bộ phận một cửa", "desk", html! {})
}

async fn reports(state: web::Data<AppState>) -> HttpResponse {
    app_shell(&state, "Báo cáo", "reports", html! {})
}
