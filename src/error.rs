//! The HTTP layer's one error type and its one mapping to `application/problem+json`.
//!
//! Layering rule: the domain returns its own error enums, the store returns
//! [`crate::db::StoreError`]; handlers turn both into [`ApiError`] (via `From` or an
//! explicit field error) and nothing else ever reaches the client. Every error has a
//! stable snake_case [`ErrorCode`]; titles are Vietnamese because people read them.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// Stable machine codes; clients switch on these, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    ValidationFailed,
    InvalidQuery,
    InvalidPath,
    OutsideVietnam,
    UnknownWardCode,
    InvalidGeometry,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    Conflict,
    IllegalTransition,
    InvalidTrackingCode,
    IdempotencyKeyReused,
    RateLimited,
    Unavailable,
    Internal,
    InvalidSignature,
    StaleTimestamp,
    Replayed,
    InvalidOtp,
    DocumentShortfall,
}

impl ErrorCode {
    /// The HTTP status that goes with the code: one table, tested below.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MalformedJson | InvalidQuery | InvalidPath | InvalidTrackingCode => {
                StatusCode::BAD_REQUEST
            }
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ValidationFailed | OutsideVietnam | UnknownWardCode | InvalidGeometry
            | IdempotencyKeyReused | InvalidOtp => StatusCode::UNPROCESSABLE_ENTITY,
            Unauthorized | InvalidCredentials | InvalidSignature | StaleTimestamp => {
                StatusCode::UNAUTHORIZED
            }
            Replayed | DocumentShortfall => StatusCode::CONFLICT,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AlreadyExists | Conflict | IllegalTransition => StatusCode::CONFLICT,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Short Vietnamese title shown to people.
    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "Dữ liệu JSON không hợp lệ",
            UnsupportedMediaType => "Kiểu nội dung không được hỗ trợ",
            PayloadTooLarge => "Dữ liệu gửi lên quá lớn",
            ValidationFailed => "Dữ liệu không hợp lệ",
            InvalidQuery => "Tham số truy vấn không hợp lệ",
            InvalidPath => "Đường dẫn không hợp lệ",
            OutsideVietnam => "Tọa độ nằm ngoài lãnh thổ Việt Nam",
            UnknownWardCode => "Mã xã/phường không tồn tại",
            InvalidGeometry => "Vùng địa lý không hợp lệ",
            Unauthorized => "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ",
            InvalidCredentials => "Sai tên đăng nhập hoặc mật khẩu",
            Forbidden => "Không có quyền thực hiện thao tác này",
            NotFound => "Không tìm thấy",
            MethodNotAllowed => "Phương thức không được hỗ trợ",
            AlreadyExists => "Dữ liệu đã tồn tại",
            Conflict => "Xung đột dữ liệu",
            IllegalTransition => "Thao tác không hợp lệ ở trạng thái hiện tại",
            InvalidTrackingCode => "Mã hồ sơ không hợp lệ",
            IdempotencyKeyReused => "Idempotency-Key đã được dùng cho yêu cầu khác",
            RateLimited => "Quá nhiều yêu cầu, vui lòng thử lại sau",
            Unavailable => "Dịch vụ tạm thời không sẵn sàng",
            Internal => "Lỗi hệ thống",
            InvalidSignature => "Chữ ký không hợp lệ",
            StaleTimestamp => "Thời điểm ký quá cũ hoặc lệch giờ",
            Replayed => "Thông điệp đã được nhận trước đó",
            InvalidOtp => "Mã OTP không đúng hoặc đã hết hiệu lực",
            DocumentShortfall => "Số giấy tờ ít hơn số bưu tá đã nhận",
        }
    }

    /// The snake_case form, as serialised.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One bad input field: where it is, what rule it broke, and a Vietnamese message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
    pub message: String,
}

