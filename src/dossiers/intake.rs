//! Hotline intake: a checked pickup request becomes a citizen, a dossier with a
//! tracking code, and its first tasks, in one transaction.

use crate::auth::AuthUser;
use crate::db::models::{admin_units, agencies, citizens, dossiers, procedures, tasks};
use crate::db::{now_utc, DbConnection};
use crate::domain::dossier::{Ctx, ReturnMethod, Service, TaskKind, TaskStatus};
use crate::domain::fees::Tariff;
use crate::domain::id_number::IdNumber;
use crate::domain::phone::Phone;
use crate::domain::text::fold;
use crate::domain::time_window::TimeWindow;
use crate::domain::tracking_code::TrackingCode;
use crate::domain::zones::{ZoneIndex, ZoneMatch};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::validate::Check;
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;

/// `citizen` of a pickup request.
#[derive(Debug, Deserialize)]
pub struct CitizenBody {
    pub full_name: String,
    pub phone: String,
    pub id_number: Option<String>,
}

/// `address` of a pickup request; without `lat`/`lon` the point is estimated.
#[derive(Debug, Deserialize)]
pub struct AddressBody {
    pub ward_code: String,
    pub street: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A window as sent: two RFC 3339 times.
#[derive(Debug, Deserialize)]
pub struct WindowBody {
    pub from: String,
    pub to: String,
}

/// Body of `POST /api/v1/pickup-requests`.
#[derive(Debug, Deserialize)]
pub struct PickupRequestBody {
    pub citizen: CitizenBody,
    pub address: AddressBody,
    pub procedure_code: String,
    pub agency_id: i64,
    pub service: String,
    pub pickup_window: Option<WindowBody>,
    pub return_method: String,
    pub note: Option<String>,
    /// The citizen wants no SMS about this dossier.
    #[serde(default)]
    pub sms_opt_out: bool,
}

/// A request whose every field has been checked (references are checked in storage).
#[derive(Debug)]
pub struct ValidRequest {
    pub full_name: String,
    pub phone: Phone,
    pub id_number: Option<IdNumber>,
    pub ward_code: String,
    pub street: String,
    pub point: Option<(f64, f64)>,
    pub procedure_code: String,
    pub agency_id: i64,
    pub service: Service,
    pub return_method: ReturnMethod,
    pub window: Option<TimeWindow>,
    pub note: Option<String>,
    pub sms_opt_out: bool,
}

/// How far ahead a pickup may be booked.
const MAX_BOOKING_DAYS: i64 = 60;

/// Checks a window body into `check`.
pub fn check_window(check: &mut Check, field: &str, w: &WindowBody) -> Option<TimeWindow> {
    match TimeWindow::parse_rfc3339(&w.from, &w.to) {
        Ok(window) => {
            let now = Utc::now();
            if window.validate_not_past(&now).is_err() {
                check.push(field, ErrorCode::ValidationFailed, "Khung giờ đã qua");
                None
            } else if window.from() > now + chrono::Duration::days(MAX_BOOKING_DAYS) {
                check.push(
                    field,
                    ErrorCode::ValidationFailed,
                    format!("Chỉ hẹn trước tối đa {MAX_BOOKING_DAYS} ngày"),
                );
                None
            } else {
                Some(window)
            }
        }
        Err(e) => {
            check.push(
                field,
                ErrorCode::ValidationFailed,
                format!("Khung giờ không hợp lệ: {}", e.vi()),
            );
            None
        }
    }
}

/// Checks the shape of every field; lists all problems at once.
pub fn validate(body: PickupRequestBody) -> Result<ValidRequest, ApiError> {
    let mut check = Check::new();
    let full_name = check.line("citizen.full_name", &body.citizen.full_name, 100);
    let phone = Phone::parse(&body.citizen.phone)
        .map_err(|e| {
            check.push(
                "citizen.phone",
                ErrorCode::ValidationFailed,
                format!("Số điện thoại Việt Nam không hợp lệ: {}", e.vi()),
            )
        })
        .ok();
    let id_number = match body.citizen.id_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => IdNumber::parse(raw)
            .map_err(|_| {
                check.push(
                    "citizen.id_number",
                    ErrorCode::ValidationFailed,
                    "Số căn cước phải gồm 12 chữ số",
                )
            })
            .ok(),
    };
    let street = check.line("address.street", &body.address.street, 300);
    let point = match (body.address.lat, body.address.lon) {
        (Some(lat), Some(lon)) => check
            .latlon("address.", lat, lon)
            .map(|p| (p.lat(), p.lon())),
        (None, None) => None,
        (lat, _) => {
            let missing = if lat.is_some() {
                "address.lon"
            } else {
                "address.lat"
            };
            check.push(
                missing,
                ErrorCode::ValidationFailed,
                "Cần cả vĩ độ và kinh độ, hoặc bỏ trống cả hai",
            );
            None
        }
    };
    let service = Service::parse(body.service.trim())
        .map_err(|_| {
            check.push(
                "service",
                ErrorCode::ValidationFailed,
                "Dịch vụ phải là send, return hoặc both",
            )
        })
        .ok();
    let return_method = ReturnMethod::parse(body.return_method.trim())
        .map_err(|_| {
            check.push(
                "return_method",
                ErrorCode::ValidationFailed,
                "Hình thức trả kết quả phải là home hoặc counter",
            )
        })
        .ok();
    if let (Some(s), Some(m)) = (service, return_method) {
        if Ctx::new(s, m, Default::default()).is_err() {
            check.push(
                "return_method",
                ErrorCode::ValidationFailed,
                "Dịch vụ chỉ trả kết quả cần hình thức trả tại nhà (home)",
            );
        }
    }
    let window = match (&body.pickup_window, service) {
        (Some(w), _) => check_window(&mut check, "pickup_window", w),
        (None, Some(s)) if s.has_send_leg() => {
            check.push(
                "pickup_window",
                ErrorCode::ValidationFailed,
                "Cần khung giờ lấy hồ sơ",
            );
            None
        }
        (None, _) => None,
    };
    let note = check.opt_line("note", body.note.as_deref(), 500);
    let procedure_code = body.procedure_code.trim().to_owned();
    if procedure_code.is_empty() {
        check.push(
            "procedure_code",
            ErrorCode::ValidationFailed,
            "Không được để trống",
        );
    }
    check.finish()?;
    let (Some(phone), Some(service), Some(return_method)) = (phone, service, return_method) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    Ok(ValidRequest {
        full_name,
        phone,
        id_number,
        ward_code: body.address.ward_code.trim().to_owned(),
        street,
        point,
        procedure_code,
        agency_id: body.agency_id,
        service,
        return_method,
        window,
        note,
        sms_opt_out: body.sms_opt_out,
    })
}

