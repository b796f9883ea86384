//! Serves the built SPA: assets from `dist/`, `index.html` for `/` and for every client-side
//! route, with a Content-Security-Policy that allows only this origin's scripts and WASM.

use std::path::Path;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
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
}
