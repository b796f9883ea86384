//! The OpenAPI document, generated from the handlers' annotations and the same route list
//! that builds the router, so the two cannot drift.

use actix_web::App;
use retail_api_types::{FieldProblem, Problem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
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
        (name = "admin", description = "Catalog, stock, accounts and audit (staff)"),
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
    api
}

/// The document as committed under `openapi/openapi.json` (pretty JSON, trailing newline).
pub fn document_json(limiters: &Limiters) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&document(limiters))?;
    s.push('\n');
    Ok(s)
}
