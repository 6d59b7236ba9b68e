//! The demo province (Đồng Tháp): agencies, post offices, procedures, holidays and a
//! user of every role, so a fresh `cargo run` has something to show. Loaded once.

use crate::auth::password;
use crate::db::models::{
    agencies, couriers, holidays, post_offices, procedures, settings as kv, users, zones,
};
use crate::db::{now_utc, DbConnection, StoreError};
use crate::domain::text::fold;
use chrono::NaiveDate;

/// Password of every demo user (demo data only; change it before real use).
pub const DEMO_PASSWORD: &str = "buuta-demo";

/// A demo login to print: (username, role, what they do).
pub type DemoLogin = (&'static str, &'static str, &'static str);

/// Who the demo creates.
pub const DEMO_USERS: [DemoLogin; 5] = [
    ("tongdai", "operator", "Tổng đài viên"),
    ("dieuphoi", "dispatcher", "Điều phối viên Bưu cục Cao Lãnh"),
    ("buuta1", "courier", "Bưu tá Bưu cục Cao Lãnh"),
    ("buuta2", "courier", "Bưu tá Bưu cục Cao Lãnh"),
    ("motcua", "clerk", "Cán bộ một cửa Trung tâm PVHCC tỉnh"),
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
    agencies::insert(
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
    agencies::insert(
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
    post_offices::insert(
        conn,
        &office(
            "Bưu cục Sa Đéc",
            "29905",
            "2 Trần Hưng Đạo, phường Sa Đéc",
            10.2950,
            105.7560,
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

    // Two zones around Cao Lãnh (north and south of the centre), one courier each.
    let square = |lat: (f64, f64), lon: (f64, f64)| {
        serde_json::json!({"type": "Polygon", "coordinates": [[[lon.0, lat.0], [lon.1, lat.0], [lon.1, lat.1], [lon.0, lat.1], [lon.0, lat.0]]]})
            .to_string()
    };
    let zone_ids = [
        zones::insert(
            conn,
            "Cao Lãnh Bắc",
            cao_lanh.id,
            &square((10.456, 10.50), (105.58, 105.68)),
            now,
        )?,
        zones::insert(
            conn,
            "Cao Lãnh Nam",
            cao_lanh.id,
            &square((10.41, 10.456), (105.58, 105.68)),
            now,
        )?,
    ];
    let mut next_zone = zone_ids.iter();
    for (username, role, full_name) in DEMO_USERS {
        let user = users::insert(
            conn,
            &users::NewUser {
                username: username.into(),
                password_hash: password_hash.into(),
                full_name: full_name.into(),
                role: role.into(),
                post_office_id: matches!(role, "courier" | "dispatcher").then_some(cao_lanh.id),
                agency_id: (role == "clerk").then_some(centre.id),
                phone: None,
                active: true,
                created_at: now,
            },
        )?;
        if role == "courier" {
            let courier = couriers::insert(
                conn,
                &couriers::NewCourier {
                    user_id: user.id,
                    post_office_id: cao_lanh.id,
                    capacity: 30,
                    shift_start: "07:30".into(),
                    shift_end: "17:00".into(),
                    vehicle: Some("Xe máy".into()),
                    active: true,
                    created_at: now,
                    days_off: r#"["sun"]"#.into(),
                },
            )?;
            if let Some(zone) = next_zone.next() {
                zones::set_courier_zones(conn, courier.id, &[*zone])?;
            }
        }
    }
    kv::get_or_insert(conn, "demo_loaded", &now.to_string())?;
    Ok(true)
}

/// Hashes the demo password (slow on purpose: argon2).
pub fn password_hash() -> Result<String, String> {
    password::hash(DEMO_PASSWORD)
}
