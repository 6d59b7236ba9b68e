//! Reports for dispatchers and admins: the summary, the dossier CSV and SVG charts.
//! Figures are computed in Rust over the fetched rows (`domain::reports`), so SQLite
//! and PostgreSQL give the same answers.

use crate::auth::{AuthUser, Role};
use crate::db::models::complaints;
use crate::db::models::dossiers::Dossier;
use crate::db::models::{agencies, events, holidays, reports as store};
use crate::db::{now_utc, DbConnection};
use crate::domain::deadlines::{DeadlinePolicy, WorkCalendar};
use crate::domain::dossier::DossierStatus;
use crate::domain::reports::{
    bar_chart_svg, csv_document, lead_time_histogram, on_time_by_week, summarize, DossierFacts,
};
use crate::error::{ApiError, ErrorCode};
use crate::routing::Routes;
use crate::state::AppState;
use crate::timefmt::{to_vn, vn};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/reports/summary", summary)
        .get("/api/v1/reports/dossiers.csv", csv)
        .get("/api/v1/reports/charts/{name}.svg", chart);
}

const ROLES: [Role; 2] = [Role::Dispatcher, Role::Admin];

#[derive(Debug, Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
    agency_id: Option<i64>,
    post_office_id: Option<i64>,
}

fn bad(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("Tham số {what} phải là ngày YYYY-MM-DD hoặc thời điểm RFC 3339"),
    )
}

/// A bound: a local date (its start; for `to`, the next day's start, so the day is
/// included) or an RFC 3339 time.
fn bound(s: &str, what: &str, end: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad(what))?;
    let day = if end {
        day.succ_opt().ok_or_else(|| bad(what))?
    } else {
        day
    };
    vn().from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.naive_utc())
        .ok_or_else(|| bad(what))
}

impl Period {
    /// `[from, to)`; by default the last 30 days.
    fn range(&self) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
        let to = match self.to.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => bound(s.trim(), "to", true)?,
            None => now_utc() + chrono::Duration::seconds(1),
        };
        let from = match self.from.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => bound(s.trim(), "from", false)?,
            None => to - chrono::Duration::days(30),
        };
        if from >= to {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "from phải trước to"));
        }
        Ok((from, to))
    }
}

/// The dossiers of the period (and filters) with their facts.
fn load(
    c: &mut DbConnection,
    p: &Period,
) -> Result<(Vec<Dossier>, Vec<DossierFacts>, WorkCalendar), ApiError> {
    let (from, to) = p.range()?;
    let ds = store::dossiers_between(c, from, to, p.agency_id)?;
    let facts = store::facts(c, &ds)?;
    let (ds, facts): (Vec<_>, Vec<_>) = ds
        .into_iter()
        .zip(facts)
        .filter(|(_, f)| p.post_office_id.is_none() || f.post_office_id == p.post_office_id)
        .unzip();
    let calendar = WorkCalendar::new(holidays::list(c)?.into_iter().map(|h| h.day));
    Ok((ds, facts, calendar))
}

