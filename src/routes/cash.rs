//! Cash reconciliation (đối soát thu hộ) for dispatchers and admins: per courier and
//! day, the fees that should have been collected against what was recorded and what
//! the cashier counted at the shift-end hand-over; the hand-over itself; a CSV export.
//! A dispatcher sees and records the couriers of their own post office only.

use crate::auth::{AuthUser, Role};
use crate::db::models::cash::{self, NewHandover};
use crate::db::models::{couriers, users};
use crate::db::{now_utc, DbConnection};
use crate::domain::cash::{reconcile, totals, CashLine, Collection};
use crate::domain::reports::csv_document;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Json;
use crate::idempotency;
use crate::routing::Routes;
use crate::state::AppState;
use crate::timefmt::{to_vn, vn};
use crate::validate::Check;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, TimeZone};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/reports/cash", list)
        .get("/api/v1/reports/cash.csv", csv)
        .post("/api/v1/reports/cash/handovers", hand_over);
}

const ROLES: [Role; 2] = [Role::Dispatcher, Role::Admin];
/// The longest period one answer covers.
const MAX_DAYS: i64 = 92;

#[derive(Debug, Deserialize)]
struct Query {
    from: Option<String>,
    to: Option<String>,
    post_office_id: Option<i64>,
}

fn day_param(s: Option<&str>, what: &str) -> Result<Option<NaiveDate>, ApiError> {
    match s.map(str::trim) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("Tham số {what} phải là ngày dạng YYYY-MM-DD"),
                )
            }),
    }
}

fn today() -> NaiveDate {
    to_vn(now_utc()).date_naive()
}

/// The days `[from, to]` asked for (by default the last 7 up to today) and the post
/// office a dispatcher is held to.
fn period(auth: &AuthUser, q: &Query) -> Result<(NaiveDate, NaiveDate, Option<i64>), ApiError> {
    let to = day_param(q.to.as_deref(), "to")?.unwrap_or_else(today);
    let from = day_param(q.from.as_deref(), "from")?.unwrap_or(to - Duration::days(6));
    if from > to {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "Ngày bắt đầu (from) không được sau ngày kết thúc (to)",
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("Mỗi lần đối soát tối đa {MAX_DAYS} ngày"),
        ));
    }
    let office = match (auth.role, auth.post_office_id, q.post_office_id) {
        (Role::Dispatcher, Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::forbidden())
        }
        (Role::Dispatcher, Some(own), _) => Some(own),
        (_, _, asked) => asked,
    };
    Ok((from, to, office))
}

/// The start of a Vietnam day, as stored (naive UTC).
fn start_of(day: NaiveDate) -> chrono::NaiveDateTime {
    vn().from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

/// Each courier's name and post office, by courier id.
type Couriers = HashMap<i64, (String, i64)>;

/// The couriers of `office` (every office when `None`), with name and post office.
fn couriers_of(c: &mut DbConnection, office: Option<i64>) -> Result<Couriers, ApiError> {
    let mut names = HashMap::new();
    for k in couriers::list(c, office)? {
        let name = users::find(c, k.user_id)?
            .map(|u| u.full_name)
            .unwrap_or_default();
        names.insert(k.id, (name, k.post_office_id));
    }
    Ok(names)
}

/// The fee-bearing visits of days `[from, to]` by the couriers in `names`.
fn visits_of(
    c: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    names: &Couriers,
) -> Result<Vec<Collection>, ApiError> {
    let end = to.succ_opt().unwrap_or(to);
    Ok(cash::collections(c, start_of(from), start_of(end))?
        .into_iter()
        .filter(|v| names.contains_key(&v.courier_id))
        .collect())
}

/// Lines of days `[from, to]` for the couriers of `office` (every office when `None`),
/// with each courier's name and post office.
fn lines(
    c: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    office: Option<i64>,
) -> Result<(Vec<CashLine>, Couriers), ApiError> {
    let names = couriers_of(c, office)?;
    let visits = visits_of(c, from, to, &names)?;
    let handed: Vec<_> = cash::between(c, from, to)?
        .iter()
        .filter(|h| names.contains_key(&h.courier_id))
        .map(cash::Row::handover)
        .collect();
    Ok((reconcile(&visits, &handed), names))
}

/// The lines of the period asked for, rendered by `render` in a read transaction.
async fn with_lines<T: Send + 'static>(
    auth: &AuthUser,
    state: &AppState,
    q: &Query,
    render: impl FnOnce(NaiveDate, NaiveDate, Option<i64>, &[CashLine], &Couriers) -> T + Send + 'static,
) -> Result<T, ApiError> {
    auth.require(&ROLES)?;
    let (from, to, office) = period(auth, q)?;
    state
        .db
        .read(move |c| -> Result<T, ApiError> {
            let (lines, names) = lines(c, from, to, office)?;
            Ok(render(from, to, office, &lines, &names))
        })
        .await
}

fn line_json(l: &CashLine, names: &Couriers) -> Value {
    let (name, office) = names.get(&l.courier_id).cloned().unwrap_or_default();
    let mut v = serde_json::to_value(l).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("courier_name".into(), json!(name));
        o.insert("post_office_id".into(), json!(office));
        o.insert("status_label".into(), json!(l.status.label_vi()));
    }
    v
}

