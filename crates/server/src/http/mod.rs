//! HTTP layer: routes, extractors, middleware. Handlers are thin: extract, call a service
//! function, shape the response.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod extract;
pub mod flash;
pub mod idempotency;
pub mod methods;
pub mod metrics;
pub mod notifications;
pub mod ops;
pub mod partners;
pub mod request_id;
pub mod returns;
pub mod shop;
pub mod spa;
pub mod staff;

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
use governor::middleware::{NoOpMiddleware, StateInformationMiddleware};
use retail_domain::account::Permission;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::LimitSettings;
use crate::error::{ApiError, problem_response};

pub use client::client_ip;

/// A 429 problem for limiter `name`, with the `Retry-After` and `x-ratelimit-*` headers
/// actix-governor put on `response`.
fn limited(
    name: &'static str,
    metrics: Option<&metrics::Metrics>,
    negative: &NotUntil<QuantaInstant>,
    mut response: HttpResponseBuilder,
) -> HttpResponse {
    let wait = negative.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
    let problem = ApiError::RateLimited { retry_after_secs: wait }.problem();
    let mut res = problem_response(StatusCode::TOO_MANY_REQUESTS, &problem);
    let built = response.finish();
    for (k, v) in built.headers() {
        if k == header::RETRY_AFTER || k.as_str().starts_with("x-ratelimit-") {
            res.headers_mut().insert(k.clone(), v.clone());
        }
    }
    if !res.headers().contains_key(header::RETRY_AFTER) {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    // counted by `metrics::track`, which knows the route
    if metrics.is_some() {
        res.extensions_mut().insert(metrics::Limited(name));
    }
    res
}

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
        response: HttpResponseBuilder,
    ) -> HttpResponse {
        limited(self.name, self.metrics.as_ref(), negative, response)
    }
}

/// Who the API limit counts a request against: the account of a valid access token, else the
/// client's IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiClient {
    /// A signed-in account (its own bucket, wherever it connects from).
    Account(i64),
    /// An anonymous client.
    Ip(IpAddr),
}

/// Rate-limit key of the API limit. Signed-in customers behind one office NAT or one proxy
/// each get their own bucket, so a stampede of buyers from one address is not turned into
/// 429s for all of them; anonymous traffic is limited per address. (The token is only
/// verified here, signature and expiry; the routes still authenticate it fully.)
#[derive(Clone)]
pub struct ApiKey {
    metrics: Option<metrics::Metrics>,
}

impl KeyExtractor for ApiKey {
    type Key = ApiClient;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<ApiClient, Self::KeyExtractionError> {
        let account = auth::bearer(req.request()).ok().flatten().and_then(|token| {
            let state = req.app_data::<web::Data<crate::state::AppState>>()?;
            state.tokens.verify(&token).ok()?.sub.parse::<i64>().ok()
        });
        match account {
            Some(id) => Ok(ApiClient::Account(id)),
            None => client_ip(req.request())
                .map(ApiClient::Ip)
                .ok_or_else(|| SimpleKeyExtractionError::new("cannot determine the client address")),
        }
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        response: HttpResponseBuilder,
    ) -> HttpResponse {
        limited("api", self.metrics.as_ref(), negative, response)
    }
}

/// Rate-limit key of the sale purchase routes: the authenticated customer (left in the
/// request by [`authorize_protected`], which runs first). Requests without one are not
/// counted (they are refused with 401 before reaching a purchase route).
#[derive(Clone)]
pub struct Buyer {
    metrics: Option<metrics::Metrics>,
}

impl KeyExtractor for Buyer {
    type Key = Option<i64>;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Option<i64>, Self::KeyExtractionError> {
        Ok(req.extensions().get::<auth::AuthUser>().map(|u| u.id.get()))
    }

    fn whitelisted_keys(&self) -> Vec<Option<i64>> {
        vec![None]
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        response: HttpResponseBuilder,
    ) -> HttpResponse {
        limited("flash_purchase", self.metrics.as_ref(), negative, response)
    }
}

type IpGovernor = GovernorConfig<ClientIp, NoOpMiddleware<QuantaInstant>>;

/// The rate limiters. Built once per server so that every worker thread shares the same
/// buckets.
#[derive(Clone)]
pub struct Limiters {
    auth: IpGovernor,
    api: GovernorConfig<ApiKey, NoOpMiddleware<QuantaInstant>>,
    api_enabled: bool,
    purchase: GovernorConfig<Buyer, StateInformationMiddleware>,
    purchase_enabled: bool,
}

