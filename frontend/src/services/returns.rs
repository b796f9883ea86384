//! `/api/returns` and `/api/staff/returns`: requesting a return (with its preview), the
//! customer's returns, one return with its actions, its photos (multipart upload, and the
//! images fetched with the bearer token), the staff queues and figures.

use std::cell::Cell;
use std::rc::Rc;

use gloo::file::{Blob, ObjectUrl};
use gloo::net::http::{Method, RequestBuilder, Response};
use gloo::timers::callback::Timeout;
use retail_api_types::{
    PROBLEM_JSON, PageQuery, Problem, ReturnPreview, ReturnRequest, Rma, RmaActionRequest, RmaFigures, RmaId,
    RmaList, StaffReturnQuery,
};
use web_sys::{AbortController, File, FormData};

use super::{Api, ApiError, with_query};

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

/// Sends a request whose body is not JSON (or that expects no JSON), with the bearer token
/// and a timeout; a non-2xx answer becomes [`ApiError::Problem`].
async fn send_raw(
    method: Method,
    path: &str,
    body: Option<FormData>,
    bearer: Option<&str>,
) -> Result<Response, ApiError> {
    let mut builder = RequestBuilder::new(path).method(method).header("Accept", "application/json, image/*");
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let controller = AbortController::new().map_err(|e| ApiError::Unexpected(format!("{e:?}")))?;
    builder = builder.abort_signal(Some(&controller.signal()));
    let timed_out = Rc::new(Cell::new(false));
    let _timer = {
        let timed_out = timed_out.clone();
        Timeout::new(PHOTO_TIMEOUT_MS, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let failed = |e: gloo::net::Error| {
        if timed_out.get() { ApiError::Timeout } else { ApiError::Network(e.to_string()) }
    };
    let req = match body {
        // The browser sets the multipart Content-Type with its boundary.
        Some(form) => builder.body(form),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let resp = req.send().await.map_err(failed)?;
    if resp.ok() {
        return Ok(resp);
    }
    let status = resp.status();
    let is_problem = resp.headers().get("content-type").is_some_and(|ct| ct.starts_with(PROBLEM_JSON));
    let text = resp.text().await.unwrap_or_default();
    let problem = if is_problem && let Ok(p) = serde_json::from_str::<Problem>(&text) {
        p
    } else {
        plain_problem(status, resp.headers().get("x-request-id"))
    };
    Err(ApiError::Problem { problem: Box::new(problem), retry_after_secs: None })
}

/// A problem made up from the status, for an answer that was not a problem document.
fn plain_problem(status: u16, request_id: Option<String>) -> Problem {
    let detail = match status {
        401 => "Please log in.".to_owned(),
        403 => "You are not allowed to do this.".to_owned(),
        404 => "Not found.".to_owned(),
        413 => "The photos are too large (at most 5 MiB each).".to_owned(),
        415 => "Only JPEG, PNG and WebP photos can be added.".to_owned(),
        429 => "Too many requests.".to_owned(),
        s if s >= 500 => "The server had a problem. Please try again.".to_owned(),
        s => format!("The request failed ({s})."),
    };
    Problem {
        type_uri: "about:blank".to_owned(),
        title: format!("HTTP {status}"),
        status,
        detail,
        code: format!("http_{status}"),
        request_id,
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_problems_say_what_happened() {
        let p = plain_problem(413, Some("r1".into()));
        assert_eq!((p.status, p.code.as_str(), p.request_id.as_deref()), (413, "http_413", Some("r1")));
        assert!(p.detail.contains("5 MiB"));
        assert!(plain_problem(502, None).detail.contains("server"));
        assert_eq!(plain_problem(418, None).detail, "The request failed (418).");
    }
}
