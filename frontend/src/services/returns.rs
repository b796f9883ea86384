//! `/api/returns` and `/api/staff/returns`: requesting a return (with its preview), the
//! customer's returns, one return with its actions, its photos (multipart upload, and the
//! images fetched with the bearer token), the staff queues and figures.

use gloo::file::{Blob, ObjectUrl};
use gloo::net::http::{Method, Response};
use retail_api_types::{
    PageQuery, ReturnPreview, ReturnRequest, Rma, RmaActionRequest, RmaFigures, RmaId, RmaList,
    StaffReturnQuery,
};
use web_sys::{File, FormData};

use super::{Api, ApiError, requests, with_query};

/// How long a photo upload or download may take, in milliseconds (photos are up to 5 MiB).
const PHOTO_TIMEOUT_MS: u32 = 60_000;

/// What a return request would refund, and why it would not be accepted (nothing is written).
pub async fn preview(api: &Api, body: &ReturnRequest) -> Result<ReturnPreview, ApiError> {
    api.send(Method::POST, "/api/returns/preview", Some(body)).await
}

/// Requests a return: `validating` when eligible, `rejected` (with its problems) otherwise.
pub async fn create(api: &Api, body: &ReturnRequest) -> Result<Rma, ApiError> {
    api.send(Method::POST, "/api/returns", Some(body)).await
}

/// One page of the caller's returns, newest first.
pub async fn list(api: &Api, query: &PageQuery) -> Result<RmaList, ApiError> {
    api.get(&with_query("/api/returns", query)?).await
}

/// One return (the caller's own; any for staff), with what the caller may do now.
pub async fn get(api: &Api, id: RmaId) -> Result<Rma, ApiError> {
    api.get(&format!("/api/returns/{id}")).await
}

/// Moves a return on (`body.version` from the return as last read).
pub async fn act(api: &Api, id: RmaId, body: &RmaActionRequest) -> Result<Rma, ApiError> {
    api.send(Method::POST, &format!("/api/returns/{id}/actions"), Some(body)).await
}

/// Every customer's returns, a team's queue (oldest first) or filtered.
pub async fn staff_list(api: &Api, query: &StaffReturnQuery) -> Result<RmaList, ApiError> {
    api.get(&with_query("/api/staff/returns", query)?).await
}

/// Counts and median times per stage, and what the dispositions moved.
pub async fn figures(api: &Api) -> Result<RmaFigures, ApiError> {
    api.get("/api/staff/returns/figures").await
}

/// Adds photos to a return (one multipart part named `photo` per file); the answer is the
/// return with them. An expired access token is renewed (by reading the return through
/// [`Api`]) and the upload sent once more.
pub async fn upload_photos(api: &Api, id: RmaId, files: &[File]) -> Result<Rma, ApiError> {
    let path = format!("/api/returns/{id}/photos");
    let send = |token: Option<String>| {
        let path = path.clone();
        async move {
            let form = FormData::new().map_err(|e| ApiError::Unexpected(format!("{e:?}")))?;
            for f in files {
                form.append_with_blob_and_filename("photo", f, &f.name())
                    .map_err(|e| ApiError::Unexpected(format!("{e:?}")))?;
            }
            let resp = send_raw(Method::POST, &path, Some(form), token.as_deref()).await?;
            let text = resp.text().await.map_err(|e| ApiError::Network(e.to_string()))?;
            serde_json::from_str::<Rma>(&text)
                .map_err(|e| ApiError::Unexpected(format!("unreadable answer from {path}: {e}")))
        }
    };
    match send(api.access_token()).await {
        Err(e) if e.status() == Some(401) => {
            // A read through the client renews the token (or ends the session).
            get(api, id).await?;
            send(api.access_token()).await
        }
        other => other,
    }
}

/// A photo of a return (`RmaPhoto::url`), fetched with the bearer token, as an object URL
/// for `<img src>`; the URL is revoked when the last clone is dropped.
pub async fn photo(api: &Api, url: &str) -> Result<ObjectUrl, ApiError> {
    let fetch = |token: Option<String>| async move {
        let resp = send_raw(Method::GET, url, None, token.as_deref()).await?;
        let mime = resp.headers().get("content-type");
        let bytes = resp.binary().await.map_err(|e| ApiError::Network(e.to_string()))?;
        Ok::<_, ApiError>(ObjectUrl::from(Blob::new_with_options(bytes.as_slice(), mime.as_deref())))
    };
    match fetch(api.access_token()).await {
        Err(e) if e.status() == Some(401) => {
            // Any authenticated read renews the token; the photo list itself is cheap enough.
            api.get::<serde_json::Value>("/api/auth/me").await?;
            fetch(api.access_token()).await
        }
        other => other,
    }
}

/// [`requests::send_raw`] for photos, with the made-up problems of a 413 or 415 naming the
/// photo limits.
async fn send_raw(
    method: Method,
    path: &str,
    body: Option<FormData>,
    bearer: Option<&str>,
) -> Result<Response, ApiError> {
    requests::send_raw(method, path, body, bearer, "application/json, image/*", PHOTO_TIMEOUT_MS)
        .await
        .map_err(about_photos)
}

/// A problem made up from the status (not a problem document) says what the photo limits are.
fn about_photos(e: ApiError) -> ApiError {
    match e {
        ApiError::Problem { mut problem, retry_after_secs } if problem.type_uri == "about:blank" => {
            match problem.status {
                413 => problem.detail = "The photos are too large (at most 5 MiB each).".to_owned(),
                415 => problem.detail = "Only JPEG, PNG and WebP photos can be added.".to_owned(),
                _ => {}
            }
            ApiError::Problem { problem, retry_after_secs }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use retail_api_types::Problem;

    use super::*;

    fn made_up(status: u16) -> ApiError {
        let problem = Problem {
            type_uri: "about:blank".to_owned(),
            title: format!("HTTP {status}"),
            status,
            detail: format!("The request failed ({status})."),
            code: format!("http_{status}"),
            request_id: Some("r1".into()),
            errors: Vec::new(),
        };
        ApiError::Problem { problem: Box::new(problem), retry_after_secs: None }
    }

    #[test]
    fn made_up_problems_name_the_photo_limits() {
        let big = about_photos(made_up(413));
        assert_eq!((big.status(), big.code()), (Some(413), Some("http_413")));
        assert!(big.detail().contains("5 MiB"), "{}", big.detail());
        assert!(about_photos(made_up(415)).detail().contains("WebP"));
        assert_eq!(about_photos(made_up(418)).detail(), "The request failed (418).");
        // A problem document of the server keeps its own words.
        let ApiError::Problem { mut problem, .. } = made_up(413) else { unreachable!() };
        problem.type_uri = "https://retail.test/problems/too-large".to_owned();
        problem.detail = "Too large.".to_owned();
        let server = ApiError::Problem { problem, retry_after_secs: None };
        assert_eq!(about_photos(server).detail(), "Too large.");
        assert_eq!(about_photos(ApiError::Timeout), ApiError::Timeout);
    }
}