async fn summary(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<Period>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let p = q.into_inner();
    let body = state
        .db
        .read(move |c| -> Result<serde_json::Value, ApiError> {
            let (from, to) = p.range()?;
            let (ds, facts, calendar) = load(c, &p)?;
            let now = now_utc();
            let s = summarize(&facts, &calendar, &DeadlinePolicy::default(), now);
            let ids: std::collections::HashSet<i64> = ds.iter().map(|d| d.id).collect();
            let cs: Vec<_> = complaints::received_between(c, from, to)?
                .into_iter()
                .filter(|x| p.agency_id.is_none() && p.post_office_id.is_none() || ids.contains(&x.dossier_id))
                .collect();
            let open = cs.iter().filter(|x| x.status == "open").count();
            let overdue: Vec<serde_json::Value> = cs
                .iter()
                .filter(|x| x.status == "open" && x.due_at < now)
                .map(|x| json!({"id": x.id, "dossier_id": x.dossier_id, "due_at": to_vn(x.due_at).to_rfc3339()}))
                .collect();
            let answered_late = cs
                .iter()
                .filter(|x| x.answered_at.is_some_and(|a| a > x.due_at))
                .count();
            let mut v = serde_json::to_value(&s).map_err(ApiError::internal)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("from".into(), json!(to_vn(from).to_rfc3339()));
                o.insert("to".into(), json!(to_vn(to).to_rfc3339()));
                o.insert(
                    "complaints".into(),
                    json!({"total": cs.len(), "open": open, "answered": cs.len() - open,
                           "overdue": overdue.len(), "answered_late": answered_late,
                           "overdue_items": overdue}),
                );
            }
            Ok(v)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

fn local(t: Option<NaiveDateTime>) -> String {
    t.map(|t| to_vn(t).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

async fn csv(
    auth: AuthUser,
    state: web::Data<AppState>,
    q: web::Query<Period>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let p = q.into_inner();
    let doc = state
        .db
        .read(move |c| -> Result<String, ApiError> {
            let (ds, _, _) = load(c, &p)?;
            let mut names: std::collections::HashMap<i64, String> = Default::default();
            for d in &ds {
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(d.agency_id) {
                    e.insert(
                        agencies::find(c, d.agency_id)?
                            .map(|a| a.name)
                            .unwrap_or_default(),
                    );
                }
            }
            let mut rows = Vec::with_capacity(ds.len());
            for d in &ds {
                let evs = events::of_dossier(c, d.id)?;
                let first = |k: &[&str]| {
                    evs.iter()
                        .find(|e| k.contains(&e.kind.as_str()))
                        .map(|e| e.at)
                };
                let last = |k: &str| evs.iter().rev().find(|e| e.kind == k).map(|e| e.at);
                let done = evs
                    .iter()
                    .find(|e| e.status_after == "completed")
                    .map(|e| e.at);
                rows.push(vec![
                    d.tracking_code.clone(),
                    local(Some(d.created_at)),
                    DossierStatus::parse(&d.status)
                        .map(|s| s.label_vi())
                        .unwrap_or("")
                        .to_owned(),
                    d.citizen_name.clone(),
                    d.phone.clone(),
                    d.procedure_code.clone(),
                    names.get(&d.agency_id).cloned().unwrap_or_default(),
                    d.agency_dossier_code.clone().unwrap_or_default(),
                    local(d.pickup_from),
                    local(d.pickup_to),
                    local(first(&["picked_up"])),
                    local(first(&["handed_over", "received"])),
                    local(last("result_ready")),
                    d.outcome
                        .as_deref()
                        .and_then(|o| crate::domain::dossier::Outcome::parse(o).ok())
                        .map(|o| o.label_vi().to_owned())
                        .unwrap_or_default(),
                    local(done),
                ]);
            }
            Ok(csv_document(
                &[
                    "Mã hồ sơ",
                    "Ngày tiếp nhận",
                    "Trạng thái",
                    "Họ tên người dân",
                    "Điện thoại",
                    "Mã thủ tục",
                    "Cơ quan tiếp nhận",
                    "Mã hồ sơ cơ quan",
                    "Hẹn lấy từ",
                    "Hẹn lấy đến",
                    "Đã lấy hồ sơ",
                    "Đã nộp cơ quan",
                    "Có kết quả",
                    "Kết quả",
                    "Hoàn thành",
                ],
                &rows,
            ))
        })
        .await?;
    Ok(csv_attachment("ho-so-buuta.csv", doc))
}

/// A CSV document as a download named `filename`.
pub fn csv_attachment(filename: &str, doc: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(doc)
}

/// The charts we draw.
pub const CHARTS: [&str; 3] = [
    "dossiers-per-day",
    "on-time-per-week",
    "lead-time-distribution",
];

async fn chart(
    auth: AuthUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
    q: web::Query<Period>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&ROLES)?;
    let name = name.into_inner();
    if !CHARTS.contains(&name.as_str()) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("Không có biểu đồ này (có: {})", CHARTS.join(", ")),
        ));
    }
    let p = q.into_inner();
    let svg = state
        .db
        .read(move |c| -> Result<String, ApiError> {
            let (_, facts, calendar) = load(c, &p)?;
            let policy = DeadlinePolicy::default();
            Ok(match name.as_str() {
                "dossiers-per-day" => {
                    let s = summarize(&facts, &calendar, &policy, now_utc());
                    let bars: Vec<_> = s
                        .by_day
                        .iter()
                        .map(|g| (g.key.format("%d/%m").to_string(), Some(g.dossiers as f64)))
                        .collect();
                    bar_chart_svg("Số hồ sơ tiếp nhận mỗi ngày", &bars, false)
                }
                "on-time-per-week" => {
                    let bars: Vec<_> = on_time_by_week(&facts, &calendar, &policy, now_utc())
                        .into_iter()
                        .map(|(monday, rate)| (format!("Tuần {}", monday.format("%d/%m")), rate))
                        .collect();
                    bar_chart_svg("Tỷ lệ đúng hạn theo tuần", &bars, true)
                }
                _ => {
                    let bars: Vec<_> = lead_time_histogram(&facts)
                        .into_iter()
                        .map(|(label, n)| (label.to_owned(), Some(n as f64)))
                        .collect();
                    bar_chart_svg("Phân bố thời gian hoàn thành hồ sơ", &bars, false)
                }
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(svg))
}
