//! Static files of the pages, compiled into the binary. URLs carry a version (a
//! hash of all the files) so browsers may keep them for a year; the courier's
//! service worker is stamped with the same version so a new build replaces it.
//!
//! For work on the pages, a debug build reads the files from `BUUTA_ASSETS_DIR`
//! (e.g. `static/`) on every request when that variable is set.

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::OnceLock;

/// `(name, content type, contents)` of every file.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "courier.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/courier.js"),
    ),
    (
        "courier.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/courier.css"),
    ),
    (
        "operator.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/operator.css"),
    ),
    (
        "dispatch.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/dispatch.css"),
    ),
    (
        "desk.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/desk.css"),
    ),
    (
        "operator.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/operator.js"),
    ),
    (
        "dispatch.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/dispatch.js"),
    ),
    (
        "desk.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/desk.js"),
    ),
    (
        "track.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/track.js"),
    ),
    (
        "reports.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/reports.js"),
    ),
    (
        "reports.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/reports.css"),
    ),
    (
        "docs.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/docs.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../static/icon.svg"),
    ),
];

const WORKER: &str = include_str!("../../static/courier-sw.js");
const MANIFEST: &str = include_str!("../../static/courier.webmanifest");

/// The version of this build's files: the first 12 hex digits of their hash.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for (name, _, body) in FILES {
            h.update(name.as_bytes());
            h.update(body);
        }
        h.update(WORKER.as_bytes());
        hex::encode(h.finalize())[..12].to_owned()
    })
}

/// The URL of a static file, with the version.
pub fn url(name: &str) -> String {
    format!("/static/{name}?v={}", version())
}

/// Names of all static files (the service worker caches them for offline use).
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(n, _, _)| *n)
}

fn dev_override(name: &str) -> Option<Vec<u8>> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let dir = std::env::var_os("BUUTA_ASSETS_DIR")?;
    std::fs::read(std::path::Path::new(&dir).join(name)).ok()
}

fn body_of(name: &str, builtin: &'static [u8]) -> Cow<'static, [u8]> {
    match dev_override(name) {
        Some(bytes) => Cow::Owned(bytes),
        None => Cow::Borrowed(builtin),
    }
}

/// `GET /static/{name}`.
pub async fn serve(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (name, ctype, builtin) = FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| ApiError::not_found("tệp"))?;
    let versioned =
        req.query_string() == format!("v={}", version()) && dev_override(name).is_none();
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(HttpResponse::Ok()
        .content_type(*ctype)
        .insert_header(("Cache-Control", cache))
        .body(body_of(name, builtin).into_owned()))
}

/// `GET /courier/sw.js`: the courier app's service worker, stamped with the version
/// and the list of files to keep offline.
pub async fn courier_worker() -> HttpResponse {
    let files: Vec<String> = names().map(url).collect();
    let source = String::from_utf8_lossy(&body_of("courier-sw.js", WORKER.as_bytes())).into_owned();
    let source = source.replace("__VERSION__", version()).replace(
        "__FILES__",
        &serde_json::to_string(&files).unwrap_or_else(|_| "[]".into()),
    );
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("Service-Worker-Allowed", "/courier"))
        .body(source)
}

/// `GET /favicon.ico`: browsers ask for it on their own; they get the SVG icon.
pub async fn favicon() -> HttpResponse {
    let icon = FILES
        .iter()
        .find(|(n, _, _)| *n == "icon.svg")
        .map(|(_, _, b)| *b)
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(body_of("icon.svg", icon).into_owned())
}

/// `GET /courier/manifest.webmanifest`.
pub async fn courier_manifest() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/manifest+json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body_of("courier.webmanifest", MANIFEST.as_bytes()).into_owned())
}
