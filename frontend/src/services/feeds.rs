//! `/api/admin/partners` and `/api/admin/feeds` (admin): partners and their API keys, feed
//! uploads (multipart), feed jobs with their row errors, scheduled pulls; and the audit log
//! of those.

use gloo::net::http::{Method, Response};
use retail_api_types::{
    AuditList, AuditQuery, FeedJob, FeedJobList, FeedJobQuery, FeedMode, FeedResult, FeedSchedule,
    KeyRotated, NewPartner, NewSchedule, Partner, PartnerCreated, PartnerList, PartnerPatch, PartnerQuery,
    RotateKey, ScheduleList, SchedulePatch,
};
use serde::Serialize;
use web_sys::{File, FormData};

use super::requests::{self, NO_BODY};
use super::{Api, ApiError, with_query};

/// How long an upload or an errors download may take, in milliseconds (feeds run to MiBs,
/// and a synchronous upload answers only once the file is applied).
const FEED_TIMEOUT_MS: u32 = 120_000;

/// One page of partners, by name.
pub async fn partners(api: &Api, query: &PartnerQuery) -> Result<PartnerList, ApiError> {
    api.get(&with_query("/api/admin/partners", query)?).await
}

/// One partner with its keys.
pub async fn partner(api: &Api, id: i64) -> Result<Partner, ApiError> {
    api.get(&format!("/api/admin/partners/{id}")).await
}

/// Onboards a partner; the answer carries its first API key, shown this once.
pub async fn create_partner(api: &Api, body: &NewPartner) -> Result<PartnerCreated, ApiError> {
    api.send(Method::POST, "/api/admin/partners", Some(body)).await
}

/// Changes a partner (suspend or reactivate, mode, price column, limits).
pub async fn update_partner(api: &Api, id: i64, body: &PartnerPatch) -> Result<Partner, ApiError> {
    api.send(Method::PATCH, &format!("/api/admin/partners/{id}"), Some(body)).await
}

/// Issues a new key; the keys in use keep working for `grace_secs` (the server's default when
/// `None`). The new key is shown this once.
pub async fn rotate_key(api: &Api, id: i64, grace_secs: Option<i64>) -> Result<KeyRotated, ApiError> {
    api.send(Method::POST, &format!("/api/admin/partners/{id}/keys"), Some(&RotateKey { grace_secs })).await
}

/// Stops a key at once.
pub async fn revoke_key(api: &Api, id: i64, key_id: i64) -> Result<Partner, ApiError> {
    api.send(Method::POST, &format!("/api/admin/partners/{id}/keys/{key_id}/revoke"), NO_BODY).await
}

/// The query of an upload: `?mode=&async=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadQuery {
    pub mode: FeedMode,
    #[serde(rename = "async")]
    pub run_async: bool,
}

/// The upload path of a partner's feed.
pub fn upload_path(partner_id: i64, query: &UploadQuery) -> Result<String, ApiError> {
    with_query(&format!("/api/admin/partners/{partner_id}/feeds"), query)
}

/// The content type a feed file is sent with: JSON for `.json` files (or ones the browser
/// calls JSON), CSV otherwise (browsers type `.csv` inconsistently, sometimes
/// `application/vnd.ms-excel`, sometimes not at all).
pub fn feed_content_type(file_name: &str, browser_type: &str) -> &'static str {
    let json = file_name.to_ascii_lowercase().ends_with(".json") || browser_type.contains("json");
    if json { "application/json" } else { "text/csv" }
}

/// Uploads a feed file (one multipart part named `file`): 200 with the finished job, its
/// first row errors and whether the file was applied before; 202 with a queued job. An
/// expired access token is renewed (by reading the partner through [`Api`]) and the upload
/// sent once more.
pub async fn upload(
    api: &Api,
    partner_id: i64,
    file: &File,
    query: &UploadQuery,
) -> Result<FeedResult, ApiError> {
    let path = upload_path(partner_id, query)?;
    let content_type = feed_content_type(&file.name(), &file.type_());
    let send = |token: Option<String>| {
        let path = path.clone();
        async move {
            let unexpected = |e: wasm_bindgen::JsValue| ApiError::Unexpected(format!("{e:?}"));
            // The same bytes under the content type the API expects.
            let typed = file
                .slice_with_f64_and_f64_and_content_type(0.0, file.size(), content_type)
                .map_err(unexpected)?;
            let form = FormData::new().map_err(unexpected)?;
            form.append_with_blob_and_filename("file", &typed, &file.name()).map_err(unexpected)?;
            let resp = raw(Method::POST, &path, Some(form), token.as_deref(), "application/json").await?;
            let text = resp.text().await.map_err(|e| ApiError::Network(e.to_string()))?;
            serde_json::from_str::<FeedResult>(&text)
                .map_err(|e| ApiError::Unexpected(format!("unreadable answer from {path}: {e}")))
        }
    };
    match send(api.access_token()).await {
        Err(e) if e.status() == Some(401) => {
            // A read through the client renews the token (or ends the session).
            partner(api, partner_id).await?;
            send(api.access_token()).await
        }
        other => other,
    }
}

/// One page of feed jobs, newest first.
pub async fn jobs(api: &Api, query: &FeedJobQuery) -> Result<FeedJobList, ApiError> {
    api.get(&with_query("/api/admin/feeds/jobs", query)?).await
}

/// One feed job.
pub async fn job(api: &Api, id: i64) -> Result<FeedJob, ApiError> {
    api.get(&format!("/api/admin/feeds/jobs/{id}")).await
}

