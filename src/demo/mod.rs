//! The demo province (Đồng Tháp): the provincial service centre and two commune
//! one-stop desks, three post offices with zones, ten couriers with shifts,
//! procedures with fees and documents, holidays, a user of every role, and sixty
//! dossiers spread over every status (`dossiers`), so a fresh `cargo run` has
//! something to show on every page. Loaded once, on an empty database.

pub mod dossiers;

use crate::auth::password;
use crate::db::models::{
    agencies, couriers, holidays, post_offices, procedures, settings as kv, users, zones,
};
use crate::db::{now_utc, DbConnection, StoreError};
use crate::domain::text::fold;
use chrono::NaiveDate;

/// Password of every demo user (demo data only; change it before real use).
pub const DEMO_PASSWORD: &str = "buuta-demo";

/// A demo login to print: (username, who they are, their page).
pub type DemoLogin = (&'static str, &'static str, &'static str);

/// The logins printed at start, one per role, with the page each one uses (more demo
/// users exist, see [`STAFF`]).
pub const DEMO_USERS: [DemoLogin; 6] = [
    ("tongdai", "Tổng đài viên", "/operator"),
    ("dieuphoi", "Điều phối viên Bưu cục Cao Lãnh", "/dispatch"),
    (
        "dieuphoi",
        "Báo cáo, đối soát thu hộ (điều phối viên, quản trị)",
        "/reports",
    ),
    (
        "buuta1",
        "Bưu tá (buuta2–buuta10: các bưu tá khác)",
        "/courier",
    ),
    ("motcua", "Cán bộ một cửa Trung tâm PVHCC tỉnh", "/desk"),
    ("admin", "Quản trị (mật khẩu ở trên)", "/docs"),
];

/// A demo staff member: (username, role, full name, post office index, agency index).
pub type DemoStaff = (
    &'static str,
    &'static str,
    &'static str,
    Option<usize>,
    Option<usize>,
);

/// Every demo staff member. Couriers 1–4 work at Cao Lãnh, 5–7 at Sa Đéc, 8–10 at Mỹ Tho.
pub const STAFF: [DemoStaff; 16] = [
    ("tongdai", "operator", "Lê Thị Hồng Nhung", None, None),
    ("dieuphoi", "dispatcher", "Phạm Văn Toàn", Some(0), None),
    ("dieuphoi2", "dispatcher", "Huỳnh Thị Mai", Some(1), None),
    (
        "dieuphoi3",
        "dispatcher",
        "Trương Minh Khang",
        Some(2),
        None,
    ),
    ("buuta1", "courier", "Nguyễn Văn Hùng", Some(0), None),
    ("buuta2", "courier", "Trần Thị Lan", Some(0), None),
    ("buuta3", "courier", "Võ Thành Công", Some(0), None),
    ("buuta4", "courier", "Đặng Quốc Bảo", Some(0), None),
    ("buuta5", "courier", "Lê Văn Tài", Some(1), None),
    ("buuta6", "courier", "Nguyễn Thị Thu Hà", Some(1), None),
    ("buuta7", "courier", "Phan Minh Trí", Some(1), None),
    ("buuta8", "courier", "Bùi Văn Lộc", Some(2), None),
    ("buuta9", "courier", "Đỗ Thị Kim Ngân", Some(2), None),
    ("buuta10", "courier", "Hồ Văn Phúc", Some(2), None),
    ("motcua", "clerk", "Nguyễn Thị Thanh Tâm", None, Some(0)),
    ("motcua2", "clerk", "Lý Văn Dũng", None, Some(1)),
];

/// Loads the demo once (call inside a transaction); returns whether it loaded now.
pub fn load(conn: &mut DbConnection, password_hash: &str) -> Result<bool, StoreError> {
    if kv::get(conn, "demo_loaded")?.is_some() {
        return Ok(false);
    }
    let now = now_utc();
    let agency = |name: &str, level: &str, ward: &str, address: &str, lat: f64, lon: f64| {
        agencies::NewAgency {
            name: name.into(),
            name_folded: fold(name),
            level: level.into(),
            ward_code: ward.into(),
            province_code: "82".into(),
            address: address.into(),
            lat,
            lon,
            opening_hours: Some("Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00".into()),
            created_at: now,
            opens_at: Some("07:30".into()),
            closes_at: Some("17:00".into()),
            lunch_start: Some("11:30".into()),
            lunch_end: Some("13:30".into()),
        }
    };
    let centre = agencies::insert(
        conn,
        &agency(
            "Trung tâm Phục vụ hành chính công tỉnh Đồng Tháp",
            "province",
            "29869",
            "Số 12 đường 30/4, phường Cao Lãnh",
            10.4602,
            105.6329,
        ),
    )?;
    let sa_dec_desk = agencies::insert(
        conn,
        &agency(
            "Bộ phận Một cửa UBND phường Sa Đéc",
            "commune",
            "29905",
            "Số 1 Hùng Vương, phường Sa Đéc",
            10.2930,
            105.7590,
        ),
    )?;
    let my_tho_desk = agencies::insert(
        conn,
        &agency(
            "Bộ phận Một cửa UBND phường Mỹ Tho",
            "commune",
            "28261",
            "Số 27 Lê Lợi, phường Mỹ Tho",
            10.3600,
            106.3600,
        ),
    )?;

    let office =
        |name: &str, ward: &str, address: &str, lat: f64, lon: f64| post_offices::NewPostOffice {
            name: name.into(),
            name_folded: fold(name),
            ward_code: ward.into(),
            province_code: "82".into(),
            address: address.into(),
            lat,
            lon,
            created_at: now,
        };
    let cao_lanh = post_offices::insert(
        conn,
        &office(
            "Bưu cục Cao Lãnh",
            "29869",
            "85 Nguyễn Huệ, phường Cao Lãnh",
            10.4555,
            105.6361,
        ),
    )?;
    let sa_dec = post_offices::insert(
        conn,
        &office(
            "Bưu cục Sa Đéc",
            "29905",
            "2 Trần Hưng Đạo, phường Sa Đéc",
            10.2950,
            105.7560,
        ),
    )?;
    let my_tho = post_offices::insert(
        conn,
        &office(
            "Bưu cục Mỹ Tho",
            "28261",
            "59 Ấp Bắc, phường Mỹ Tho",
            10.3620,
            106.3580,
        ),
    )?;

    let procedure = |code: &str, name: &str, level: &str, fee: i64, days: i32, docs: &[&str]| {
        procedures::ProcedureRow {
            code: code.into(),
            name: name.into(),
            name_folded: fold(name),
            agency_level: level.into(),
            agency_fee_vnd: fee,
            processing_days: days,
            required_documents: serde_json::to_string(docs).unwrap_or_else(|_| "[]".into()),
            created_at: now,
        }
    };
    for p in [
        procedure(
            "1.001193",
            "Cấp đổi giấy phép lái xe",
            "province",
            135_000,
            5,
            &[
                "Đơn đề nghị đổi giấy phép lái xe",
                "Bản sao giấy phép lái xe",
                "Giấy khám sức khỏe",
            ],
        ),
        procedure(
            "1.004227",
            "Cấp phiếu lý lịch tư pháp",
            "province",
            200_000,
            10,
            &[
                "Tờ khai yêu cầu cấp phiếu lý lịch tư pháp",
                "Bản chụp căn cước",
            ],
        ),
        procedure(
            "1.000894",
            "Đăng ký khai sinh",
            "commune",
            0,
            1,
            &["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"],
        ),
        procedure(
            "2.000908",
            "Chứng thực bản sao từ bản chính",
            "commune",
            2_000,
            1,
            &["Bản chính giấy tờ", "Bản sao cần chứng thực"],
        ),
        procedure(
            "1.010757",
            "Đăng ký thường trú",
            "commune",
            20_000,
            7,
            &[
                "Tờ khai thay đổi thông tin cư trú",
                "Giấy tờ chứng minh chỗ ở hợp pháp",
            ],
        ),
    ] {
        procedures::insert(conn, &p)?;
    }

    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid demo date");
    let mut days = vec![(day(2026, 1, 1), "Tết Dương lịch")];
    days.extend((16..=20).map(|d| (day(2026, 2, d), "Tết Nguyên đán")));
    days.extend([
        (day(2026, 4, 27), "Giỗ Tổ Hùng Vương (nghỉ bù)"),
        (day(2026, 4, 30), "Ngày Giải phóng miền Nam"),
        (day(2026, 5, 1), "Ngày Quốc tế Lao động"),
        (day(2026, 9, 1), "Quốc khánh"),
        (day(2026, 9, 2), "Quốc khánh"),
        (day(2027, 1, 1), "Tết Dương lịch"),
    ]);
    let rows: Vec<holidays::Holiday> = days
        .into_iter()
        .map(|(d, n)| holidays::Holiday {
            day: d,
            name: n.into(),
        })
        .collect();
    holidays::replace_all(conn, &rows)?;

    // Zones: Cao Lãnh north and south of the centre, Sa Đéc, Mỹ Tho.
    let square = |lat: (f64, f64), lon: (f64, f64)| {
        serde_json::json!({"type": "Polygon", "coordinates": [[[lon.0, lat.0], [lon.1, lat.0], [lon.1, lat.1], [lon.0, lat.1], [lon.0, lat.0]]]})
            .to_string()
    };
    let zone = |conn: &mut DbConnection, name: &str, office: i64, lat, lon| {
        zones::insert(conn, name, office, &square(lat, lon), now)
    };
    let cl_north = zone(
        conn,
        "Cao Lãnh Bắc",
        cao_lanh.id,
        (10.456, 10.50),
        (105.58, 105.68),
    )?;
    let cl_south = zone(
        conn,
        "Cao Lãnh Nam",
        cao_lanh.id,
        (10.41, 10.456),
        (105.58, 105.68),
    )?;
    let sd = zone(conn, "Sa Đéc", sa_dec.id, (10.26, 10.33), (105.70, 105.80))?;
    let mt = zone(conn, "Mỹ Tho", my_tho.id, (10.33, 10.40), (106.30, 106.42))?;
    let offices = [cao_lanh.id, sa_dec.id, my_tho.id];
    let desks = [centre.id, sa_dec_desk.id, my_tho_desk.id];
    // Each courier's zones, in STAFF order of couriers.
    let courier_zones = [
        cl_north, cl_north, cl_south, cl_south, sd, sd, sd, mt, mt, mt,
    ];
    let mut couriers_seen = 0;
    for (i, (username, role, full_name, office, desk)) in STAFF.iter().enumerate() {
        let user = users::insert(
            conn,
            &users::NewUser {
                username: (*username).into(),
                password_hash: password_hash.into(),
                full_name: (*full_name).into(),
                role: (*role).into(),
                post_office_id: office.map(|o| offices[o]),
                agency_id: desk.map(|a| desks[a]),
                phone: Some(format!("09{:08}", 13_572_460 + i * 7_919)),
                active: true,
                created_at: now,
            },
        )?;
        if *role == "courier" {
            let post_office_id = office.map(|o| offices[o]).unwrap_or(cao_lanh.id);
            // Early and late shifts alternate; the last courier of each office rests on Sundays.
            let (start, end) = if couriers_seen % 2 == 0 {
                ("07:00", "16:30")
            } else {
                ("07:30", "17:00")
            };
            let days_off = if matches!(*username, "buuta4" | "buuta7" | "buuta10") {
                r#"["sun"]"#
            } else {
                "[]"
            };
            let courier = couriers::insert(
                conn,
                &couriers::NewCourier {
                    user_id: user.id,
                    post_office_id,
                    capacity: 30,
                    shift_start: start.into(),
                    shift_end: end.into(),
                    vehicle: Some("Xe máy".into()),
                    active: true,
                    created_at: now,
                    days_off: days_off.into(),
                },
            )?;
            zones::set_courier_zones(conn, courier.id, &[courier_zones[couriers_seen]])?;
            couriers_seen += 1;
        }
    }
    kv::get_or_insert(conn, "demo_loaded", &now.to_string())?;
    Ok(true)
}

/// Hashes the demo password (slow on purpose: argon2).
pub fn password_hash() -> Result<String, String> {
    password::hash(DEMO_PASSWORD)
}
