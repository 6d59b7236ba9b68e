//! Reports against a seeded data set with known answers, and complaints, on both backends.

use crate::helpers::{assert_problem, Backend, TestApp};
use crate::lifecycle::{request, world, World};
use buuta::db::models::{citizens, complaints, dossiers, events, tasks, users};
use buuta::db::{Db, DbConnection, StoreError};
use chrono::{Datelike, NaiveDateTime};
use reqwest::Method;
use serde_json::{json, Value};

/// Local Vietnamese time → stored naive UTC.
fn t(s: &str) -> NaiveDateTime {
    chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{s}:00+07:00"))
        .unwrap()
        .naive_utc()
}

struct Seed<'a> {
    c: &'a mut DbConnection,
    agency_id: i64,
    courier_id: i64,
    admin_id: i64,
    citizen_id: i64,
    n: u32,
}

impl Seed<'_> {
    /// A dossier created at `created` with a pickup window and events
    /// `(kind, status_after, at, task kind, data)`; returns its id.
    fn dossier(
        &mut self,
        created: &str,
        window: (&str, &str),
        status: &str,
        evs: &[(&str, &str, &str, Option<&str>, Value)],
    ) -> Result<i64, StoreError> {
        self.n += 1;
        let c = &mut *self.c;
        let d = dossiers::insert(
            c,
            &dossiers::NewDossier {
                tracking_code: format!("SEED{:09}VN", self.n),
                citizen_id: self.citizen_id,
                citizen_name: "Trần Thị Bình".into(),
                phone: "0912345678".into(),
                id_number: None,
                ward_code: "29869".into(),
                province_code: "82".into(),
                street: "123 Nguyễn Huệ".into(),
                lat: 10.46,
                lon: 105.63,
                location_approximate: false,
                procedure_code: "1.001234".into(),
                agency_id: self.agency_id,
                service: "both".into(),
                return_method: "home".into(),
                status: status.into(),
                version: evs.len() as i32,
                pickup_from: Some(t(window.0)),
                pickup_to: Some(t(window.1)),
                postal_fee_vnd: 25000,
                agency_fee_vnd: 135000,
                total_vnd: 160000,
                note: None,
                created_by: self.admin_id,
                created_at: t(created),
                updated_at: t(created),
            },
        )?;
        let mut task_ids = std::collections::HashMap::new();
        for kind in ["pickup", "deliver"] {
            let id = tasks::insert(
                c,
                &tasks::NewTask {
                    dossier_id: d.id,
                    kind: kind.into(),
                    status: "assigned".into(),
                    courier_id: Some(self.courier_id),
                    window_from: None,
                    window_to: None,
                    lat: 10.46,
                    lon: 105.63,
                    attempts: 0,
                    created_at: t(created),
                    updated_at: t(created),
                    zone_id: None,
                    outside_zone: false,
                },
            )?;
            task_ids.insert(kind, id);
        }
        for (kind, after, at, task, data) in evs {
            let mut data = data.clone();
            data["type"] = json!(kind);
            events::append(
                c,
                &events::NewEvent {
                    dossier_id: d.id,
                    task_id: task.map(|k| task_ids[k]),
                    kind: (*kind).into(),
                    status_after: (*after).into(),
                    actor_user_id: None,
                    actor_role: "courier".into(),
                    at: t(at),
                    recorded_at: t(at),
                    lat: None,
                    lon: None,
                    note: None,
                    data: data.to_string(),
                },
            )?;
        }
        Ok(d.id)
    }
}

