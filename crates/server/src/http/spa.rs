//! Serves the built SPA: assets from `dist/`, `index.html` for `/` and for every client-side
//! route, with a Content-Security-Policy that allows only this origin's scripts and WASM.
//!
//! `index.html` is `no-cache` (always revalidated); Trunk's content-hashed files never change
//! under their name, so they are cached for a year as `immutable`. `make spa` writes `.br` and
//! `.gz` siblings of them, which actix-files (`Files::try_compressed`) serves to clients that
//! accept them, with `Content-Encoding` set, so the `Compress` middleware leaves them alone.
//!
//! The demo products' pictures (`assets/products/*.svg`, a kilobyte each) are built into the
//! binary and served under [`PRODUCT_IMAGE_PREFIX`] whether or not the SPA is built, so the
//! `image_url` the seed writes always resolves: see [`image_routes`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, HeaderValue, IfNoneMatch};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, ResponseError, Scope, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

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
         img-src 'self' data: blob: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
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

/// Where the product pictures are served: `/images/products/<sku in lower case>.svg`.
pub const PRODUCT_IMAGE_PREFIX: &str = "/images/products/";

/// `Cache-Control` of a product picture: a day, then revalidated by its ETag (the name stays
/// when a picture is redrawn, so it cannot be `immutable`).
pub const IMAGE_CACHE: &str = "public, max-age=86400";

/// CSP of a picture: inside an `<img>` an SVG runs no script anyway; opened on its own, it may
/// not run any, load anything or be framed, and it is sandboxed as an opaque origin.
pub const IMAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

/// `(file stem, bytes)` of every file in `assets/products/`, read at compile time.
macro_rules! product_images {
    ($($stem:literal),* $(,)?) => {
        &[$((
            $stem,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/products/", $stem, ".svg")),
        )),*]
    };
}

/// The demo products' pictures, named by SKU in lower case (a test checks that this list and
/// the directory agree, and another that every seeded product has its picture).
#[rustfmt::skip]
const PRODUCT_IMAGES: &[(&str, &[u8])] = product_images![
    "kit-001", "kit-002", "kit-003", "kit-004", "kit-005", "kit-006", "kit-007", "kit-008", "kit-009",
    "ele-001", "ele-002", "ele-003", "ele-004", "ele-005", "ele-006", "ele-007", "ele-008",
    "out-001", "out-002", "out-003", "out-004", "out-005", "out-006", "out-007", "out-008",
    "app-001", "app-002", "app-003", "app-004", "app-005", "app-006", "app-007", "app-008",
    "hom-001", "hom-002", "hom-003", "hom-004", "hom-005", "hom-006", "hom-007", "hom-008",
    "bok-001", "bok-002", "bok-003", "bok-004", "bok-005", "bok-006", "bok-007", "bok-008", "bok-009",
];

/// A picture and its entity tag.
struct Image {
    body: &'static [u8],
    etag: EntityTag,
}

/// The pictures by file stem; entity tags are content hashes. They are weak: the `Compress`
/// middleware gzips SVG for the clients that accept it, and a strong tag would promise the
/// same bytes for both encodings.
static IMAGES: LazyLock<HashMap<&'static str, Image>> = LazyLock::new(|| {
    PRODUCT_IMAGES
        .iter()
        .map(|&(stem, body)| {
            let hash = Sha256::digest(body);
            let tag = hash.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>();
            (stem, Image { body, etag: EntityTag::new_weak(tag) })
        })
        .collect()
});

/// The URL of the picture of the product with this SKU; `None` when there is none.
pub fn product_image_url(sku: &str) -> Option<String> {
    let stem = sku.to_ascii_lowercase();
    IMAGES.contains_key(stem.as_str()).then(|| format!("{PRODUCT_IMAGE_PREFIX}{stem}.svg"))
}

/// Routes of the pictures: `GET`/`HEAD /images/products/{name}.svg`. Everything else under
/// `/images` is a 404 problem (never the SPA's page), and a name can only pick a built-in
/// picture, so no path reaches the file system. Outside `/api`: not part of the API contract.
pub fn image_routes() -> Scope {
    web::scope("/images")
        .service(
            web::resource("/products/{name}")
                .route(web::get().to(product_image))
                .default_service(web::to(image_method_not_allowed)),
        )
        .default_service(web::to(image_not_found))
}

/// A picture, or `304 Not Modified` when the client's copy is current.
async fn product_image(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let image = name
        .strip_suffix(".svg")
        .and_then(|stem| IMAGES.get(stem))
        .ok_or_else(|| ApiError::NotFound(format!("no image at {}", req.path())))?;
    let fresh = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&image.etag)),
        None => false,
    };
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header(header::ETag(image.etag.clone()))
        .insert_header((header::CACHE_CONTROL, IMAGE_CACHE))
        .insert_header((header::CONTENT_SECURITY_POLICY, IMAGE_CSP));
    Ok(if fresh { res.finish() } else { res.content_type("image/svg+xml").body(image.body) })
}

/// A method other than GET or HEAD on a picture (the method middleware answers first when
/// the SPA is served).
async fn image_method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut res = ApiError::MethodNotAllowed(format!("{} is not allowed on {}", req.method(), req.path()))
        .error_response();
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    res
}

/// Anything under `/images` that is not a picture.
async fn image_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no image at {}", req.path())))
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

    #[test]
    fn every_picture_in_the_assets_directory_is_built_in_and_small() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/products");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".svg"))
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> =
            PRODUCT_IMAGES.iter().map(|(stem, _)| format!("{stem}.svg")).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
        assert_eq!(IMAGES.len(), PRODUCT_IMAGES.len(), "a name is listed twice");
        for (stem, body) in PRODUCT_IMAGES {
            let text = std::str::from_utf8(body).unwrap();
            assert!(body.len() < 4096, "{stem}: {} bytes", body.len());
            assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{stem}");
            assert!(text.trim_end().ends_with("</svg>"), "{stem}");
            let lower = text.to_ascii_lowercase();
            for bad in ["<script", "javascript:", "<foreignobject", " on", "xlink:href=\"http", "href=\"http"]
            {
                assert!(!lower.contains(bad), "{stem} contains {bad:?}");
            }
        }
    }

    #[test]
    fn product_image_urls_name_built_in_pictures_by_lower_case_sku() {
        assert_eq!(product_image_url("KIT-001").as_deref(), Some("/images/products/kit-001.svg"));
        assert_eq!(product_image_url("bok-009").as_deref(), Some("/images/products/bok-009.svg"));
        for unknown in ["KIT-999", "", "../kit-001", "kit-001.svg"] {
            assert_eq!(product_image_url(unknown), None, "{unknown}");
        }
    }
}