fn field_error(field: &str, code: ErrorCode, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, code, message)])
}

/// Estimates a point: an earlier fix at this phone and street, else the ward's centre
/// (set by admins, or the median of measured pickups), else the agency.
fn estimate_point(
    conn: &mut DbConnection,
    citizen_id: Option<i64>,
    ward: &admin_units::Ward,
    street_folded: &str,
    agency: &agencies::Agency,
) -> Result<(f64, f64), ApiError> {
    if let Some(cid) = citizen_id {
        if let Some(place) = citizens::find_place(conn, cid, &ward.code, street_folded)? {
            if let (Some(lat), Some(lon)) = (place.lat, place.lon) {
                return Ok((lat, lon));
            }
        }
    }
    if let (Some(lat), Some(lon)) = (ward.centre_lat, ward.centre_lon) {
        return Ok((lat, lon));
    }
    let points = dossiers::ward_measured_points(conn, &ward.code)?;
    if !points.is_empty() {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        return Ok((
            median(points.iter().map(|p| p.0).collect()),
            median(points.iter().map(|p| p.1).collect()),
        ));
    }
    Ok((agency.lat, agency.lon))
}

/// Stores the request; returns the new dossier's id.
pub fn create(
    conn: &mut DbConnection,
    auth: &AuthUser,
    req: ValidRequest,
    tariff: &Tariff,
    tracking_prefix: &str,
    zones: &ZoneIndex,
) -> Result<i64, ApiError> {
    let now: NaiveDateTime = now_utc();
    let ward = admin_units::find_ward(conn, &req.ward_code)?.ok_or_else(|| {
        field_error(
            "address.ward_code",
            ErrorCode::UnknownWardCode,
            "Mã xã/phường không có trong danh mục 2025",
        )
    })?;
    let procedure = procedures::find(conn, &req.procedure_code)?.ok_or_else(|| {
        field_error(
            "procedure_code",
            ErrorCode::ValidationFailed,
            "Thủ tục không có trong danh mục",
        )
    })?;
    let agency = agencies::find(conn, req.agency_id)?.ok_or_else(|| {
        field_error(
            "agency_id",
            ErrorCode::ValidationFailed,
            "Cơ quan không tồn tại",
        )
    })?;
    if agency.province_code != ward.province_code {
        return Err(field_error(
            "agency_id",
            ErrorCode::ValidationFailed,
            "Cơ quan tiếp nhận phải cùng tỉnh với địa chỉ lấy hồ sơ",
        ));
    }
    if agency.level != procedure.agency_level {
        return Err(field_error(
            "agency_id",
            ErrorCode::ValidationFailed,
            "Cơ quan này không giải quyết thủ tục đã chọn (khác cấp)",
        ));
    }
    let fees = tariff
        .quote(
            req.service,
            req.return_method,
            procedure.agency_fee_vnd,
            None,
        )
        .map_err(|e| field_error("service", ErrorCode::ValidationFailed, &e.to_string()))?;

    let street_folded = fold(&req.street);
    let existing = citizens::find_by_phone(conn, req.phone.as_str())?;
    let (point, approximate) = match req.point {
        Some(p) => (p, false),
        None => (
            estimate_point(
                conn,
                existing.as_ref().map(|c| c.id),
                &ward,
                &street_folded,
                &agency,
            )?,
            true,
        ),
    };
    let citizen = citizens::upsert(
        conn,
        req.phone.as_str(),
        &req.full_name,
        req.id_number.as_ref().map(|i| i.as_str()),
        now,
    )?;
    citizens::remember_place(
        conn,
        citizen.id,
        &ward.code,
        &req.street,
        &street_folded,
        req.point,
        false,
        now,
    )?;
    let serial = dossiers::next_serial(conn)?;
    let code = TrackingCode::issue(tracking_prefix, serial).map_err(ApiError::internal)?;
    let window = req
        .window
        .map(|w| (w.from().naive_utc(), w.to().naive_utc()));
    let dossier = dossiers::insert(
        conn,
        &dossiers::NewDossier {
            tracking_code: code.as_str().to_owned(),
            citizen_id: citizen.id,
            citizen_name: req.full_name.clone(),
            phone: req.phone.as_str().to_owned(),
            id_number: req.id_number.as_ref().map(|i| i.as_str().to_owned()),
            ward_code: ward.code.clone(),
            province_code: ward.province_code.clone(),
            street: req.street.clone(),
            lat: point.0,
            lon: point.1,
            location_approximate: approximate,
            procedure_code: procedure.code.clone(),
            agency_id: agency.id,
            service: req.service.as_str().to_owned(),
            return_method: req.return_method.as_str().to_owned(),
            status: "requested".into(),
            version: 0,
            pickup_from: window.map(|w| w.0),
            pickup_to: window.map(|w| w.1),
            postal_fee_vnd: fees.postal_fee_vnd,
            agency_fee_vnd: fees.agency_fee_vnd,
            total_vnd: fees.total_vnd,
            note: req.note.clone(),
            created_by: auth.id,
            created_at: now,
            updated_at: now,
        },
    )?;
    if req.service.has_send_leg() {
        new_send_leg(conn, &dossier, window, &agency, zones, now)?;
    }
    if req.sms_opt_out {
        crate::db::models::webhooks::set_sms_opt_out(conn, dossier.id, true, now)?;
    }
    crate::notify::on_intake(conn, &dossier, now)?;
    Ok(dossier.id)
}