impl Limiters {
    /// Limiters from the settings.
    pub fn new(
        limits: &LimitSettings,
        flash: &crate::config::FlashSettings,
        m: &metrics::Metrics,
    ) -> Result<Limiters, String> {
        let invalid = |name: &str| format!("invalid rate limit settings for {name}");
        let auth = GovernorConfigBuilder::default()
            .period(Duration::from_millis(limits.auth_per_ip_refill_ms).max(Duration::from_micros(1)))
            .burst_size(limits.auth_per_ip_burst.max(1))
            .methods(vec![Method::POST])
            .key_extractor(ClientIp { name: "auth_per_ip", metrics: Some(m.clone()) })
            .finish()
            .ok_or_else(|| invalid("auth_per_ip"))?;
        let api = GovernorConfigBuilder::default()
            .period(Duration::from_micros(limits.api_per_ip_refill_us).max(Duration::from_micros(1)))
            .burst_size(limits.api_per_ip_burst.max(1))
            .key_extractor(ApiKey { metrics: Some(m.clone()) })
            .finish()
            .ok_or_else(|| invalid("api"))?;
        let purchase = GovernorConfigBuilder::default()
            .period(Duration::from_millis(flash.purchase_refill_ms).max(Duration::from_micros(1)))
            .burst_size(flash.purchase_burst.max(1))
            .methods(vec![Method::POST])
            .key_extractor(Buyer { metrics: Some(m.clone()) })
            .use_headers()
            .finish()
            .ok_or_else(|| invalid("flash_purchase"))?;
        Ok(Limiters {
            auth,
            api,
            api_enabled: limits.api_per_ip_burst > 0,
            purchase,
            purchase_enabled: flash.purchase_burst > 0,
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
                .service(partners::help)
                .service(
                    // partners authenticate with X-API-Key, checked before the body is read
                    scope::scope("/partner")
                        .wrap(from_fn(partners::partner_gate))
                        .service(partners::partner_upload)
                        .service(partners::partner_job)
                        .service(partners::partner_job_errors),
                )
                .service(catalog::list_products)
                .service(catalog::get_product)
                .service(catalog::list_categories)
                .service(catalog::list_suppliers)
                .service(
                    scope::scope("/cart")
                        .wrap(from_fn(authorize_protected))
                        .service(shop::get_cart)
                        .service(shop::clear_cart)
                        .service(shop::add_line)
                        .service(shop::update_line)
                        .service(shop::remove_line),
                )
                .service(
                    scope::scope("/checkout").wrap(from_fn(authorize_protected)).service(shop::place_order),
                )
                .service(
                    scope::scope("/orders")
                        .wrap(from_fn(authorize_protected))
                        .service(shop::my_orders)
                        .service(shop::get_order)
                        .service(shop::get_receipt)
                        .service(shop::cancel_my_order),
                )
                .service(scope::scope("/credit").wrap(from_fn(authorize_protected)).service(shop::my_credit))
                .service(
                    scope::scope("/notifications")
                        .wrap(from_fn(authorize_protected))
                        .service(notifications::list)
                        .service(notifications::read_all)
                        .service(notifications::preferences)
                        .service(notifications::set_preferences)
                        .service(notifications::read),
                )
                .service(
                    scope::scope("/returns")
                        .wrap(from_fn(authorize_protected))
                        .service(returns::preview)
                        .service(returns::create)
                        .service(returns::mine)
                        .service(returns::get_one)
                        .service(returns::act)
                        .service(returns::add_photos)
                        .service(returns::photo),
                )
                .service(
                    // The purchase limit runs after authentication (the outer middleware),
                    // keyed by the customer it found.
                    scope::scope("/flash")
                        .wrap(Condition::new(l.purchase_enabled, Governor::new(&l.purchase)))
                        .wrap(from_fn(authorize_protected))
                        .service(flash::list_sales)
                        .service(flash::get_sale)
                        .service(flash::reserve)
                        .service(flash::my_reservations)
                        .service(flash::my_reservation)
                        .service(flash::cancel_reservation),
                )
                .service(
                    scope::scope("/staff")
                        .wrap(from_fn(authorize_protected))
                        .service(staff::list_orders)
                        .service(staff::ship_order)
                        .service(staff::deliver_order)
                        .service(staff::cancel_order)
                        .service(staff::grant_credit)
                        .service(staff::user_credit)
                        .service(staff::reconciliation)
                        .service(returns::staff_queue)
                        .service(returns::figures),
                )
                .service(
                    scope::scope("/admin")
                        .wrap(from_fn(authorize_protected))
                        .service(admin::create_product)
                        .service(admin::update_product)
                        .service(admin::adjust_stock)
                        .service(admin::stock_movements)
                        .service(admin::list_users)
                        .service(admin::change_role)
                        .service(admin::audit_log)
                        .service(flash::admin_list_sales)
                        .service(flash::admin_create_sale)
                        .service(flash::admin_get_sale)
                        .service(flash::admin_update_sale)
                        .service(flash::admin_end_sale)
                        .service(notifications::outbox)
                        .service(notifications::requeue)
                        .service(ops::monitoring_snapshot)
                        .service(ops::monitoring_logs)
                        .service(partners::list_partners)
                        .service(partners::create_partner)
                        .service(partners::get_partner)
                        .service(partners::update_partner)
                        .service(partners::rotate_key)
                        .service(partners::revoke_key)
                        .service(partners::admin_upload)
                        .service(partners::list_jobs)
                        .service(partners::get_job)
                        .service(partners::job_errors)
                        .service(partners::requeue_job)
                        .service(partners::list_schedules)
                        .service(partners::create_schedule)
                        .service(partners::update_schedule)
                        .service(partners::delete_schedule),
                )
                .default_service(web::to(api_not_found)),
        );
    }
}

/// Who may call a protected route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Any signed-in account (the route acts on the caller's own records).
    SignedIn,
    /// An account whose role grants this permission.
    Needs(Permission),
}

