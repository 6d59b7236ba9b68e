//! The route table: the one way routes are registered, so the list of what is
//! served can be compared with `api-spec/openapi.yaml` (a test holds them together).

use crate::error::{ApiError, ErrorCode};
use actix_web::http::{header, Method};
use actix_web::ResponseError;
use actix_web::{
    web, FromRequest, Handler, HttpMessage, HttpRequest, HttpResponse, Responder, Route,
};
use std::rc::Rc;

/// The route template a request matched, remembered in its extensions.
#[derive(Clone)]
struct Template(Option<Rc<str>>);

/// The route template of the request (`/api/v1/track/{tracking_code}`), `None` for an
/// unknown path. The access rule, the access log and the metrics all need it; matching
/// walks the route table (regular expressions), so it is done once per request.
pub fn template(req: &HttpRequest) -> Option<Rc<str>> {
    if let Some(t) = req.extensions().get::<Template>() {
        return t.0.clone();
    }
    let t: Option<Rc<str>> = req.match_pattern().map(Rc::from);
    req.extensions_mut().insert(Template(t.clone()));
    t
}

/// Routes to be registered, remembered with their method and path template.
#[derive(Default)]
pub struct Routes {
    entries: Vec<(Method, &'static str, Route)>,
}

impl Routes {
    /// Adds a route.
    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.entries
            .push((method.clone(), path, web::method(method).to(handler)));
        self
    }

    /// Adds a GET route.
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    /// Adds a POST route.
    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }

    /// Adds a PUT route.
    pub fn put<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::PUT, path, handler)
    }

    /// `(METHOD, path)` of every route, in registration order.
    pub fn list(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(m, p, _)| (m.to_string(), (*p).to_owned()))
            .collect()
    }

    /// Registers one resource per path holding all its methods; another method on a
    /// known path answers 405 problem+json.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        let mut by_path: Vec<(&'static str, Vec<String>, Vec<Route>)> = Vec::new();
        for (method, path, route) in self.entries {
            match by_path.iter_mut().find(|(p, _, _)| *p == path) {
                Some((_, methods, routes)) => {
                    methods.push(method.to_string());
                    routes.push(route);
                }
                None => by_path.push((path, vec![method.to_string()], vec![route])),
            }
        }
        for (path, methods, routes) in by_path {
            let mut resource = web::resource(path);
            for route in routes {
                resource = resource.route(route);
            }
            let allow = methods.join(", ");
            cfg.service(resource.default_service(web::to(move || {
                let allow = allow.clone();
                async move { method_not_allowed(&allow) }
            })));
        }
    }
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut res = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("Đường dẫn này chỉ hỗ trợ: {allow}"),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// Fallback for unknown paths: a Vietnamese page for a browser (it asks for HTML and
/// the path is not under `/api/`), 404 problem+json for everyone else.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let state = req.app_data::<web::Data<crate::state::AppState>>();
    match state {
        Some(state) if wants_html(&req) => crate::pages::not_found(state),
        _ => ApiError::new(ErrorCode::NotFound, "Không có đường dẫn này").error_response(),
    }
}

/// A browser navigating to a page, not an API client: `Accept` names `text/html`.
fn wants_html(req: &HttpRequest) -> bool {
    !req.path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}
