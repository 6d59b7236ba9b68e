//! Notifications: webhook subscriptions, the outbox (dead deliveries, resend) and a
//! dossier's SMS opt-out.

use super::paging;
use crate::auth::{AuthUser, Role};
use crate::db::models::outbox::{self, Delivery};
use crate::db::models::webhooks::{self, NewWebhook, Webhook};
use crate::db::models::{dossiers, Page};
use crate::db::now_utc;
use crate::domain::notify::webhook_event_types;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(r: &mut Routes) {
    r.post("/api/v1/webhooks", create_webhook)
        .get("/api/v1/webhooks", list_webhooks)
        .get("/api/v1/outbox", list_outbox)
        .post("/api/v1/outbox/{id}/resend", resend)
        .post("/api/v1/dossiers/{tracking_code}/sms-opt-out", sms_opt_out);
}

fn webhook_view(h: &Webhook) -> Value {
    json!({
        "id": h.id, "url": h.url, "events": h.event_list(), "active": h.active,
        "secret_set": !h.secret.is_empty(),
        "created_at": crate::timefmt::to_vn(h.created_at).to_rfc3339(),
    })
}

#[derive(Debug, Deserialize)]
struct WebhookBody {
    url: String,
    secret: String,
    events: Vec<String>,
}

async fn create_webhook(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<WebhookBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    let url = check.line("url", &b.url, 2000);
    if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
        check.push(
            "url",
            ErrorCode::ValidationFailed,
            "Địa chỉ phải bắt đầu bằng http:// hoặc https://",
        );
    }
    let secret = b.secret.trim().to_owned();
    if secret.len() < 16 || secret.len() > 200 {
        check.push(
            "secret",
            ErrorCode::ValidationFailed,
            "Khóa bí mật phải dài 16–200 ký tự",
        );
    }
    let allowed = webhook_event_types();
    if b.events.is_empty() {
        check.push(
            "events",
            ErrorCode::ValidationFailed,
            "Cần ít nhất một loại sự kiện",
        );
    }
    let mut events: Vec<String> = Vec::new();
    for (i, e) in b.events.iter().enumerate() {
        let e = e.trim();
        if !allowed.contains(&e) {
            check.push(
                &format!("events[{i}]"),
                ErrorCode::ValidationFailed,
                format!(
                    "Loại sự kiện không hợp lệ (cho phép: {})",
                    allowed.join(", ")
                ),
            );
        } else if !events.iter().any(|x| x == e) {
            events.push(e.to_owned());
        }
    }
    check.finish()?;
    let who = auth.id;
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            let id = webhooks::insert(
                c,
                &NewWebhook {
                    url,
                    secret,
                    events: events.join(","),
                    active: true,
                    created_by: Some(who),
                    created_at: now_utc(),
                },
            )?;
            let hook = webhooks::find(c, id)?.ok_or_else(|| ApiError::not_found("webhook"))?;
            Ok(webhook_view(&hook))
        },
    )
    .await
}

async fn list_webhooks(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let hooks = state.db.read(webhooks::list).await?;
    let items: Vec<Value> = hooks.iter().map(webhook_view).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": null})))
}

const OUTBOX_STATUSES: [&str; 5] = ["pending", "sending", "sent", "dead", "skipped"];

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    tracking_code: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn delivery_view(d: &Delivery) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let body = serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null);
        obj.insert("body".into(), body);
    }
    v
}

async fn list_outbox(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let q = q.into_inner();
    let (after, limit) = paging(q.limit, q.cursor.as_deref())?;
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status {
        if !OUTBOX_STATUSES.contains(&s.as_str()) {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("status phải là một trong: {}", OUTBOX_STATUSES.join(", ")),
            ));
        }
    }
    let code = q.tracking_code.map(|c| c.trim().to_uppercase());
    let page = state
        .db
        .read(move |c| -> Result<Page<Delivery>, ApiError> {
            let dossier_id = match code.as_deref().filter(|c| !c.is_empty()) {
                Some(code) => Some(
                    dossiers::find_by_code(c, code)?
                        .ok_or_else(|| ApiError::not_found("hồ sơ"))?
                        .id,
                ),
                None => None,
            };
            let rows = outbox::list(c, status.as_deref(), dossier_id, after, limit)?;
            Ok(Page::from_rows(rows, limit, |d| d.id))
        })
        .await?;
    let items: Vec<Value> = page.items.iter().map(delivery_view).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": page.next_cursor})))
}

async fn resend(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let id = id.into_inner();
    idempotency::write(&state, &auth, &req, "", StatusCode::OK, move |c| {
        let d = outbox::find(c, id)?.ok_or_else(|| ApiError::not_found("bản tin"))?;
        if !outbox::requeue(c, id, now_utc())? {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "Chỉ gửi lại được bản tin đã dừng (dead) hoặc bị bỏ qua (skipped); bản tin này đang ở trạng thái '{}'",
                    d.status
                ),
            ));
        }
        let d = outbox::find(c, id)?.ok_or_else(|| ApiError::not_found("bản tin"))?;
        Ok(delivery_view(&d))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct OptOutBody {
    opt_out: bool,
}

async fn sms_opt_out(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<OptOutBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Operator, Role::Dispatcher, Role::Admin])?;
    let digest = body.digest().to_owned();
    let opt_out = body.into_inner().opt_out;
    let code = code.into_inner().trim().to_uppercase();
    idempotency::write(&state, &auth, &req, &digest, StatusCode::OK, move |c| {
        let d = dossiers::find_by_code(c, &code)?.ok_or_else(|| ApiError::not_found("hồ sơ"))?;
        webhooks::set_sms_opt_out(c, d.id, opt_out, now_utc())?;
        Ok(json!({"tracking_code": d.tracking_code, "sms_opt_out": opt_out}))
    })
    .await
}