impl FieldError {
    /// Builds a field error; `field` uses dotted paths (`address.lat`, `items[2].name`).
    pub fn new(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// An error answer: status and body follow from the code; detail says what happened.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// Lost a race: the same request may simply be sent again.
    pub retryable: bool,
}

impl ApiError {
    /// An error with a Vietnamese detail sentence.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            retryable: false,
        }
    }

    /// 422 listing the bad fields; when they all share one code, that code leads
    /// (so a lone bad coordinate answers `outside_vietnam`, as the contract says).
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let code = match errors.first() {
            Some(first) if errors.iter().all(|e| e.code == first.code) => first.code,
            _ => ErrorCode::ValidationFailed,
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        Self {
            code,
            detail: format!("Các trường không hợp lệ: {}", fields.join(", ")),
            errors,
            retry_after_secs: None,
            retryable: false,
        }
    }

    /// 404 for a named kind of thing.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("Không tìm thấy {what}"))
    }

    /// 401: no usable credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "Vai trò của bạn không được phép thực hiện thao tác này",
        )
    }

    /// 500 whose cause is logged, never shown.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            "Đã xảy ra lỗi hệ thống, vui lòng thử lại sau",
        )
    }

    /// 429 telling the client when to come back.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("Vui lòng thử lại sau {} giây", retry_after_secs.max(1)),
            )
        }
    }

    /// The RFC 9457 body.
    pub fn body(&self) -> ProblemBody<'_> {
        ProblemBody {
            r#type: format!("https://buuta.vn/problems/{}", self.code.as_str()),
            title: self.code.title(),
            status: self.code.status().as_u16(),
            detail: &self.detail,
            code: self.code,
            errors: &self.errors,
        }
    }
}

/// Serialised shape of a problem document.
#[derive(Debug, Serialize)]
pub struct ProblemBody<'a> {
    pub r#type: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'a str,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    pub errors: &'a [FieldError],
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json");
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body())
    }
}

impl From<crate::db::StoreError> for ApiError {
    fn from(e: crate::db::StoreError) -> Self {
        use crate::db::StoreError;
        match e {
            StoreError::NotFound => ApiError::not_found("dữ liệu yêu cầu"),
            StoreError::UniqueViolation(what) => ApiError::new(
                ErrorCode::AlreadyExists,
                format!("Đã tồn tại bản ghi trùng: {what}"),
            ),
            StoreError::ForeignKeyViolation(what) => ApiError::validation(vec![FieldError::new(
                what,
                ErrorCode::ValidationFailed,
                "Tham chiếu tới dữ liệu không tồn tại",
            )]),
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "Cơ sở dữ liệu tạm thời không sẵn sàng",
                )
            }
            StoreError::Contention(cause) => {
                tracing::warn!(error = %cause, "write lost a race");
                ApiError {
                    retryable: true,
                    ..ApiError::new(
                        ErrorCode::Conflict,
                        "Dữ liệu vừa được thay đổi đồng thời, vui lòng thử lại",
                    )
                }
            }
            StoreError::Other(cause) => ApiError::internal(cause),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        crate::db::StoreError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_snake_case_with_their_status() {
        assert_eq!(ErrorCode::MalformedJson.as_str(), "malformed_json");
        assert_eq!(ErrorCode::OutsideVietnam.as_str(), "outside_vietnam");
        assert_eq!(ErrorCode::PayloadTooLarge.status(), 413);
        assert_eq!(ErrorCode::UnsupportedMediaType.status(), 415);
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::InvalidCredentials.status(), 401);
    }

    #[test]
    fn problem_body_is_rfc9457_shaped() {
        let e = ApiError::validation(vec![FieldError::new(
            "lat",
            ErrorCode::OutsideVietnam,
            "Tọa độ nằm ngoài lãnh thổ Việt Nam",
        )]);
        let json = serde_json::to_value(e.body()).unwrap();
        assert_eq!(json["status"], 422);
        assert_eq!(json["code"], "outside_vietnam");
        assert_eq!(json["type"], "https://buuta.vn/problems/outside_vietnam");
        assert_eq!(json["errors"][0]["field"], "lat");
        assert!(json["title"].as_str().unwrap().contains("Việt Nam"));
    }

    #[test]
    fn mixed_field_errors_lead_with_validation_failed() {
        let e = ApiError::validation(vec![
            FieldError::new("lat", ErrorCode::OutsideVietnam, "x"),
            FieldError::new("name", ErrorCode::ValidationFailed, "y"),
        ]);
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        let json = serde_json::to_value(e.body()).unwrap();
        assert_eq!(json["errors"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let res = ApiError::rate_limited(30).error_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "30");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
    }
}
