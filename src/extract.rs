//! Request extractors whose every failure is a problem+json 4xx: JSON bodies
//! (content type, 1 MiB limit, syntax vs field errors), query strings and paths.

use crate::error::{ApiError, ErrorCode, FieldError};
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// How much of an oversize body is read and dropped so the client sees our 413.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A JSON body parsed into `T`, with a digest of its canonical form (for
/// idempotency: the same JSON with keys in another order digests alike).
#[derive(Debug)]
pub struct Json<T>(pub T, pub String);

impl<T> Json<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// The digest of the body.
    pub fn digest(&self) -> &str {
        &self.1
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(ct) = ct.to_str() else { return false };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "Dữ liệu gửi lên vượt quá giới hạn {} KiB",
            BODY_LIMIT / 1024
        ),
    )
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Nội dung phải là JSON (Content-Type: application/json)",
                ));
            }
            let mut body = web::BytesMut::new();
            let mut seen = 0usize;
            let mut overflow = declared.is_some_and(|n| n > BODY_LIMIT);
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::new(ErrorCode::MalformedJson, "Không đọc được dữ liệu gửi lên")
                })?;
                seen += chunk.len();
                if seen > BODY_LIMIT {
                    overflow = true;
                }
                if overflow {
                    if seen > DRAIN_LIMIT {
                        break;
                    }
                    continue;
                }
                body.extend_from_slice(&chunk);
            }
            if overflow {
                return Err(too_large());
            }
            parse_json_with_digest(&body).map(|(v, d)| Json(v, d))
        })
    }
}

/// Parses a body, telling syntax errors (400) from field errors (422 naming the field).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    parse_json_with_digest(body).map(|(v, _)| v)
}

fn parse_json_with_digest<T: DeserializeOwned>(body: &[u8]) -> Result<(T, String), ApiError> {
    // Syntax first, whatever the target type, so `{` into a list is still a 400.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("JSON sai cú pháp tại dòng {}, cột {}", e.line(), e.column()),
        )
    })?;
    let value = whole_numbers_as_integers(value);
    let digest = value.to_string();
    // serde fills a struct from an array, field by field (`[null, null]` would pass
    // for a body of two optional fields); a body that is an object must be one.
    if value.is_array() && wants_object::<T>() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            ErrorCode::ValidationFailed,
            "Sai kiểu dữ liệu (cần một đối tượng JSON)",
        )]));
    }
    serde_path_to_error::deserialize(value)
        .map(|v| (v, digest))
        .map_err(|err| {
            ApiError::validation(vec![data_error(
                &err.path().to_string(),
                &err.inner().to_string(),
            )])
        })
}

/// `5.0` is an integer to JSON Schema (and to the spec's `type: integer`), but serde
/// will not read it into an `i64`: whole numbers written with a fraction become
/// integers (floats read integers back unchanged).
fn whole_numbers_as_integers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f)
                if !n.is_i64()
                    && !n.is_u64()
                    && f.fract() == 0.0
                    && f >= i64::MIN as f64
                    && f < i64::MAX as f64 =>
            {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(whole_numbers_as_integers).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_numbers_as_integers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Whether `T` reads itself from a JSON object (a struct or a map), found by asking a
/// deserializer that answers nothing and notes which shape it was asked for.
fn wants_object<T: DeserializeOwned>() -> bool {
    struct Probe;
    const OBJECT: &str = "object";
    impl<'de> serde::Deserializer<'de> for Probe {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("other"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            _: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom(OBJECT))
        }

        fn deserialize_map<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom(OBJECT))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct enum
            identifier ignored_any
        }
    }
    matches!(T::deserialize(Probe), Err(e) if e.to_string() == OBJECT)
}

fn data_error(path: &str, message: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return FieldError::new(
            join(name),
            ErrorCode::ValidationFailed,
            "Thiếu trường bắt buộc",
        );
    }
    let field = if path.is_empty() { "body" } else { path };
    let text = if message.starts_with("invalid type") {
        let expected = message
            .split("expected ")
            .nth(1)
            .unwrap_or("")
            .split(" at line")
            .next()
            .unwrap_or("");
        format!("Sai kiểu dữ liệu (cần {expected})")
    } else if message.starts_with("unknown variant") {
        let allowed = message
            .split("expected ")
            .nth(1)
            .unwrap_or("")
            .split(" at line")
            .next()
            .unwrap_or("");
        format!(
            "Giá trị không được phép (cho phép: {})",
            allowed.replace('`', "")
        )
    } else {
        "Giá trị không hợp lệ".to_owned()
    };
    FieldError::new(field, ErrorCode::ValidationFailed, text)
}

