//! Structured logs via tracing; `RUST_LOG` filters, `BUUTA_LOG_FORMAT=json` for collectors.

use actix_web::HttpMessage;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once (later calls are ignored, which tests rely on).
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The request span of the access log: method, route template (never the path or
/// query, which may carry codes and phone numbers), status and request id; logged
/// once when the request ends.
pub struct AccessLog;

impl tracing_actix_web::RootSpanBuilder for AccessLog {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = crate::routing::template(request.request());
        let route = route.as_deref().unwrap_or("unmatched");
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(res) => res.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        let _guard = span.enter();
        if status >= 500 {
            tracing::error!("request failed");
        } else {
            tracing::info!("request");
        }
    }
}
