use crate::helpers::{assert_problem, into_json, Backend, TestApp, JWT_SECRET};
use buuta::auth::jwt::{Claims, JwtKeys};
use buuta::auth::Role;
use reqwest::Method;
use serde_json::json;

async fn admin_creates_operator_who_cannot_act_as_admin(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let admin = app.admin().await;
    let (status, user) = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "tongdai1", "password": "matkhau-123", "full_name": "Trần Thị Bình",
                    "role": "operator", "phone": "0912 345 678"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["role"], "operator");
    assert_eq!(user["phone"], "0912345678");
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());

    let (status, list) = app.get("/api/v1/users", &admin).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "tongdai1"]);

    let operator = app.login("tongdai1", "matkhau-123").await;
    let res = app
        .send(Method::GET, "/api/v1/users", Some(&operator), None)
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .send(Method::POST, "/api/v1/users", Some(&operator),
              Some(&json!({"username": "x1234", "password": "12345678", "full_name": "X", "role": "admin"})))
        .await;
    assert_problem(res, 403, "forbidden").await;
    // Staff reads are open to the operator.
    let (status, _) = app.get("/api/v1/admin-units/provinces", &operator).await;
    assert_eq!(status, 200);

    // The same username twice is a conflict, and nothing else was written.
    let (status, body) = app
        .post("/api/v1/users", &admin,
              &json!({"username": "TongDai1", "password": "matkhau-123", "full_name": "Khác", "role": "operator"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "already_exists");
    let (_, list) = app.get("/api/v1/users", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

async fn bad_tokens_get_401(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| Claims {
        sub: "1".into(),
        role: Role::Admin,
        post_office_id: None,
        agency_id: None,
        iat: now - 3600,
        exp,
    };
    let expired = JwtKeys::new(JWT_SECRET.as_bytes())
        .sign(&claims(now - 600))
        .unwrap();
    let foreign = JwtKeys::new(b"another secret")
        .sign(&claims(now + 600))
        .unwrap();
    let valid = JwtKeys::new(JWT_SECRET.as_bytes())
        .sign(&claims(now + 600))
        .unwrap();
    let mut tampered: Vec<String> = valid.split('.').map(str::to_owned).collect();
    tampered[2] = tampered[2].chars().rev().collect();
    let tampered = tampered.join(".");
    // Another algorithm with our secret, and an unsigned token (`alg: none`).
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(now + 600),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let payload = valid.split('.').nth(1).unwrap().to_owned();
    assert_eq!(base64url(br#"{"a":1}"#), "eyJhIjoxfQ");
    let unsigned = format!("{}.{payload}.", base64url(br#"{"alg":"none","typ":"JWT"}"#));
    // A courier's claims turned into an admin's, keeping the courier's signature.
    let mut courier = claims(now + 600);
    courier.role = Role::Courier;
    let courier_token = JwtKeys::new(JWT_SECRET.as_bytes()).sign(&courier).unwrap();
    let parts: Vec<&str> = courier_token.split('.').collect();
    let promoted = format!("{}.{payload}.{}", parts[0], parts[2]);
    for token in [
        "garbage",
        "a.b.c",
        expired.as_str(),
        foreign.as_str(),
        tampered.as_str(),
        hs512.as_str(),
        unsigned.as_str(),
        promoted.as_str(),
    ] {
        let res = app
            .send(Method::GET, "/api/v1/users", Some(token), None)
            .await;
        assert_problem(res, 401, "unauthorized").await;
    }
    let res = app.send(Method::GET, "/api/v1/users", None, None).await;
    assert_problem(res, 401, "unauthorized").await;
    // The forged-with-our-secret token is the control: it works.
    let res = app
        .send(Method::GET, "/api/v1/users", Some(&valid), None)
        .await;
    assert_eq!(res.status(), 200);
}

async fn refresh_token_works_once(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let (status, first) = app.login_raw("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    assert_eq!(first["role"], "admin");
    let refresh = |t: &str| json!({"refresh_token": t});
    let r1 = first["refresh_token"].as_str().unwrap();

    let (status, second) = into_json(
        app.send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&refresh(r1)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let (status, _) = app
        .get("/api/v1/users", second["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);

    // The old token works once only; showing it again revokes its whole family.
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&refresh(r1)),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&refresh(r2)),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&refresh("nonsense")),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
}

async fn logout_revokes_the_refresh_token(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let (_, pair) = app.login_raw("admin", crate::helpers::ADMIN_PASSWORD).await;
    let access = pair["access_token"].as_str().unwrap();
    let body = json!({"refresh_token": pair["refresh_token"]});
    let res = app
        .send(Method::POST, "/api/v1/auth/logout", None, Some(&body))
        .await;
    assert_problem(res, 401, "unauthorized").await;
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(access),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .send(Method::POST, "/api/v1/auth/refresh", None, Some(&body))
        .await;
    assert_problem(res, 401, "unauthorized").await;
}

async fn repeated_wrong_passwords_are_rate_limited(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    for i in 0..10 {
        let (status, body) = app.login_raw("admin", "wrong-password").await;
        assert_eq!(status, 401, "attempt {i}: {body}");
        assert_eq!(body["code"], "invalid_credentials");
    }
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "admin", "password": "wrong-password"})),
        )
        .await;
    assert!(res.headers().get("retry-after").is_some());
    assert_problem(res, 429, "rate_limited").await;
    // Even the right password waits now: the limit is checked first.
    let (status, _) = app.login_raw("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(status, 429);
    // Another username from the same address is not affected.
    let (status, body) = app.login_raw("someone", "wrong-password").await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_credentials");
}

async fn unknown_user_and_wrong_password_look_alike(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let (s1, b1) = app.login_raw("admin", "not-the-password").await;
    let (s2, b2) = app.login_raw("nobody-here", "not-the-password").await;
    assert_eq!(
        (s1, s2),
        (
            reqwest::StatusCode::UNAUTHORIZED,
            reqwest::StatusCode::UNAUTHORIZED
        )
    );
    assert_eq!(b1, b2, "the answers must not tell the cases apart");
}

crate::on_both_backends!(
    admin_creates_operator_who_cannot_act_as_admin,
    bad_tokens_get_401,
    refresh_token_works_once,
    logout_revokes_the_refresh_token,
    repeated_wrong_passwords_are_rate_limited,
    unknown_user_and_wrong_password_look_alike,
);

/// Base64url without padding (JWT segments).
fn base64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