/// An unassigned task of a dossier at a point, in the zone of the citizen's door.
fn unassigned_task(
    d: &dossiers::Dossier,
    kind: TaskKind,
    window: Option<(NaiveDateTime, NaiveDateTime)>,
    (lat, lon): (f64, f64),
    zone: Option<ZoneMatch>,
    now: NaiveDateTime,
) -> tasks::NewTask {
    tasks::NewTask {
        dossier_id: d.id,
        kind: kind.as_str().to_owned(),
        status: TaskStatus::Unassigned.as_str().to_owned(),
        courier_id: None,
        window_from: window.map(|w| w.0),
        window_to: window.map(|w| w.1),
        lat,
        lon,
        attempts: 0,
        created_at: now,
        updated_at: now,
        zone_id: zone.map(|z| z.zone_id),
        outside_zone: zone.is_some_and(|z| !z.inside),
    }
}

/// Creates an unassigned pickup at the citizen's door and its drop-off at the agency.
pub fn new_send_leg(
    conn: &mut DbConnection,
    d: &dossiers::Dossier,
    window: Option<(NaiveDateTime, NaiveDateTime)>,
    agency: &agencies::Agency,
    zones: &ZoneIndex,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let zone = zones.assign(d.lat, d.lon);
    let door = (d.lat, d.lon);
    let pickup = unassigned_task(d, TaskKind::Pickup, window, door, zone, now);
    tasks::insert(conn, &pickup)?;
    let desk = (agency.lat, agency.lon);
    let dropoff = unassigned_task(d, TaskKind::Dropoff, None, desk, zone, now);
    tasks::insert(conn, &dropoff)?;
    Ok(())
}

/// Creates an unassigned result collection at the agency and its door delivery.
pub fn new_return_leg(
    conn: &mut DbConnection,
    d: &dossiers::Dossier,
    agency: &agencies::Agency,
    zones: &ZoneIndex,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let zone = zones.assign(d.lat, d.lon);
    let desk = (agency.lat, agency.lon);
    let collect = unassigned_task(d, TaskKind::Collect, None, desk, zone, now);
    tasks::insert(conn, &collect)?;
    let door = (d.lat, d.lon);
    let deliver = unassigned_task(d, TaskKind::Deliver, None, door, zone, now);
    tasks::insert(conn, &deliver)?;
    Ok(())
}