/// Error handler for `web::Query`: 400 `invalid_query`.
pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!(
            "Tham số truy vấn không hợp lệ: {}",
            serde_message_vi(&err.to_string())
        ),
    )
    .into()
}

/// A serde error message, said in Vietnamese (the parts people need: which name,
/// which value), never the library's English.
pub fn serde_message_vi(msg: &str) -> String {
    let quoted = |after: &str| -> Option<String> {
        let rest = &msg[msg.find(after)? + after.len()..];
        let start = rest.find('`')? + 1;
        let end = start + rest[start..].find('`')?;
        Some(rest[start..end].to_owned())
    };
    if let Some(name) = quoted("missing field") {
        format!("thiếu tham số “{name}”")
    } else if let Some(value) = quoted("unknown variant") {
        format!("giá trị “{value}” không được chấp nhận")
    } else if let Some(name) = quoted("unknown field") {
        format!("không có tham số “{name}”")
    } else if msg.contains("invalid digit") || msg.contains("number too large") {
        "giá trị phải là số nguyên".to_owned()
    } else if msg.contains("invalid type") || msg.contains("invalid value") {
        "giá trị sai kiểu".to_owned()
    } else if msg.contains("duplicate field") {
        "một tham số xuất hiện hai lần".to_owned()
    } else {
        "sai định dạng".to_owned()
    }
}

/// Error handler for `web::Path`: 400 `invalid_path`.
pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidPath,
        format!(
            "Đường dẫn không hợp lệ: {}",
            serde_message_vi(&err.to_string())
        ),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_said_in_vietnamese() {
        assert_eq!(
            serde_message_vi("Query deserialize error: missing field `phone`"),
            "thiếu tham số “phone”"
        );
        assert_eq!(
            serde_message_vi("Query deserialize error: invalid digit found in string"),
            "giá trị phải là số nguyên"
        );
        assert_eq!(
            serde_message_vi("unknown variant `soon`, expected one of `a`, `b`"),
            "giá trị “soon” không được chấp nhận"
        );
        assert_eq!(serde_message_vi("something else entirely"), "sai định dạng");
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        address: Address,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Address {
        lat: f64,
        kind: Kind,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Home,
    }

    #[test]
    fn syntax_errors_are_400_malformed_json() {
        for bad in [
            &b"{"[..],
            b"not json",
            b"",
            br#"{"name":"a","address":{"lat":1.0,"kind":"home"}} trailing"#,
        ] {
            let e = parse_json::<Body>(bad).unwrap_err();
            assert_eq!(
                e.code,
                ErrorCode::MalformedJson,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn whole_numbers_with_a_fraction_are_integers() {
        #[derive(Debug, Deserialize)]
        struct Numbers {
            days: i64,
            lat: f64,
            list: Vec<u32>,
        }
        let n = parse_json::<Numbers>(br#"{"days": 68.0, "lat": 10.0, "list": [1.0, 2]}"#)
            .expect("whole numbers are integers");
        assert_eq!((n.days, n.lat, n.list), (68, 10.0, vec![1, 2]));
        let e = parse_json::<Numbers>(br#"{"days": 68.5, "lat": 1, "list": []}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "days");
        let e = parse_json::<Numbers>(br#"{"days": 1e300, "lat": 1, "list": []}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "days");
    }

    #[test]
    fn an_object_body_is_not_read_from_an_array() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Optional {
            a: Option<i64>,
            b: Option<String>,
        }
        let e = parse_json::<Optional>(b"[null, null]").unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.errors[0].field, "body");
        assert!(parse_json::<Optional>(b"{}").is_ok());
        assert!(parse_json::<Vec<Optional>>(b"[{}, {\"a\": 1}]").is_ok());
        assert!(parse_json::<std::collections::HashMap<String, i64>>(b"[]").is_err());
    }

    #[test]
    fn field_errors_name_the_field() {
        let e =
            parse_json::<Body>(br#"{"name":"a","address":{"lat":"x","kind":"home"}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.errors[0].field, "address.lat");
        let e = parse_json::<Body>(br#"{"name":"a","address":{"lat":1.0}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "address.kind");
        assert_eq!(e.errors[0].message, "Thiếu trường bắt buộc");
        let e = parse_json::<Body>(br#"{"address":{"lat":1.0,"kind":"home"}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "name");
        let e =
            parse_json::<Body>(br#"{"name":"a","address":{"lat":1.0,"kind":"car"}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "address.kind");
        assert!(e.errors[0].message.contains("home"));
    }
}
