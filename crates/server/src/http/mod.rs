//! HTTP layer: routes, extractors, middleware. Handlers are thin: extract, call a service
//! function, shape the response.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod extract;
pub mod idempotency;
pub mod methods;
pub mod metrics;
pub mod ops;
pub mod request_id;
pub mod spa;

use std::net::IpAddr;
use std::time::Duration;

use actix_governor::{
    Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::{Error, HttpMessage, HttpResponse, HttpResponseBuilder, ResponseError, web};
use governor::NotUntil;
use governor::clock::{Clock, DefaultClock, QuantaInstant};
use governor::middleware::NoOpMiddleware;
use retail_domain::account::Permission;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::LimitSettings;
use crate::error::{ApiError, problem_response};

pub use client::client_ip;

/// Rate-limit key: the client's IP address (the TCP peer, or the address a trusted proxy
/// forwarded: see [`client_ip`]).
#[derive(Clone)]
pub struct ClientIp {
    name: &'static str,
    metrics: Option<metrics::Metrics>,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        client_ip(req.request())
            .ok_or_else(|| SimpleKeyExtractionError::new("cannot determine the client address"))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        mut response: HttpResponseBuilder,
    ) -> HttpResponse {
        if let Some(m) = &self.metrics {
            m.rate_limited.with_label_values(&[self.name]).inc();
        }
        let wait = negative.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
        let problem = ApiError::RateLimited { retry_after_secs: wait }.problem();
        let mut res = problem_response(StatusCode::TOO_MANY_REQUESTS, &problem);
        // actix-governor already set Retry-After on the builder; carry its headers over.
        if let Some(h) = response.finish().headers().get(header::RETRY_AFTER) {
            res.headers_mut().insert(header::RETRY_AFTER, h.clone());
        } else {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        res
    }
}

type IpGovernor = GovernorConfig<ClientIp, NoOpMiddleware<QuantaInstant>>;

/// The per-IP rate limiters. Built once per server so that every worker thread shares
/// the same buckets.
#[derive(Clone)]
pub struct Limiters {
    auth: IpGovernor,
    api: IpGovernor,
    api_enabled: bool,
}

impl Limiters {
    /// Limiters from the settings.
    pub fn new(limits: &LimitSettings, m: &metrics::Metrics) -> Result<Limiters, String> {
        let build = |name: &'static str, burst: u32, refill: Duration, post_only: bool| {
            let mut b = GovernorConfigBuilder::default();
            b.period(refill.max(Duration::from_micros(1))).burst_size(burst.max(1));
            if post_only {
                b.methods(vec![Method::POST]);
            }
            b.key_extractor(ClientIp { name, metrics: Some(m.clone()) })
                .finish()
                .ok_or_else(|| format!("invalid rate limit settings for {name}"))
        };
        Ok(Limiters {
            auth: build(
                "auth_per_ip",
                limits.auth_per_ip_burst,
                Duration::from_millis(limits.auth_per_ip_refill_ms),
                true,
            )?,
            api: build(
                "api_per_ip",
                limits.api_per_ip_burst,
                Duration::from_micros(limits.api_per_ip_refill_us),
                false,
            )?,
            api_enabled: limits.api_per_ip_burst > 0,
        })
    }
}

/// Everything under `/api`, registered so that the router and the OpenAPI document come
/// from the same list.
pub fn api_routes(l: &Limiters) -> impl FnOnce(&mut ServiceConfig) + use<> {
    let l = l.clone();
    move |cfg: &mut ServiceConfig| {
        cfg.service(
            scope::scope("/api")
                .wrap(Condition::new(l.api_enabled, Governor::new(&l.api)))
                .service(ops::hello)
                .service(
                    scope::scope("/auth")
                        .wrap(Governor::new(&l.auth))
                        .service(accounts::register)
                        .service(accounts::login)
                        .service(accounts::refresh)
                        .service(accounts::logout)
                        .service(accounts::me),
                )
                .service(catalog::list_products)
                .service(catalog::get_product)
                .service(catalog::list_categories)
                .service(
                    scope::scope("/admin")
                        .wrap(from_fn(authorize_admin))
                        .service(admin::create_product)
                        .service(admin::update_product)
                        .service(admin::adjust_stock)
                        .service(admin::stock_movements)
                        .service(admin::list_users)
                        .service(admin::change_role)
                        .service(admin::audit_log),
                )
                .default_service(web::to(api_not_found)),
        );
    }
}

/// The permission each `/api/admin` route needs, by method and path template. The admin
/// scope's middleware checks it before the handler reads any body or query, so a caller
/// without rights learns nothing about the input a route expects. (The service layer checks
/// again; a unit test keeps this table in step with the routes.)
const ADMIN_PERMISSIONS: &[(&str, &str, Permission)] = &[
    ("POST", "/api/admin/products", Permission::ManageCatalog),
    ("PATCH", "/api/admin/products/{id}", Permission::ManageCatalog),
    ("POST", "/api/admin/products/{id}/stock", Permission::ManageCatalog),
    ("GET", "/api/admin/products/{id}/stock-movements", Permission::ViewStockLedger),
    ("GET", "/api/admin/users", Permission::ManageUsers),
    ("PUT", "/api/admin/users/{id}/role", Permission::ManageUsers),
    ("GET", "/api/admin/audit", Permission::ViewAudit),
];

/// The permission `method path` needs under `/api/admin`; `None` for no such route.
pub fn admin_permission(method: &Method, path: &str) -> Option<Permission> {
    ADMIN_PERMISSIONS
        .iter()
        .find(|(m, template, _)| *m == method.as_str() && methods::template_matches(template, path))
        .map(|(_, _, p)| *p)
}

/// Middleware on `/api/admin`: authenticates and checks the route's permission first (401,
/// 403); the authenticated caller is left in the request for the handler's [`auth::AuthUser`].
async fn authorize_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(p) = admin_permission(req.method(), req.path()) {
        match auth::authorize(req.request(), p).await {
            Ok(user) => {
                req.extensions_mut().insert(user);
            }
            Err(e) => return Ok(req.into_response(e.error_response()).map_into_right_body()),
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Operational routes at the root.
pub fn ops_routes(cfg: &mut ServiceConfig) {
    cfg.service(ops::health).service(ops::ready).service(ops::metrics);
}

/// Unknown `/api` path or method.
pub async fn api_not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())))
}

/// Middleware: security headers on every response; `no-store` on authenticated answers.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    }
    if authenticated {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_operation_has_a_permission_and_nothing_else_does() {
        let m = metrics::Metrics::new().unwrap();
        let limiters = Limiters::new(&LimitSettings::default(), &m).unwrap();
        let doc = crate::openapi::document(&limiters);
        let mut admin_ops = 0;
        for (path, item) in &doc.paths.paths {
            let concrete = path.replace("{id}", "7");
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_none() {
                    continue;
                }
                let p = admin_permission(&method, &concrete);
                if path.starts_with("/api/admin/") {
                    admin_ops += 1;
                    assert!(p.is_some(), "{method} {path} has no entry in ADMIN_PERMISSIONS");
                } else {
                    assert!(p.is_none(), "{method} {path}");
                }
            }
        }
        assert_eq!(admin_ops, ADMIN_PERMISSIONS.len(), "a table entry names no route");
    }
}
