//! Who the caller is: the pages read it after login to know their post office,
//! agency or courier record.

use crate::auth::AuthUser;
use crate::db::models::{couriers, users};
use crate::error::ApiError;
use crate::routing::Routes;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/me", me);
}

async fn me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = user.id;
    let body = state
        .db
        .read(move |c| -> Result<_, ApiError> {
            let u = users::find(c, id)?
                .ok_or_else(|| ApiError::unauthorized("Tài khoản không còn tồn tại"))?;
            let courier_id = couriers::find_by_user(c, id)?.map(|k| k.id);
            Ok(json!({
                "id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role,
                "post_office_id": u.post_office_id, "agency_id": u.agency_id,
                "courier_id": courier_id,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
