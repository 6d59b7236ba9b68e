//! Prometheus metrics: request counts and latency histograms by route pattern and
//! status, plus database pool usage. Kept in-process, rendered as text.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The metric registry shared by all workers.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition, with pool figures `(open, idle, max)`.
    pub fn render(&self, pool: (u32, u32, u32)) -> String {
        let map = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str("# HELP buuta_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE buuta_http_requests_total counter\n");
        for ((m, r, st), s) in &map {
            let _ = writeln!(
                out,
                "buuta_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP buuta_http_request_duration_seconds Time to answer.\n");
        out.push_str("# TYPE buuta_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in &map {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "buuta_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "buuta_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "buuta_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "buuta_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let (open, idle, max) = pool;
        out.push_str("# HELP buuta_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE buuta_db_pool_connections gauge\n");
        let _ = writeln!(out, "buuta_db_pool_connections{{state=\"open\"}} {open}");
        let _ = writeln!(out, "buuta_db_pool_connections{{state=\"idle\"}} {idle}");
        let _ = writeln!(
            out,
            "buuta_db_pool_connections{{state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
        out.push_str("# HELP buuta_db_pool_max_connections Pool size limit.\n");
        out.push_str("# TYPE buuta_db_pool_max_connections gauge\n");
        let _ = writeln!(out, "buuta_db_pool_max_connections {max}");
        out
    }

    /// Lines for the public tracking cache: look-ups answered from memory or not.
    pub fn render_track_cache(out: &mut String, (hits, misses): (u64, u64)) {
        out.push_str(
            "# HELP buuta_track_cache_lookups_total Public tracking look-ups by cache result.\n",
        );
        out.push_str("# TYPE buuta_track_cache_lookups_total counter\n");
        let _ = writeln!(
            out,
            "buuta_track_cache_lookups_total{{result=\"hit\"}} {hits}"
        );
        let _ = writeln!(
            out,
            "buuta_track_cache_lookups_total{{result=\"miss\"}} {misses}"
        );
    }
}

/// Middleware: times every request and records it under its route pattern (so
/// `/api/v1/agencies/{id}` is one series, not one per id; unknown paths share one).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = crate::routing::template(res.request());
        metrics.observe(
            &method,
            route.as_deref().unwrap_or("unmatched"),
            res.status().as_u16(),
            start.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_buckets_and_pool() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, 0.003);
        m.observe("GET", "/healthz", 200, 0.2);
        let text = m.render((3, 1, 16));
        assert!(text.contains(
            "buuta_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.25\"} 2"));
        assert!(text.contains("buuta_db_pool_connections{state=\"in_use\"} 2"));
        assert!(text.contains("buuta_db_pool_max_connections 16"));
        let mut text = String::new();
        Metrics::render_track_cache(&mut text, (7, 3));
        assert!(text.contains("buuta_track_cache_lookups_total{result=\"hit\"} 7\n"));
        assert!(text.contains("buuta_track_cache_lookups_total{result=\"miss\"} 3\n"));
    }
}
