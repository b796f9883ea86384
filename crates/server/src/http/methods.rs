//! HTTP methods per path: every GET route answers HEAD, and a wrong method on a known path is
//! a 405 problem with an `Allow` header (RFC 9110 §15.5.6), while an unknown path stays 404.
//!
//! The API's paths and methods come from the OpenAPI document, which is built from the same
//! route list as the router; the SPA's pages and assets answer GET and HEAD.

use std::collections::BTreeSet;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError, web};

use crate::error::ApiError;

/// Whether `path` matches `template`: `{name}` matches one non-empty segment, a final `{*}`
/// matches the rest (zero or more segments).
pub fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (Some("{*}"), _) => return true,
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let param = ts.starts_with('{') && ts.ends_with('}');
                if !(param && !ps.is_empty() || ts == ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The methods each known path answers.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    spa: bool,
}

/// A path template, the length of its literal start (before its first `{`: a path it
/// matches starts with that, the cheap test tried first) and its methods.
#[derive(Debug, Clone)]
struct Route {
    template: String,
    literal: usize,
    methods: BTreeSet<&'static str>,
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

impl RouteTable {
    /// The operations of the OpenAPI document, plus the documentation routes; `spa` when the
    /// SPA is served (then every other non-API path is a page or an asset: GET and HEAD).
    pub fn new(doc: &utoipa::openapi::OpenApi, spa: bool) -> RouteTable {
        let mut table = RouteTable { routes: Vec::new(), spa };
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("OPTIONS", item.options.is_some()),
                ("HEAD", item.head.is_some()),
                ("PATCH", item.patch.is_some()),
                ("TRACE", item.trace.is_some()),
            ];
            table.add(path, ops.iter().filter(|(_, on)| *on).map(|(m, _)| *m));
        }
        table.add("/api/openapi.json", ["GET"]);
        table.add("/api/docs", ["GET"]);
        table.add("/api/docs/{*}", ["GET"]);
        table
    }

    fn add(&mut self, template: &str, methods: impl IntoIterator<Item = &'static str>) {
        let mut set: BTreeSet<&'static str> = methods.into_iter().collect();
        if set.contains("GET") {
            set.insert("HEAD");
        }
        let literal = template.find('{').unwrap_or(template.len());
        self.routes.push(Route { template: template.to_owned(), literal, methods: set });
    }

    /// The routes whose template matches `path`.
    fn matching<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Route> + 'a {
        self.routes.iter().filter(move |r| {
            path.starts_with(&r.template[..r.literal]) && template_matches(&r.template, path)
        })
    }

    /// Whether `path` answers `method` (the check every request makes, without building the
    /// set [`RouteTable::allowed`] lists); `None` for an unknown path.
    pub fn allows(&self, path: &str, method: &str) -> Option<bool> {
        let mut known = false;
        for r in self.matching(path) {
            if r.methods.contains(method) {
                return Some(true);
            }
            known = true;
        }
        if known {
            Some(false)
        } else if self.spa && !is_api(path) {
            Some(method == "GET" || method == "HEAD")
        } else {
            None
        }
    }

    /// The methods `path` answers; `None` for an unknown path.
    pub fn allowed(&self, path: &str) -> Option<BTreeSet<&'static str>> {
        let mut found: Option<BTreeSet<&'static str>> = None;
        for r in self.matching(path) {
            found.get_or_insert_with(BTreeSet::new).extend(r.methods.iter().copied());
        }
        if found.is_none() && self.spa && !is_api(path) {
            found = Some(BTreeSet::from(["GET", "HEAD"]));
        }
        found
    }
}

/// Marks a request that arrived as HEAD (the router saw GET).
#[derive(Debug, Clone, Copy)]
pub struct WasHead;

/// Middleware: a method the path does not answer gets 405 with `Allow`; HEAD is routed as
/// GET (HTTP/1 leaves the body out of a HEAD answer and keeps its headers, `Content-Length`
/// included). Needs a [`RouteTable`] in the app data; without one, it only maps HEAD.
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(table) = req.app_data::<web::Data<RouteTable>>()
        && table.allows(req.path(), req.method().as_str()) == Some(false)
        && let Some(allowed) = table.allowed(req.path())
    {
        let list = allowed.iter().copied().collect::<Vec<_>>().join(", ");
        let err = ApiError::MethodNotAllowed(format!("{} is not allowed on {}", req.method(), req.path()));
        let mut res = err.error_response();
        if let Ok(v) = HeaderValue::from_str(&list) {
            res.headers_mut().insert(header::ALLOW, v);
        }
        return Ok(req.into_response(res).map_into_right_body());
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(WasHead);
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        assert!(template_matches("/api/products", "/api/products"));
        assert!(template_matches("/api/products/{id}", "/api/products/7"));
        assert!(!template_matches("/api/products/{id}", "/api/products/"));
        assert!(!template_matches("/api/products/{id}", "/api/products"));
        assert!(!template_matches("/api/products/{id}", "/api/products/7/stock"));
        assert!(template_matches("/api/products/{id}/stock", "/api/products/7/stock"));
        assert!(!template_matches("/api/products", "/api/productsx"));
        assert!(template_matches("/api/docs/{*}", "/api/docs/"));
        assert!(template_matches("/api/docs/{*}", "/api/docs/a/b.js"));
        assert!(!template_matches("/api/docs/{*}", "/api/doc"));
    }

    #[test]
    fn the_table_adds_head_to_get_and_knows_pages_only_with_the_spa() {
        let mut t = RouteTable::default();
        t.add("/api/products", ["GET"]);
        t.add("/api/products/{id}", ["GET"]);
        t.add("/api/admin/products/{id}", ["PATCH"]);
        let set = |v: &[&'static str]| Some(v.iter().copied().collect::<BTreeSet<_>>());
        assert_eq!(t.allowed("/api/products"), set(&["GET", "HEAD"]));
        assert_eq!(t.allows("/api/products", "GET"), Some(true));
        assert_eq!(t.allows("/api/products", "POST"), Some(false));
        assert_eq!(t.allows("/api/admin/products/3", "PATCH"), Some(true));
        assert_eq!(t.allows("/api/admin/products/3", "GET"), Some(false));
        assert_eq!(t.allows("/api/nothing", "GET"), None);
        assert_eq!(t.allowed("/api/admin/products/3"), set(&["PATCH"]));
        assert_eq!(t.allowed("/api/nothing"), None);
        assert_eq!(t.allowed("/login"), None);
        t.spa = true;
        assert_eq!(t.allowed("/login"), set(&["GET", "HEAD"]));
        assert_eq!(t.allowed("/api/nothing"), None);
    }
}
