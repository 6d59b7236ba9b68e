//! The public tracking page: rendered on the server from the same view as
//! `GET /api/v1/track/{code}`, readable without JavaScript on a small phone. The
//! receipt's QR code lands on `/track/{code}`.

use crate::error::ApiError;
use crate::routes::track::lookup;
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::DateTime;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

pub fn routes(r: &mut Routes) {
    r.get("/track", search)
        .get("/track/{tracking_code}", show)
        .post("/track/{tracking_code}", show_with_phone);
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    code: Option<String>,
}

/// The steps a dossier goes through, in order, as the citizen sees them.
const STEPS: [(&str, &str); 6] = [
    ("requested", "Tiếp nhận"),
    ("picked_up", "Đã lấy hồ sơ"),
    ("at_agency", "Tại cơ quan"),
    ("result_ready", "Có kết quả"),
    ("out_for_delivery", "Đang giao"),
    ("completed", "Hoàn thành"),
];

fn step_index(status: &str) -> usize {
    match status {
        "requested" | "scheduled" | "cancelled" => 0,
        "picked_up" | "in_transit" => 1,
        "at_agency" | "supplement_required" => 2,
        "result_ready" => 3,
        "out_for_delivery" => 4,
        _ => 5,
    }
}

/// "2026-11-23T08:30:00+07:00" → "08:30 23/11/2026".
fn when(v: &Value) -> String {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// A window `{from, to}` → "08:00–11:00 23/11/2026".
fn window(v: &Value) -> Option<String> {
    let from = DateTime::parse_from_rfc3339(v.get("from")?.as_str()?).ok()?;
    let to = DateTime::parse_from_rfc3339(v.get("to")?.as_str()?).ok()?;
    Some(format!(
        "{}–{} {}",
        from.format("%H:%M"),
        to.format("%H:%M"),
        from.format("%d/%m/%Y")
    ))
}

fn search_form(code: &str) -> Markup {
    html! {
        form.track-form method="get" action="/track" {
            label for="code" { "Mã hồ sơ" }
            input #code.big-input name="code" value=(code) autocomplete="off" autocapitalize="characters"
                spellcheck="false" placeholder="HS000000178VN" required maxlength="20";
            button.primary type="submit" { "Tra cứu" }
        }
    }
}

fn page(state: &AppState, status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    super::public_page(
        state,
        status,
        title,
        "track",
        "Tra cứu hồ sơ",
        html! {
            main.narrow { (body) }
            script src=(super::assets::url("track.js")) {}
        },
    )
}

async fn search(state: web::Data<AppState>, q: web::Query<SearchQuery>) -> HttpResponse {
    match q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            let code = code.to_uppercase();
            // Keep the address bar shareable: /track?code=X → /track/X.
            HttpResponse::SeeOther()
                .insert_header(("Location", format!("/track/{}", urlencode(&code))))
                .finish()
        }
        None => page(
            &state,
            StatusCode::OK,
            "Tra cứu hồ sơ — Buuta",
            html! {
                h1 { "Tra cứu tình trạng hồ sơ" }
                p { "Nhập mã hồ sơ in trên biên nhận (ví dụ HS000000178VN) để xem hồ sơ đang ở đâu." }
                (search_form(""))
            },
        ),
    }
}

/// Percent-encodes what is not a letter or digit (codes are ASCII; this keeps odd input harmless).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> HttpResponse {
    answer(&req, &state, code.into_inner(), None).await
}

/// `POST /track/{code}` from the page's form: the phone digits travel in the body,
/// never in the address bar, the history or an access log.
async fn show_with_phone(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let digits = form_field(&body, "phone_last4");
    answer(&req, &state, code.into_inner(), digits).await
}

/// One field of an `application/x-www-form-urlencoded` body, as plain ASCII (the only
/// field read is four digits; anything else is left for `lookup` to ignore).
fn form_field(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

async fn answer(
    req: &HttpRequest,
    state: &AppState,
    code: String,
    digits: Option<String>,
) -> HttpResponse {
    let code = code.to_uppercase();
    match lookup(req, state, &code, digits.as_deref()).await {
        Ok(v) => page(
            state,
            StatusCode::OK,
            &format!("{code} — Tra cứu hồ sơ"),
            details(&v, digits.as_deref()),
        ),
        Err(e) => failure(state, &code, &e),
    }
}

fn failure(state: &AppState, code: &str, e: &ApiError) -> HttpResponse {
    let status = e.status_code();
    let mut res = page(
        state,
        status,
        "Không tra cứu được — Buuta",
        html! {
            h1 { "Tra cứu tình trạng hồ sơ" }
            p.error role="alert" {
                @match status.as_u16() {
                    404 => { "Không tìm thấy hồ sơ có mã " strong { (code) } ". Hãy kiểm tra lại mã trên biên nhận." }
                    400 => { "Mã tra cứu không đúng. Mã gồm 13 ký tự in trên biên nhận, ví dụ HS000000178VN." }
                    _ => { (e.detail) }
                }
            }
            @if matches!(status.as_u16(), 400 | 404) {
                (hotline_line())
            }
            (search_form(code))
        },
    );
    if let Some(secs) = e.retry_after_secs {
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(secs),
        );
    }
    res
}

