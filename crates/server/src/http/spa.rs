//! Serves the built SPA: assets from `dist/`, `index.html` for `/` and for every client-side
//! route, with a Content-Security-Policy that allows only this origin's scripts and WASM.
//!
//! `index.html` is `no-cache` (always revalidated); Trunk's content-hashed files never change
//! under their name, so they are cached for a year as `immutable`. `make spa` writes `.br` and
//! `.gz` siblings of them, which actix-files (`Files::try_compressed`) serves to clients that
//! accept them, with `Content-Encoding` set, so the `Compress` middleware leaves them alone.

use std::path::Path;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// `index.html` and the CSP that goes with it.
#[derive(Debug, Clone)]
pub struct SpaIndex {
    html: Bytes,
    csp: String,
}

impl SpaIndex {
    /// Reads `dist/index.html`; `None` when the SPA has not been built.
    pub fn load(dist: &Path) -> Option<Arc<SpaIndex>> {
        let html = std::fs::read_to_string(dist.join("index.html")).ok()?;
        let csp = csp_for(&html);
        Some(Arc::new(SpaIndex { html: Bytes::from(html), csp }))
    }

    /// The page.
    pub fn respond(&self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, self.csp.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(self.html.clone())
    }
}

/// Trunk inlines a small module script that loads the WASM; the CSP allows exactly that
/// script by hash, plus same-origin scripts and WASM compilation.
fn csp_for(html: &str) -> String {
    let mut hashes = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else { break };
        let body = &after[body_start..body_start + close];
        if !tag.contains("src=") && !body.trim().is_empty() {
            hashes.push_str(&format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(body.as_bytes()))));
        }
        rest = &after[body_start + close..];
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Handler for `/` and unknown non-API paths.
pub async fn index(spa: web::Data<SpaIndex>) -> HttpResponse {
    spa.respond()
}

/// `Cache-Control` of a content-hashed file: it never changes under its name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether the last path segment is a Trunk output named by content hash:
/// `retail-frontend-<hash>.js`, `retail-frontend-<hash>_bg.wasm`, `style-<hash>.css` (and
/// their `.br`/`.gz` siblings). The hash is hexadecimal, at least 8 digits.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, _ext)) = name.split_once('.') else { return false };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else { return false };
    hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Wraps the static-file service: hashed files served successfully get [`IMMUTABLE`] and
/// `Vary: Accept-Encoding` (a precompressed sibling may answer the next client). Responses
/// that set their own `Cache-Control` (the `index.html` fallback) are left as they are.
pub async fn asset_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let hashed = is_hashed_asset(req.path());
    let mut res = next.call(req).await?;
    let ok = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let h = res.headers_mut();
    if hashed && ok && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        let varies = h.get_all(header::VARY).any(|v| {
            v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("accept-encoding")))
        });
        if !varies {
            h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_inline_scripts_by_hash_only() {
        let html = r#"<html><script src="/a.js"></script><script type="module">init()</script></html>"#;
        let csp = csp_for(html);
        let expected = STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn trunk_output_names_are_recognised_as_hashed() {
        for hashed in [
            "/retail-frontend-3f9c2a1b7d4e5f60.js",
            "/retail-frontend-3f9c2a1b7d4e5f60_bg.wasm",
            "/style-0a1b2c3d4e5f6789.css",
            "/retail-frontend-3f9c2a1b7d4e5f60_bg.wasm.br",
            "/style-0a1b2c3d4e5f6789.css.gz",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in ["/", "/index.html", "/app.js", "/products/7", "/style.css", "/my-page", "/a-b-c.js"] {
            assert!(!is_hashed_asset(plain), "{plain}");
        }
    }
}
