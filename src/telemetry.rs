//! Structured logs via tracing; `RUST_LOG` filters, `BUUTA_LOG_FORMAT=json` for collectors.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once (later calls are ignored, which tests rely on).
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
