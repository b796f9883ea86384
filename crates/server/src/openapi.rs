//! The OpenAPI document, generated from the handlers' annotations and the same route list
//! that builds the router, so the two cannot drift.

use actix_web::App;
use retail_api_types::{FieldProblem, Problem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::http::{Limiters, api_routes, ops_routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "retail API",
        description = "Catalog, accounts and administration of the retail platform. Errors are RFC 9457 \
                       problem documents (`application/problem+json`) with a stable `code`. Money is in \
                       integer minor units (`price_cents`); times are RFC 3339 UTC.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "accounts", description = "Register, log in, refresh, log out"),
        (name = "catalog", description = "Browse and search products"),
        (name = "cart", description = "The customer's server-side cart"),
        (name = "checkout", description = "Place and pay for an order (idempotent)"),
        (name = "orders", description = "The customer's orders and receipts"),
        (name = "credit", description = "The customer's store credit"),
        (name = "notifications", description = "The notification centre (what was mailed, shown in the app) and mail preferences"),
        (name = "returns", description = "Returns (RMA): request with a refund preview, photos, the timeline, and every action of the workflow"),
        (name = "flash", description = "Flash sales: live and upcoming sales, reservations (pay them through checkout)"),
        (name = "staff", description = "Orders across customers, store-credit grants, reconciliation, the return queues"),
        (name = "admin", description = "Catalog, stock, accounts, audit and flash sales (staff)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        scheme.description = Some("Access token from /api/auth/login, /register or /refresh".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let mut cookie = ApiKeyValue::new("retail_refresh");
        cookie.description = Some(
            "The refresh-token cookie the SPA holds (HttpOnly, SameSite=Strict, Path=/api/auth); \
             logout accepts it instead of a bearer token"
                .into(),
        );
        components.add_security_scheme("refresh_cookie", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
    }
}

/// The document the server serves at `/api/openapi.json`.
pub fn document(limiters: &Limiters) -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(ops_routes)
        .configure(api_routes(limiters))
        .split_for_parts();
    let mut api = api;
    add_standard_responses(&mut api);
    api
}

/// The answers any operation can give because of the layers every request passes through
/// (extractors, rate limits, authentication, the database), added where a handler did not
/// document them itself: a client reading the spec then knows every status it can get.
fn add_standard_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(retail_api_types::PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
                .build(),
        )
    };
    // Routes that never look at credentials.
    const NO_AUTH: [&str; 4] = ["/api/hello", "/api/categories", "/api/suppliers", "/api/auth/register"];
    for (path, item) in api.paths.paths.iter_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let mut add = |status: &str, description: &str| {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
            };
            if path == "/ready" {
                add("503", "Not ready: the database is unreachable or migrations are pending");
            }
            if !path.starts_with("/api/") {
                continue;
            }
            let has_body = op.request_body.is_some();
            let params = op.parameters.iter().flatten().filter_map(|p| match p {
                RefOr::T(p) => Some(p.parameter_in.clone()),
                RefOr::Ref(_) => None,
            });
            let (mut has_query, mut has_path, mut has_header) = (false, path.contains('{'), false);
            for place in params {
                has_query |= matches!(place, ParameterIn::Query);
                has_path |= matches!(place, ParameterIn::Path);
                has_header |= matches!(place, ParameterIn::Header);
            }
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if has_body || has_query || has_path || has_header {
                add("400", "Malformed request: unreadable JSON, query string, path parameter or header");
            }
            if !NO_AUTH.contains(&path.as_str()) {
                add("401", "Missing, invalid or expired credentials");
            }
            if secured {
                add("403", "The caller's role does not allow this");
            }
            if has_path {
                add("404", "No such resource");
            }
            if has_body {
                add("413", "Request body too large");
                add("415", "Content-Type is not application/json");
            }
            if has_body || has_query || has_header {
                add("422", "Invalid fields, each named in `errors` (or a reused `Idempotency-Key`)");
            }
            add("429", "Rate limited; see Retry-After");
            add("503", "Busy (database lock, connection or hashing slots); retry after Retry-After");
        }
    }
}

/// The document as committed under `openapi/openapi.json` (pretty JSON, trailing newline).
pub fn document_json(limiters: &Limiters) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&document(limiters))?;
    s.push('\n');
    Ok(s)
}