/// Four dossiers in the week of Monday 2 November 2026 (no holidays) and one the
/// week after; the expected figures are worked out by hand in the test below.
async fn seed(app: &TestApp, w: &World) -> i64 {
    let db: Db = app.db.clone();
    let (agency_id, courier_id) = (w.agency_id, w.courier_id);
    tokio::task::spawn_blocking(move || {
        db.write_blocking(|c| -> Result<i64, StoreError> {
            let admin_id = users::find_by_username(c, "admin")?.unwrap().id;
            let citizen_id =
                citizens::upsert(c, "0912345678", "Trần Thị Bình", None, t("01T08:00"))?.id;
            let mut s = Seed {
                c,
                agency_id,
                courier_id,
                admin_id,
                citizen_id,
                n: 0,
            };
            let none = || json!({});
            let p = Some("pickup");
            let dl = Some("deliver");
            // A: every promise kept.
            let a = s.dossier(
                "02T08:00",
                ("02T09:00", "02T11:00"),
                "completed",
                &[
                    ("picked_up", "picked_up", "02T10:00", p, none()),
                    ("handed_over", "at_agency", "02T14:00", None, none()),
                    (
                        "result_ready",
                        "result_ready",
                        "04T09:00",
                        None,
                        json!({"outcome": "approved"}),
                    ),
                    ("collected", "out_for_delivery", "04T14:00", None, none()),
                    ("delivered", "completed", "05T10:00", dl, none()),
                ],
            )?;
            // B: picked up late, lodged in time, delivered late after a failed try.
            s.dossier(
                "02T08:00",
                ("02T09:00", "02T11:00"),
                "completed",
                &[
                    ("picked_up", "picked_up", "02T12:00", p, none()),
                    ("handed_over", "at_agency", "02T16:00", None, none()),
                    (
                        "result_ready",
                        "result_ready",
                        "03T09:00",
                        None,
                        json!({"outcome": "approved"}),
                    ),
                    ("collected", "out_for_delivery", "03T10:00", None, none()),
                    (
                        "failed",
                        "out_for_delivery",
                        "03T15:00",
                        dl,
                        json!({"task": "deliver", "reason": "not_home", "attempt": 1}),
                    ),
                    ("delivered", "completed", "05T09:00", dl, none()),
                ],
            )?;
            // C: picked up in time, never lodged (hand-over due Wed 4th 10:00).
            s.dossier(
                "03T08:00",
                ("03T09:00", "03T11:00"),
                "picked_up",
                &[("picked_up", "picked_up", "03T09:30", p, none())],
            )?;
            // D: one failed pickup, still waiting after its window.
            s.dossier(
                "04T08:00",
                ("04T09:00", "04T11:00"),
                "scheduled",
                &[
                    (
                        "assigned",
                        "scheduled",
                        "04T08:30",
                        p,
                        json!({"task": "pickup"}),
                    ),
                    (
                        "failed",
                        "scheduled",
                        "04T10:00",
                        p,
                        json!({"task": "pickup", "reason": "wrong_address", "attempt": 1}),
                    ),
                ],
            )?;
            // Outside the period.
            s.dossier("09T08:00", ("09T09:00", "09T11:00"), "requested", &[])?;
            // An open complaint past its deadline, and one answered late.
            for (due, answered) in [("06T17:00", None), ("06T17:00", Some("10T09:00"))] {
                let id = complaints::insert(
                    s.c,
                    &complaints::NewComplaint {
                        dossier_id: a,
                        content: "Bưu tá đến muộn".into(),
                        scope: "within_province".into(),
                        status: "open".into(),
                        received_at: t("02T15:00"),
                        due_at: t(due),
                        created_by: s.admin_id,
                        created_at: t("02T15:00"),
                    },
                )?;
                if let Some(at) = answered {
                    complaints::answer(s.c, id, "Đã nhắc nhở bưu tá", s.admin_id, t(at))?;
                }
            }
            Ok(a)
        })
    })
    .await
    .unwrap()
    .unwrap()
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

async fn report_figures_match_the_seeded_answers(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    seed(&app, &w).await;
    let q = "from=2026-11-02&to=2026-11-08";
    let (s, r) = app
        .get(&format!("/api/v1/reports/summary?{q}"), &w.dispatcher)
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["dossiers"], 4, "{r}");
    assert_eq!(
        r["by_status"],
        json!({"completed": 2, "picked_up": 1, "scheduled": 1})
    );
    let ot = &r["on_time"];
    assert_eq!(
        (&ot["pickup"]["on_time"], &ot["pickup"]["late"]),
        (&json!(2), &json!(2))
    );
    assert!(close(&ot["pickup"]["rate"], 0.5));
    assert_eq!(
        (&ot["handover"]["on_time"], &ot["handover"]["late"]),
        (&json!(2), &json!(1))
    );
    assert!(close(&ot["handover"]["rate"], 2.0 / 3.0));
    assert_eq!(
        (&ot["return"]["on_time"], &ot["return"]["late"]),
        (&json!(1), &json!(1))
    );
    let lt = &r["lead_times"];
    for (phase, count, mean, p90) in [
        ("pickup", 3, 2.5, 4.0),
        ("handover", 2, 4.0, 4.0),
        ("processing", 2, 30.0, 43.0),
        ("return", 2, 36.5, 48.0),
        ("total", 2, 73.5, 74.0),
    ] {
        assert_eq!(lt[phase]["count"], count, "{phase}");
        assert!(
            close(&lt[phase]["mean_hours"], mean),
            "{phase}: {}",
            lt[phase]
        );
        assert!(
            close(&lt[phase]["p90_hours"], p90),
            "{phase}: {}",
            lt[phase]
        );
    }
    assert_eq!(
        r["failed_attempts"],
        json!({"not_home": 1, "wrong_address": 1})
    );
    assert_eq!(r["by_agency"].as_array().unwrap().len(), 1);
    assert_eq!(r["by_agency"][0]["key"], w.agency_id);
    assert_eq!(r["by_agency"][0]["completed"], 2);
    assert_eq!(r["by_post_office"][0]["dossiers"], 4);
    let days: Vec<(String, i64)> = r["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["dossiers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-02".into(), 2),
            ("2026-11-03".into(), 1),
            ("2026-11-04".into(), 1)
        ]
    );
    let c = &r["by_courier"][0];
    assert_eq!(
        (
            &c["courier_id"],
            &c["pickups"],
            &c["deliveries"],
            &c["failed_attempts"]
        ),
        (&json!(w.courier_id), &json!(3), &json!(2), &json!(2))
    );
    assert_eq!(
        r["load_spread"],
        json!({"days": 0, "mean_ratio": null, "worst": null}),
        "one courier at work: no spread to measure"
    );
    assert_eq!(r["complaints"]["total"], 2);
    assert_eq!(r["complaints"]["overdue"], 1);
    assert_eq!(r["complaints"]["answered_late"], 1);

    // Filters: another agency has nothing; a later period only the fifth dossier.
    let (_, r) = app
        .get(
            &format!("/api/v1/reports/summary?{q}&agency_id=999"),
            &w.admin,
        )
        .await;
    assert_eq!(r["dossiers"], 0);
    assert_eq!(r["on_time"]["pickup"]["rate"], Value::Null);
    let (_, r) = app
        .get(
            "/api/v1/reports/summary?from=2026-11-09&to=2026-11-09",
            &w.admin,
        )
        .await;
    assert_eq!(r["dossiers"], 1);

    // The CSV: BOM, Vietnamese header and rows.
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/reports/dossiers.csv?{q}"),
            Some(&w.dispatcher),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("Mã hồ sơ,Ngày tiếp nhận,Trạng thái,Họ tên người dân"));
    assert!(lines[1]
        .starts_with("SEED000000001VN,2026-11-02 08:00,Hoàn thành,Trần Thị Bình,0912345678"));
    assert!(lines[1].ends_with("2026-11-05 10:00"), "{}", lines[1]);
    assert!(lines[4].contains("Đã lên lịch lấy hồ sơ"));

    // Charts: SVG drawn by us.
    for (name, needle) in [
        ("dossiers-per-day", "Số hồ sơ tiếp nhận mỗi ngày"),
        ("on-time-per-week", "Tuần 02/11"),
        ("lead-time-distribution", "3–5 ngày"),
    ] {
        let res = app
            .send(
                Method::GET,
                &format!("/api/v1/reports/charts/{name}.svg?{q}"),
                Some(&w.admin),
                None,
            )
            .await;
        assert_eq!(res.status(), 200, "{name}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml"));
        let svg = res.text().await.unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains(needle),
            "{name}: {svg}"
        );
    }
    let res = app
        .send(
            Method::GET,
            "/api/v1/reports/charts/pie.svg",
            Some(&w.admin),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .send(
            Method::GET,
            "/api/v1/reports/summary?from=yesterday",
            Some(&w.admin),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(
            Method::GET,
            "/api/v1/reports/summary",
            Some(&w.courier),
            None,
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
}

async fn complaints_have_deadlines_and_answers(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let w = world(&app).await;
    let (_, d) = app
        .post(
            "/api/v1/pickup-requests",
            &w.operator,
            &request(w.agency_id),
        )
        .await;
    let code = d["tracking_code"].as_str().unwrap();
    let path = format!("/api/v1/dossiers/{code}/complaints");
    let (s, c) = app
        .post(
            &path,
            &w.operator,
            &json!({"content": "Bưu tá không gọi trước khi đến"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        (&c["status"], &c["scope"], &c["overdue"]),
        (&json!("open"), &json!("within_province"), &json!(false))
    );
    // Due by 17:00 on the 5th working day after today (no holidays configured).
    let received =
        chrono::DateTime::parse_from_rfc3339(c["received_at"].as_str().unwrap()).unwrap();
    let mut day = received.date_naive();
    let mut left = 5;
    while left > 0 {
        day = day.succ_opt().unwrap();
        if day.weekday().num_days_from_monday() < 5 {
            left -= 1;
        }
    }
    assert_eq!(c["due_at"], format!("{day}T17:00:00+07:00"));

    let res = app
        .send(
            Method::POST,
            &path,
            Some(&w.operator),
            Some(&json!({"content": "  "})),
        )
        .await;
    assert_problem(res, 422, "validation_failed").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/dossiers/HS000000999VN/complaints",
            Some(&w.operator),
            Some(&json!({"content": "x"})),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    let (s, list) = app
        .get("/api/v1/complaints?status=open", &w.dispatcher)
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["tracking_code"], code);
    let (_, overdue) = app
        .get("/api/v1/complaints?overdue=true", &w.dispatcher)
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);

    let id = c["id"].as_i64().unwrap();
    let (s, a) = app
        .post(
            &format!("/api/v1/complaints/{id}/answer"),
            &w.operator,
            &json!({"answer": "Đã xin lỗi và nhắc nhở bưu tá"}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        (&a["status"], &a["answered_late"]),
        (&json!("answered"), &json!(false))
    );
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/complaints/{id}/answer"),
            Some(&w.operator),
            Some(&json!({"answer": "lần hai"})),
        )
        .await;
    assert_problem(res, 409, "conflict").await;
    let (_, list) = app
        .get("/api/v1/complaints?status=open", &w.dispatcher)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let res = app
        .send(
            Method::GET,
            "/api/v1/complaints?status=closed",
            Some(&w.admin),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
    let res = app
        .send(Method::GET, "/api/v1/complaints", Some(&w.courier), None)
        .await;
    assert_problem(res, 403, "forbidden").await;
}

crate::on_both_backends!(
    report_figures_match_the_seeded_answers,
    complaints_have_deadlines_and_answers,
);