/// Every protected route by method and path template, and who may call it. The middleware
/// of the protected scopes checks it before the handler reads any body or query, so a caller
/// without rights learns nothing about the input a route expects. (The service layer checks
/// again; a unit test keeps this table in step with the routes.)
const PROTECTED: &[(&str, &str, Guard)] = &[
    ("GET", "/api/cart", Guard::SignedIn),
    ("DELETE", "/api/cart", Guard::SignedIn),
    ("POST", "/api/cart/lines", Guard::SignedIn),
    ("PATCH", "/api/cart/lines/{id}", Guard::SignedIn),
    ("DELETE", "/api/cart/lines/{id}", Guard::SignedIn),
    ("POST", "/api/checkout", Guard::SignedIn),
    ("GET", "/api/orders", Guard::SignedIn),
    ("GET", "/api/orders/{id}", Guard::SignedIn),
    ("GET", "/api/orders/{id}/receipt", Guard::SignedIn),
    ("POST", "/api/orders/{id}/cancel", Guard::SignedIn),
    ("GET", "/api/credit", Guard::SignedIn),
    ("GET", "/api/notifications", Guard::SignedIn),
    ("POST", "/api/notifications/{id}/read", Guard::SignedIn),
    ("POST", "/api/notifications/read-all", Guard::SignedIn),
    ("GET", "/api/notifications/preferences", Guard::SignedIn),
    ("PUT", "/api/notifications/preferences", Guard::SignedIn),
    ("GET", "/api/admin/outbox", Guard::Needs(Permission::ManageNotifications)),
    ("POST", "/api/admin/outbox/{id}/requeue", Guard::Needs(Permission::ManageNotifications)),
    ("GET", "/api/admin/monitoring", Guard::Needs(Permission::ViewOperations)),
    ("GET", "/api/admin/monitoring/logs", Guard::Needs(Permission::ViewOperations)),
    ("GET", "/api/admin/partners", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/partners", Guard::Needs(Permission::ManagePartners)),
    ("GET", "/api/admin/partners/{id}", Guard::Needs(Permission::ManagePartners)),
    ("PATCH", "/api/admin/partners/{id}", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/partners/{id}/keys", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/partners/{id}/keys/{key}/revoke", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/partners/{id}/feeds", Guard::Needs(Permission::ManagePartners)),
    ("GET", "/api/admin/feeds/jobs", Guard::Needs(Permission::ManagePartners)),
    ("GET", "/api/admin/feeds/jobs/{id}", Guard::Needs(Permission::ManagePartners)),
    ("GET", "/api/admin/feeds/jobs/{id}/errors", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/feeds/jobs/{id}/requeue", Guard::Needs(Permission::ManagePartners)),
    ("GET", "/api/admin/feeds/schedules", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/admin/feeds/schedules", Guard::Needs(Permission::ManagePartners)),
    ("PATCH", "/api/admin/feeds/schedules/{id}", Guard::Needs(Permission::ManagePartners)),
    ("DELETE", "/api/admin/feeds/schedules/{id}", Guard::Needs(Permission::ManagePartners)),
    ("POST", "/api/returns/preview", Guard::SignedIn),
    ("POST", "/api/returns", Guard::SignedIn),
    ("GET", "/api/returns", Guard::SignedIn),
    ("GET", "/api/returns/{id}", Guard::SignedIn),
    ("POST", "/api/returns/{id}/actions", Guard::SignedIn),
    ("POST", "/api/returns/{id}/photos", Guard::SignedIn),
    ("GET", "/api/returns/{id}/photos/{photo}", Guard::SignedIn),
    ("GET", "/api/staff/returns", Guard::Needs(Permission::HandleReturns)),
    ("GET", "/api/staff/returns/figures", Guard::Needs(Permission::HandleReturns)),
    ("GET", "/api/staff/orders", Guard::Needs(Permission::ViewOrders)),
    ("POST", "/api/staff/orders/{id}/ship", Guard::Needs(Permission::ManageOrders)),
    ("POST", "/api/staff/orders/{id}/deliver", Guard::Needs(Permission::ManageOrders)),
    ("POST", "/api/staff/orders/{id}/cancel", Guard::Needs(Permission::ManageOrders)),
    ("POST", "/api/staff/credit", Guard::Needs(Permission::GrantCredit)),
    ("GET", "/api/staff/credit/{id}", Guard::Needs(Permission::GrantCredit)),
    ("GET", "/api/staff/reconciliation", Guard::Needs(Permission::Reconcile)),
    ("POST", "/api/admin/products", Guard::Needs(Permission::ManageCatalog)),
    ("PATCH", "/api/admin/products/{id}", Guard::Needs(Permission::ManageCatalog)),
    ("POST", "/api/admin/products/{id}/stock", Guard::Needs(Permission::ManageCatalog)),
    ("GET", "/api/admin/products/{id}/stock-movements", Guard::Needs(Permission::ViewStockLedger)),
    ("GET", "/api/admin/users", Guard::Needs(Permission::ManageUsers)),
    ("PUT", "/api/admin/users/{id}/role", Guard::Needs(Permission::ManageUsers)),
    ("GET", "/api/admin/audit", Guard::Needs(Permission::ViewAudit)),
    ("POST", "/api/flash/sales/{id}/reservations", Guard::SignedIn),
    ("GET", "/api/flash/reservations", Guard::SignedIn),
    ("GET", "/api/flash/reservations/{id}", Guard::SignedIn),
    ("POST", "/api/flash/reservations/{id}/cancel", Guard::SignedIn),
    ("GET", "/api/admin/sales", Guard::Needs(Permission::ManageSales)),
    ("POST", "/api/admin/sales", Guard::Needs(Permission::ManageSales)),
    ("GET", "/api/admin/sales/{id}", Guard::Needs(Permission::ManageSales)),
    ("PUT", "/api/admin/sales/{id}", Guard::Needs(Permission::ManageSales)),
    ("POST", "/api/admin/sales/{id}/end", Guard::Needs(Permission::ManageSales)),
];

/// Path prefixes whose every route is in [`PROTECTED`].
#[cfg(test)]
const PROTECTED_PREFIXES: &[&str] = &[
    "/api/cart",
    "/api/checkout",
    "/api/orders",
    "/api/credit",
    "/api/returns",
    "/api/notifications",
    "/api/staff/",
    "/api/admin/",
    "/api/flash/reservations",
    "/api/flash/sales/{id}/reservations",
];

/// Who may call `method path`; `None` for no such protected route.
pub fn route_guard(method: &Method, path: &str) -> Option<Guard> {
    PROTECTED
        .iter()
        .find(|(m, template, _)| *m == method.as_str() && methods::template_matches(template, path))
        .map(|(_, _, g)| *g)
}

/// Middleware on the protected scopes: authenticates and checks the route's guard first
/// (401, 403); the authenticated caller is left in the request for the handler's
/// [`auth::AuthUser`].
async fn authorize_protected(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(g) = route_guard(req.method(), req.path()) {
        let checked = match g {
            Guard::SignedIn => auth::signed_in(req.request()).await,
            Guard::Needs(p) => auth::authorize(req.request(), p).await,
        };
        match checked {
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
    fn every_protected_operation_has_a_guard_and_nothing_else_does() {
        let m = metrics::Metrics::new().unwrap();
        let limiters =
            Limiters::new(&LimitSettings::default(), &crate::config::FlashSettings::default(), &m).unwrap();
        let doc = crate::openapi::document(&limiters);
        let mut admin_ops = 0;
        for (path, item) in &doc.paths.paths {
            let concrete = path.replace("{id}", "7").replace("{photo}", "8");
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
                let p = route_guard(&method, &concrete);
                if PROTECTED_PREFIXES.iter().any(|pre| path.starts_with(pre)) {
                    admin_ops += 1;
                    assert!(p.is_some(), "{method} {path} has no entry in PROTECTED");
                } else {
                    assert!(p.is_none(), "{method} {path}");
                }
            }
        }
        assert_eq!(admin_ops, PROTECTED.len(), "a table entry names no route");
    }
}
