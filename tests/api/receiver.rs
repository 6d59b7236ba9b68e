//! A real local HTTP receiver (an actix server started in the test) standing in for
//! the SMS gateway and for webhook targets: it records every request, can fail the
//! first N, and can hold requests (never answering) to simulate a sender dying mid-send.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub json: Value,
    /// Whether it was answered 2xx.
    pub accepted: bool,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn delivery_id(&self) -> String {
        self.json["delivery_id"].as_str().unwrap_or("").to_owned()
    }
}

#[derive(Default)]
struct State {
    hits: Mutex<Vec<Hit>>,
    fail_left: AtomicUsize,
    hold: AtomicBool,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    state: Arc<State>,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut hit = Hit {
        path: req.path().to_owned(),
        headers,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
        body: text,
        accepted: false,
    };
    if state.hold.load(Ordering::SeqCst) {
        state.hits.lock().unwrap().push(hit);
        // Never answers while held: the sender is expected to die meanwhile.
        tokio::time::sleep(Duration::from_secs(30)).await;
        return HttpResponse::ServiceUnavailable().finish();
    }
    let fail = state
        .fail_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    hit.accepted = !fail;
    state.hits.lock().unwrap().push(hit);
    if fail {
        HttpResponse::InternalServerError().body("tạm lỗi")
    } else {
        HttpResponse::Ok().json(serde_json::json!({"ok": true}))
    }
}

impl Receiver {
    /// Starts a receiver that answers 500 to its first `fail_first` requests.
    pub fn start(fail_first: usize) -> Receiver {
        let state = web::Data::new(State {
            fail_left: AtomicUsize::new(fail_first),
            ..Default::default()
        });
        let inner = state.clone().into_inner();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(receive))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let address = server.addrs()[0];
        tokio::spawn(server.run());
        Receiver {
            base: format!("http://{address}"),
            state: inner,
        }
    }

    /// Holds (never answers) every request from now on, until `release`.
    pub fn hold(&self) {
        self.state.hold.store(true, Ordering::SeqCst);
    }

    /// Answers again.
    pub fn release(&self) {
        self.state.hold.store(false, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.accepted).collect()
    }

    /// Waits until `done` holds for the hits, or panics after `secs`.
    pub async fn wait_until(&self, secs: u64, what: &str, done: impl Fn(&[Hit]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if done(&self.hits()) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "receiver: {what} not reached in {secs} s; got {} hits ({} accepted)",
                    self.hits().len(),
                    self.accepted().len()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