fn hotline_line() -> Markup {
    html! {
        p.hotline {
            "Cần hỗ trợ, gọi tổng đài "
            a href={"tel:" (super::HOTLINE.replace(' ', ""))} { strong { (super::HOTLINE) } }
            " (giờ hành chính)."
        }
    }
}

/// Where the result is and when it comes, once the agency has decided.
fn result_facts(v: &Value) -> Markup {
    let r = &v["result_return"];
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    html! {
        @match r["method"].as_str() {
            Some("home") => {
                @if let Some(w) = window(&r["window"]) {
                    dt { "Hẹn giao kết quả" } dd #return-when { (w) }
                } @else if !r["expected_by"].is_null() {
                    dt { "Giao kết quả tận nhà trước" } dd #return-when { (when(&r["expected_by"])) }
                }
            }
            Some("counter") => {
                dt { "Nhận kết quả tại quầy" }
                dd #return-where {
                    (text("place"))
                    @if !text("address").is_empty() { br; span.muted { (text("address")) } }
                    @if !text("opening_hours").is_empty() { br; span.muted { "Giờ làm việc: " (text("opening_hours")) } }
                }
            }
            Some("post_office") => {
                dt { "Nhận kết quả tại bưu cục" }
                dd #return-where {
                    @if text("place").is_empty() { "Bưu cục phụ trách (gọi tổng đài để biết địa chỉ)" } @else { (text("place")) }
                    @if !text("address").is_empty() { br; span.muted { (text("address")) } }
                }
            }
            _ => {}
        }
    }
}

fn details(v: &Value, digits: Option<&str>) -> Markup {
    let code = v["tracking_code"].as_str().unwrap_or_default();
    let status = v["status"].as_str().unwrap_or_default();
    let current = step_index(status);
    let timeline = v["timeline"].as_array().cloned().unwrap_or_default();
    html! {
        h1.code-title { (code) }
        p.status-badge data-status=(status) { (v["status_label"].as_str().unwrap_or_default()) }
        @if status != "cancelled" {
            ol.steps aria-label="Các bước của hồ sơ" {
                @for (i, (_, label)) in STEPS.iter().enumerate() {
                    li class=(if i < current { "done" } else if i == current { "current" } else { "" })
                        aria-current=[(i == current).then_some("step")] { (label) }
                }
            }
        }
        @if let Some(f) = v["last_failure"].as_object() {
            div.notice.warn #last-failure role="status" {
                p {
                    strong {
                        @if f.get("task").and_then(Value::as_str) == Some("deliver") { "Chưa giao được kết quả" } @else { "Bưu tá chưa lấy được hồ sơ" }
                        @if !f["at"].is_null() { " lúc " (when(&f["at"])) }
                    }
                    br;
                    "Lý do: " (f.get("reason_label").and_then(Value::as_str).unwrap_or_default())
                }
                p { (f.get("next_step").and_then(Value::as_str).unwrap_or_default()) }
                p { a.button href={"tel:" (super::HOTLINE.replace(' ', ""))} { "Gọi " (super::HOTLINE) " để hẹn lại" } }
            }
        }
        dl.facts {
            @if let Some(p) = v["procedure_name"].as_str().filter(|p| !p.is_empty()) {
                dt { "Thủ tục" } dd #procedure-name { (p) }
            }
            dt { "Cơ quan giải quyết" } dd { (v["agency_name"].as_str().unwrap_or_default()) }
            @if matches!(status, "requested" | "scheduled" | "supplement_required") {
                @if let Some(w) = window(&v["pickup_window"]) {
                    dt { "Hẹn lấy hồ sơ" } dd #pickup-when { (w) }
                }
            }
            @if let Some(o) = v["outcome"].as_str() {
                dt { "Kết quả giải quyết" }
                dd #outcome { @if o == "rejected" { "Không được chấp thuận (kèm văn bản nêu lý do)" } @else { "Được chấp thuận" } }
            }
            (result_facts(v))
            @if !v["eta"].is_null() {
                dt { "Bưu tá dự kiến đến" } dd { (when(&v["eta"])) }
            }
            @if let Some(name) = v["citizen_name_masked"].as_str() {
                dt { "Người gửi" } dd { (name) }
                dt { "Địa chỉ" } dd { (v["address_masked"].as_str().unwrap_or_default()) }
            }
        }
        h2 { "Hành trình" }
        ol.timeline {
            @for e in timeline.iter().rev() {
                li {
                    time datetime=(e["at"].as_str().unwrap_or_default()) { (when(&e["at"])) }
                    span.label { (e["label"].as_str().unwrap_or_default()) }
                    @if let Some(place) = e["place"].as_str() { span.place { (place) } }
                }
            }
        }
        @if v.get("citizen_name_masked").is_none() {
            form.phone-form method="post" action={"/track/" (code)} {
                label for="phone_last4" { "4 số cuối điện thoại người gửi (để xem thêm thông tin)" }
                input #phone_last4 name="phone_last4" inputmode="numeric" pattern="[0-9]{4}" maxlength="4"
                    autocomplete="off" value=(digits.unwrap_or_default());
                button type="submit" { "Xem" }
                @if digits.is_some() {
                    p.hint { "Số điện thoại không khớp với hồ sơ." }
                }
            }
        }
        (hotline_line())
        p { a href="/track" { "Tra cứu mã khác" } }
    }
}
