use crate::helpers::{assert_problem, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

pub fn agency_body() -> Value {
    json!({"name": "Trung tâm Phục vụ hành chính công tỉnh Đồng Tháp", "level": "province",
           "ward_code": "29869", "address": "Số 12 đường 30/4", "lat": 10.4602, "lon": 105.6329,
           "opening_hours": "Thứ 2–Thứ 6, 7:30–17:00"})
}

pub fn post_office_body() -> Value {
    json!({"name": "Bưu cục Cao Lãnh", "ward_code": "29869", "address": "85 Nguyễn Huệ",
           "lat": 10.4555, "lon": 105.6361})
}

pub fn procedure_body() -> Value {
    json!({"code": "1.001234", "name": "Cấp đổi giấy phép lái xe", "agency_level": "province",
           "agency_fee_vnd": 135000, "processing_days": 5,
           "required_documents": ["Đơn đề nghị", "Bản sao căn cước"]})
}

async fn admin_units_are_loaded_and_searchable(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let token = app.admin().await;
    let (status, provinces) = app.get("/api/v1/admin-units/provinces", &token).await;
    assert_eq!(status, 200);
    let provinces = provinces.as_array().unwrap();
    assert_eq!(provinces.len(), 34);
    let dong_thap = provinces.iter().find(|p| p["code"] == "82").unwrap();
    assert_eq!(dong_thap["name"], "Đồng Tháp");
    assert_eq!(dong_thap["type"], "tỉnh");

    let (_, wards) = app
        .get("/api/v1/admin-units/provinces/82/wards", &token)
        .await;
    assert_eq!(wards.as_array().unwrap().len(), 102);

    for q in [
        "cao%20lanh",
        "CAO%20L%C3%83NH",
        "lanh%20cao",
        "Ph%C6%B0%E1%BB%9Dng%20Cao%20L%C3%A3nh",
    ] {
        let (status, found) = app
            .get(
                &format!("/api/v1/admin-units/provinces/82/wards?q={q}"),
                &token,
            )
            .await;
        assert_eq!(status, 200);
        let codes: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"29869"), "q={q} gave {codes:?}");
        assert!(found
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["province_code"] == "82"));
    }
    // Wildcards are literal, not patterns.
    let (_, found) = app
        .get("/api/v1/admin-units/provinces/82/wards?q=%25", &token)
        .await;
    assert_eq!(found.as_array().unwrap().len(), 0);

    let res = app
        .send(
            Method::GET,
            "/api/v1/admin-units/provinces/99/wards",
            Some(&token),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .send(Method::GET, "/api/v1/admin-units/provinces", None, None)
        .await;
    assert_problem(res, 401, "unauthorized").await;
}

async fn agencies_post_offices_procedures_round_trip(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let token = app.admin().await;

    let (status, agency) = app.post("/api/v1/agencies", &token, &agency_body()).await;
    assert_eq!(status, 201, "{agency}");
    assert_eq!(agency["province_code"], "82");
    assert!(agency["created_at"].as_str().unwrap().ends_with("+07:00"));
    let (status, got) = app
        .get(&format!("/api/v1/agencies/{}", agency["id"]), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got, agency);
    let (_, page) = app.get("/api/v1/agencies?q=dong%20thap", &token).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_cursor"], Value::Null);
    let res = app
        .send(Method::GET, "/api/v1/agencies/999", Some(&token), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .send(Method::GET, "/api/v1/agencies/abc", Some(&token), None)
        .await;
    assert_problem(res, 400, "invalid_path").await;

    let (status, office) = app
        .post("/api/v1/post-offices", &token, &post_office_body())
        .await;
    assert_eq!(status, 201, "{office}");
    let (_, page) = app.get("/api/v1/post-offices", &token).await;
    assert_eq!(page["items"][0]["name"], "Bưu cục Cao Lãnh");

    let (status, proc_) = app
        .post("/api/v1/procedures", &token, &procedure_body())
        .await;
    assert_eq!(status, 201, "{proc_}");
    assert_eq!(proc_["required_documents"][1], "Bản sao căn cước");
    let mut other = procedure_body();
    other["code"] = json!("2.000001");
    other["name"] = json!("Đăng ký khai sinh");
    other["agency_level"] = json!("commune");
    assert_eq!(app.post("/api/v1/procedures", &token, &other).await.0, 201);
    let (_, found) = app
        .get("/api/v1/procedures?q=giay%20phep%20lai%20xe", &token)
        .await;
    let codes: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1.001234"]);
    let (_, found) = app
        .get(
            "/api/v1/procedures?q=khai%20sinh&agency_level=commune",
            &token,
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (status, got) = app.get("/api/v1/procedures/2.000001", &token).await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "Đăng ký khai sinh");
    let (status, body) = app
        .post("/api/v1/procedures", &token, &procedure_body())
        .await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (409, Some("already_exists"))
    );

    // Paging walks the whole list without repeats.
    for i in 0..4 {
        let mut body = post_office_body();
        body["name"] = json!(format!("Bưu cục số {i}"));
        assert_eq!(app.post("/api/v1/post-offices", &token, &body).await.0, 201);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = app
            .get(
                &format!("/api/v1/post-offices?limit=2&cursor={cursor}"),
                &token,
            )
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
}

async fn holidays_are_replaced_whole(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let token = app.admin().await;
    let list = json!([{"date": "2026-09-02", "name": "Quốc khánh"}, {"date": "2026-04-30", "name": "Ngày Giải phóng miền Nam"}]);
    let res = app
        .send(Method::PUT, "/api/v1/holidays", Some(&token), Some(&list))
        .await;
    assert_eq!(res.status(), 200);
    let (_, got) = app.get("/api/v1/holidays", &token).await;
    assert_eq!(
        got,
        json!([{"date": "2026-04-30", "name": "Ngày Giải phóng miền Nam"}, {"date": "2026-09-02", "name": "Quốc khánh"}])
    );
    let res = app
        .send(
            Method::PUT,
            "/api/v1/holidays",
            Some(&token),
            Some(&json!([{"date": "2027-01-01", "name": "Tết Dương lịch"}])),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, got) = app.get("/api/v1/holidays", &token).await;
    assert_eq!(got.as_array().unwrap().len(), 1);
}

crate::on_both_backends!(
    admin_units_are_loaded_and_searchable,
    agencies_post_offices_procedures_round_trip,
    holidays_are_replaced_whole,
);
