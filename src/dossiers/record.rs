//! Appending an event: the one place a dossier's status changes.

use crate::auth::AuthUser;
use crate::db::models::dossiers::{self, Dossier};
use crate::db::models::events::{self, NewEvent};
use crate::db::{now_utc, DbConnection};
use crate::domain::dossier::{
    apply, AttemptLimits, Ctx, DossierEvent, DossierStatus, ReturnMethod, Service,
};
use crate::error::{ApiError, ErrorCode};
use chrono::NaiveDateTime;
use serde_json::Value;

/// The domain context of a stored dossier.
pub fn ctx_of(d: &Dossier, limits: AttemptLimits) -> Result<Ctx, ApiError> {
    let service = Service::parse(&d.service).map_err(ApiError::internal)?;
    let method = ReturnMethod::parse(&d.return_method).map_err(ApiError::internal)?;
    Ctx::new(service, method, limits).map_err(ApiError::internal)
}

/// The stored status, parsed.
pub fn status_of(d: &Dossier) -> Result<DossierStatus, ApiError> {
    DossierStatus::parse(&d.status).map_err(ApiError::internal)
}

/// Who did it, where and when.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub role: String,
    pub at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub note: Option<String>,
}

impl Actor {
    /// A staff member acting now.
    pub fn staff(auth: &AuthUser) -> Self {
        Self {
            user_id: Some(auth.id),
            role: auth.role.as_str().to_owned(),
            at: now_utc(),
            lat: None,
            lon: None,
            note: None,
        }
    }
}

/// Applies `event` to the dossier (read at `d.version`), appends it with `proof`, and
/// returns the new status. Illegal → 409 `illegal_transition` with the reason;
/// another writer first → 409 `conflict`. Nothing is written in either case.
pub fn record(
    conn: &mut DbConnection,
    d: &Dossier,
    limits: AttemptLimits,
    event: &DossierEvent,
    task_id: Option<i64>,
    actor: &Actor,
    proof: Option<Value>,
) -> Result<DossierStatus, ApiError> {
    let ctx = ctx_of(d, limits)?;
    let status = status_of(d)?;
    let next = apply(status, event, &ctx).map_err(|e| {
        ApiError::new(
            ErrorCode::IllegalTransition,
            format!(
                "Không thể {} khi hồ sơ đang ở trạng thái “{}”: {}",
                event.label_vi(),
                status.label_vi(),
                e.reason.vi()
            ),
        )
    })?;
    let now = now_utc();
    if !dossiers::set_status(conn, d.id, d.version, next.as_str(), now)? {
        return Err(conflict());
    }
    let mut data = serde_json::to_value(event).map_err(ApiError::internal)?;
    if let (Some(obj), Some(p)) = (data.as_object_mut(), proof.clone()) {
        obj.insert("proof".into(), p);
    }
    events::append(
        conn,
        &NewEvent {
            dossier_id: d.id,
            task_id,
            kind: event.name().to_owned(),
            status_after: next.as_str().to_owned(),
            actor_user_id: actor.user_id,
            actor_role: actor.role.clone(),
            at: actor.at,
            recorded_at: now,
            lat: actor.lat,
            lon: actor.lon,
            note: actor.note.clone(),
            data: data.to_string(),
        },
    )?;
    // The SMS and webhook deliveries this event causes, in the same transaction.
    crate::notify::on_event(conn, d, event, next, task_id, actor.at, proof.as_ref(), now)?;
    Ok(next)
}

/// 409 for the loser of a race on one dossier.
pub fn conflict() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "Hồ sơ vừa được người khác cập nhật; vui lòng tải lại và thử lại",
    )
}