async fn list(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let body = with_lines(&auth, &state, &q, |from, to, office, lines, names| {
        json!({
            "from": from, "to": to, "post_office_id": office,
            "items": lines.iter().map(|l| line_json(l, names)).collect::<Vec<_>>(),
            "totals": totals(lines),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn csv(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let (name, doc) = with_lines(&auth, &state, &q, |from, to, _, lines, names| {
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                let h = l.handover.as_ref();
                vec![
                    l.day.format("%d/%m/%Y").to_string(),
                    names
                        .get(&l.courier_id)
                        .map(|n| n.0.clone())
                        .unwrap_or_default(),
                    l.collections.to_string(),
                    l.expected_postal_vnd.to_string(),
                    l.expected_agency_vnd.to_string(),
                    l.expected_vnd.to_string(),
                    l.collected_vnd.to_string(),
                    h.map(|h| h.amount_vnd.to_string()).unwrap_or_default(),
                    l.handover_gap_vnd
                        .map(|g| g.to_string())
                        .unwrap_or_default(),
                    l.status.label_vi().to_owned(),
                    h.map(|h| h.cashier_name.clone()).unwrap_or_default(),
                    h.map(|h| h.recorded_at.clone()).unwrap_or_default(),
                    h.and_then(|h| h.note.clone()).unwrap_or_default(),
                ]
            })
            .collect();
        let doc = csv_document(
            &[
                "Ngày",
                "Bưu tá",
                "Số lượt thu",
                "Cước phải thu (đồng)",
                "Lệ phí thu hộ phải thu (đồng)",
                "Tổng phải thu (đồng)",
                "Bưu tá ghi đã thu (đồng)",
                "Thủ quỹ nhận (đồng)",
                "Chênh lệch (đồng)",
                "Trạng thái",
                "Thủ quỹ",
                "Thời điểm nộp",
                "Ghi chú",
            ],
            &rows,
        );
        (format!("doi-soat-thu-ho-{from}-{to}.csv"), doc)
    })
    .await?;
    Ok(super::reports::csv_attachment(&name, doc))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoverBody {
    courier_id: i64,
    day: NaiveDate,
    amount_vnd: i64,
    cashier_name: String,
    note: Option<String>,
}

/// Records the cash a courier handed to the cashier for a day (201), once: a second
/// hand-over of the same day is 409 and changes nothing.
async fn hand_over(
    req: HttpRequest,
    auth: AuthUser,
    state: web::Data<AppState>,
    body: Json<HandoverBody>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let digest = body.digest().to_owned();
    let b = body.into_inner();
    let mut check = Check::new();
    check.range("amount_vnd", b.amount_vnd, 0, 1_000_000_000);
    let cashier = check.line("cashier_name", &b.cashier_name, 100);
    let note = check.opt_line("note", b.note.as_deref(), 500);
    if b.day > today() {
        check.push(
            "day",
            ErrorCode::ValidationFailed,
            "Chưa đến ngày này nên chưa nộp tiền được",
        );
    }
    check.finish()?;
    let who = auth.clone();
    idempotency::write(
        &state,
        &auth,
        &req,
        &digest,
        StatusCode::CREATED,
        move |c| {
            let courier =
                couriers::find(c, b.courier_id)?.ok_or_else(|| ApiError::not_found("bưu tá"))?;
            if who.role == Role::Dispatcher && who.post_office_id != Some(courier.post_office_id) {
                return Err(ApiError::forbidden());
            }
            let user = users::find(c, courier.user_id)?;
            let names: Couriers = HashMap::from([(
                courier.id,
                (
                    user.map(|u| u.full_name).unwrap_or_default(),
                    courier.post_office_id,
                ),
            )]);
            let visits = visits_of(c, b.day, b.day, &names)?;
            let collected = reconcile(&visits, &[])
                .first()
                .map_or(0, |l| l.collected_vnd);
            let fresh = cash::insert(
                c,
                &NewHandover {
                    courier_id: courier.id,
                    day: b.day,
                    amount_vnd: b.amount_vnd,
                    collected_vnd: collected,
                    cashier_name: cashier,
                    note,
                    recorded_by: who.id,
                    recorded_at: now_utc(),
                },
            )?;
            if !fresh {
                let had = cash::find(c, courier.id, b.day)?;
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "Bưu tá này đã nộp tiền ngày {}{}; mỗi ngày chỉ ghi nhận một lần",
                        b.day.format("%d/%m/%Y"),
                        had.map(|h| format!(
                            " ({} đồng, thủ quỹ {})",
                            h.amount_vnd, h.cashier_name
                        ))
                        .unwrap_or_default()
                    ),
                ));
            }
            let handed = cash::find(c, courier.id, b.day)?
                .ok_or_else(|| ApiError::internal("hand-over just recorded"))?;
            let after = reconcile(&visits, &[handed.handover()]);
            let line = after
                .first()
                .ok_or_else(|| ApiError::internal("hand-over line"))?;
            Ok(line_json(line, &names))
        },
    )
    .await
}