/// Where a job's row errors are, as CSV.
pub fn errors_path(job_id: i64) -> String {
    format!("/api/admin/feeds/jobs/{job_id}/errors")
}

/// All row errors of a job as CSV text (columns `row,field,reason`), fetched with the bearer
/// token.
pub async fn errors_csv(api: &Api, job_id: i64) -> Result<String, ApiError> {
    let path = errors_path(job_id);
    let fetch = |token: Option<String>| {
        let path = path.clone();
        async move {
            let resp = raw(Method::GET, &path, None, token.as_deref(), "text/csv").await?;
            resp.text().await.map_err(|e| ApiError::Network(e.to_string()))
        }
    };
    match fetch(api.access_token()).await {
        Err(e) if e.status() == Some(401) => {
            job(api, job_id).await?;
            fetch(api.access_token()).await
        }
        other => other,
    }
}

/// Runs a failed job again (409 unless it failed).
pub async fn requeue(api: &Api, id: i64) -> Result<FeedJob, ApiError> {
    api.send(Method::POST, &format!("/api/admin/feeds/jobs/{id}/requeue"), NO_BODY).await
}

/// Every schedule, by partner.
pub async fn schedules(api: &Api) -> Result<ScheduleList, ApiError> {
    api.get("/api/admin/feeds/schedules").await
}

/// Creates a schedule.
pub async fn create_schedule(api: &Api, body: &NewSchedule) -> Result<FeedSchedule, ApiError> {
    api.send(Method::POST, "/api/admin/feeds/schedules", Some(body)).await
}

/// Changes a schedule (URL, interval, paused or not).
pub async fn update_schedule(api: &Api, id: i64, body: &SchedulePatch) -> Result<FeedSchedule, ApiError> {
    api.send(Method::PATCH, &format!("/api/admin/feeds/schedules/{id}"), Some(body)).await
}

/// Deletes a schedule (its jobs stay).
pub async fn delete_schedule(api: &Api, id: i64) -> Result<(), ApiError> {
    api.send(Method::DELETE, &format!("/api/admin/feeds/schedules/{id}"), NO_BODY).await
}

/// One page of the audit log about one kind of entity (`partner`, `feed_job`, `feed_schedule`).
pub async fn audit(api: &Api, query: &AuditQuery) -> Result<AuditList, ApiError> {
    api.get(&with_query("/api/admin/audit", query)?).await
}

/// [`requests::send_raw`] for feed files, with the made-up problems of a 413 or 415 naming
/// the feed's limits.
async fn raw(
    method: Method,
    path: &str,
    body: Option<FormData>,
    bearer: Option<&str>,
    accept: &str,
) -> Result<Response, ApiError> {
    requests::send_raw(method, path, body, bearer, accept, FEED_TIMEOUT_MS).await.map_err(about_feeds)
}

/// A problem made up from the status (not a problem document) says what the feed limits are.
fn about_feeds(e: ApiError) -> ApiError {
    match e {
        ApiError::Problem { mut problem, retry_after_secs } if problem.type_uri == "about:blank" => {
            match problem.status {
                413 => problem.detail = "The file is larger than this partner may send.".to_owned(),
                415 => problem.detail = "Only CSV and JSON feed files can be uploaded.".to_owned(),
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

    #[test]
    fn uploads_name_their_mode_and_whether_to_queue() {
        let q = UploadQuery { mode: FeedMode::ValidateOnly, run_async: true };
        assert_eq!(
            upload_path(7, &q).ok().as_deref(),
            Some("/api/admin/partners/7/feeds?mode=validate_only&async=true")
        );
        let q = UploadQuery { mode: FeedMode::Strict, run_async: false };
        assert_eq!(
            upload_path(7, &q).ok().as_deref(),
            Some("/api/admin/partners/7/feeds?mode=strict&async=false")
        );
        assert_eq!(errors_path(12), "/api/admin/feeds/jobs/12/errors");
    }

    #[test]
    fn feed_files_go_as_csv_unless_they_are_json() {
        assert_eq!(feed_content_type("feed.csv", "text/csv"), "text/csv");
        assert_eq!(feed_content_type("feed.csv", "application/vnd.ms-excel"), "text/csv");
        assert_eq!(feed_content_type("feed.txt", ""), "text/csv");
        assert_eq!(feed_content_type("FEED.JSON", ""), "application/json");
        assert_eq!(feed_content_type("export", "application/json"), "application/json");
    }

    #[test]
    fn made_up_problems_name_the_feed_limits() {
        let made_up = |status: u16| {
            let problem = Problem {
                type_uri: "about:blank".to_owned(),
                title: format!("HTTP {status}"),
                status,
                detail: format!("The request failed ({status})."),
                code: format!("http_{status}"),
                request_id: None,
                errors: Vec::new(),
            };
            ApiError::Problem { problem: Box::new(problem), retry_after_secs: None }
        };
        assert!(about_feeds(made_up(413)).detail().contains("larger"));
        assert!(about_feeds(made_up(415)).detail().contains("CSV and JSON"));
        assert_eq!(about_feeds(made_up(400)).detail(), "The request failed (400).");
        let ApiError::Problem { mut problem, .. } = made_up(413) else { unreachable!() };
        problem.type_uri = "https://retail.test/problems/too-large".to_owned();
        problem.detail = "Over 1 KiB.".to_owned();
        assert_eq!(
            about_feeds(ApiError::Problem { problem, retry_after_secs: None }).detail(),
            "Over 1 KiB."
        );
    }
}
