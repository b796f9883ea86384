//! Scheduled pulls of a partner's feed URL: admin CRUD, and the worker's runs, each a
//! conditional GET (`If-None-Match`, `If-Modified-Since`) whose new file becomes a queued
//! job; every run is recorded with its outcome.

use chrono::Utc;
use retail_api_types::{FeedSchedule, NewSchedule, ScheduleList, SchedulePatch, ScheduleRun};
use retail_domain::Caller;
use retail_domain::account::Permission;
use retail_store::Db;
use retail_store::models::{FeedScheduleRow, ScheduleRunRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::feeds as repo;
use serde_json::json;

use super::{NewJob, ServiceError, format};
use crate::config::PartnerSettings;
use crate::state::AppState;

fn dto(r: FeedScheduleRow, runs: Vec<ScheduleRunRow>) -> FeedSchedule {
    FeedSchedule {
        id: r.id,
        partner_id: r.partner_id,
        url: r.url,
        interval_secs: r.interval_secs,
        enabled: r.enabled,
        next_run_at: r.next_run_at,
        last_run_at: r.last_run_at,
        last_outcome: r.last_outcome,
        runs: runs
            .into_iter()
            .map(|x| ScheduleRun {
                at: x.created_at,
                outcome: x.outcome,
                http_status: x.http_status,
                job_id: x.job_id,
            })
            .collect(),
    }
}

/// A feed URL as the schema states it: `http` or `https`, a host of letters, digits, `.` and
/// `-`, an optional port 1 to 65535 (no leading zero), an optional path of printable ASCII.
fn check_url(url: &str) -> Result<String, ServiceError> {
    let bad = || {
        ServiceError::invalid(
            "url",
            "must be an http or https URL with a host name (at most 2000 characters)",
        )
    };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(bad)?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok =
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok =
        port.is_none_or(|p| !p.starts_with('0') && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n >= 1));
    let path_ok = path.bytes().all(|b| b.is_ascii_graphic());
    if url.len() > 2000 || !host_ok || !port_ok || !path_ok || reqwest::Url::parse(url).is_err() {
        return Err(bad());
    }
    Ok(url.to_owned())
}

fn check_interval(secs: i64) -> Result<i64, ServiceError> {
    if (60..=2_592_000).contains(&secs) {
        Ok(secs)
    } else {
        Err(ServiceError::invalid("interval_secs", "must be 60 to 2592000"))
    }
}

fn one(c: &mut retail_store::Conn, id: i64) -> Result<FeedSchedule, ServiceError> {
    let row = repo::schedule(c, id)?.ok_or_else(|| ServiceError::not_found(format!("schedule {id}")))?;
    let mut runs = repo::recent_runs(c, &[id], 10)?;
    Ok(dto(row, runs.remove(&id).unwrap_or_default()))
}

fn record(
    c: &mut retail_store::Conn,
    caller: &Caller,
    action: &str,
    id: i64,
    detail: serde_json::Value,
) -> Result<(), ServiceError> {
    audit::record(
        c,
        &AuditEvent {
            actor_id: caller.user_id().map(|u| u.get()),
            action,
            entity_type: "feed_schedule",
            entity_id: id.to_string(),
            detail,
        },
        Utc::now(),
    )?;
    Ok(())
}

/// Every schedule with its last runs (admin).
pub async fn list(state: &AppState, caller: &Caller) -> Result<ScheduleList, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    state
        .db
        .read(|c| {
            let rows = repo::schedules(c)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut runs = repo::recent_runs(c, &ids, 10)?;
            Ok(ScheduleList {
                items: rows
                    .into_iter()
                    .map(|r| {
                        let id = r.id;
                        dto(r, runs.remove(&id).unwrap_or_default())
                    })
                    .collect(),
            })
        })
        .await
}

/// Creates a schedule, due at once (admin).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: NewSchedule,
) -> Result<FeedSchedule, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let url = check_url(&req.url)?;
    let interval = check_interval(req.interval_secs)?;
    super::super::write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        retail_store::repo::partners::by_id(c, req.partner_id)?
            .ok_or_else(|| ServiceError::invalid("partner_id", "no such partner"))?;
        let row = repo::insert_schedule(
            c,
            req.partner_id,
            &url,
            interval,
            req.enabled.unwrap_or(true),
            Utc::now(),
        )?;
        record(
            c,
            caller,
            "feed_schedule.created",
            row.id,
            json!({"partner_id": row.partner_id, "url": url, "interval_secs": interval}),
        )?;
        one(c, row.id)
    })
    .await
}

/// Changes a schedule (admin).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: SchedulePatch,
) -> Result<FeedSchedule, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let url = req.url.as_deref().map(check_url).transpose()?;
    let interval = req.interval_secs.map(check_interval).transpose()?;
    super::super::write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        repo::update_schedule(c, id, url.as_deref(), interval, req.enabled, Utc::now())?
            .ok_or_else(|| ServiceError::not_found(format!("schedule {id}")))?;
        record(
            c,
            caller,
            "feed_schedule.updated",
            id,
            json!({"url": url, "interval_secs": interval, "enabled": req.enabled}),
        )?;
        one(c, id)
    })
    .await
}

/// Deletes a schedule (admin).
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> Result<(), ServiceError> {
    super::super::write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        if !repo::delete_schedule(c, id)? {
            return Err(ServiceError::not_found(format!("schedule {id}")));
        }
        record(c, caller, "feed_schedule.deleted", id, json!({}))
    })
    .await
}

/// What fetching a feed URL gave.
enum Fetched {
    NotModified,
    File {
        body: Vec<u8>,
        format: &'static dyn format::FeedFormat,
        etag: Option<String>,
        modified: Option<String>,
    },
}

async fn fetch(client: &reqwest::Client, s: &FeedScheduleRow, limit: i64) -> Result<(u16, Fetched), String> {
    let mut req = client.get(&s.url);
    if let Some(e) = &s.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = &s.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    let mut res = req.send().await.map_err(|e| format!("cannot fetch: {e}"))?;
    let status = res.status().as_u16();
    if status == 304 {
        return Ok((status, Fetched::NotModified));
    }
    if !res.status().is_success() {
        return Err(format!("the feed URL answered {status}"));
    }
    let header = |name: reqwest::header::HeaderName| {
        res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let etag = header(reqwest::header::ETAG);
    let modified = header(reqwest::header::LAST_MODIFIED);
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let format = format::by_media_type(&content_type)
        .or_else(|| format::by_file_name(s.url.split(['?', '#']).next().unwrap_or_default()))
        .ok_or_else(|| format!("unknown content type {content_type:?}: send text/csv or application/json"))?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("cannot read the feed: {e}"))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("the feed is larger than the partner's limit of {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, Fetched::File { body, format, etag, modified }))
}

/// Runs the schedules that are due, up to `limit`; returns how many ran.
pub async fn run_due(db: &Db, cfg: &PartnerSettings, limit: usize) -> Result<usize, ServiceError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(cfg.fetch_timeout_secs))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(ServiceError::internal)?;
    let mut ran = 0;
    for _ in 0..limit {
        let lease =
            Utc::now() + chrono::Duration::seconds(cfg.fetch_timeout_secs.try_into().unwrap_or(60) + 60);
        let claimed = db
            .write(move |c| {
                let Some(s) = repo::claim_schedule(c, Utc::now(), lease)? else {
                    return Ok::<_, ServiceError>(None);
                };
                let p = retail_store::repo::partners::by_id(c, s.partner_id)?;
                Ok(p.map(|p| (s, p)))
            })
            .await?;
        let Some((s, partner)) = claimed else { break };
        ran += 1;
        let fetched = if partner.status == "active" {
            fetch(&client, &s, partner.max_body_bytes).await
        } else {
            Err("the partner is suspended".into())
        };
        let next = Utc::now() + chrono::Duration::seconds(s.interval_secs);
        let id = s.id;
        db.write(move |c| {
            let now = Utc::now();
            match fetched {
                Ok((status, Fetched::NotModified)) => {
                    repo::record_run(
                        c,
                        id,
                        "not_modified",
                        Some(i64::from(status)),
                        None,
                        (None, None),
                        next,
                        now,
                    )?;
                }
                Ok((status, Fetched::File { body, format, etag, modified })) => {
                    let hash = super::sha256_hex(&body);
                    let (outcome, job) = match repo::same_file(c, partner.id, &hash)? {
                        Some(earlier) => {
                            (format!("unchanged (the file of job {})", earlier.id), Some(earlier.id))
                        }
                        None => {
                            let mode = super::mode_of(&partner, None);
                            let j = repo::insert_job(
                                c,
                                &NewJob {
                                    partner_id: partner.id,
                                    source: "schedule",
                                    schedule_id: Some(id),
                                    format: format.name(),
                                    mode: mode.as_str(),
                                    state: "queued",
                                    content_hash: &hash,
                                    body: &body,
                                    actor_id: None,
                                },
                                None,
                                None,
                                now,
                            )?;
                            ("queued".to_owned(), Some(j.id))
                        }
                    };
                    repo::record_run(
                        c,
                        id,
                        &outcome,
                        Some(i64::from(status)),
                        job,
                        (etag.as_deref(), modified.as_deref()),
                        next,
                        now,
                    )?;
                }
                Err(why) => {
                    repo::record_run(c, id, &format!("failed: {why}"), None, None, (None, None), next, now)?;
                }
            }
            Ok::<_, ServiceError>(())
        })
        .await?;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn feed_urls_are_http_with_a_plain_host() {
        for ok in ["http://a.b", "https://feeds.example.com:8443/v1/feed.csv?x=1", "http://127.0.0.1:65535/f"]
        {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://a.b",
            "http://",
            "http://[::1]/f",
            "http://a:0/",
            "http://a:65536/",
            "http://a:080/",
            "http://a b/",
            "http://a/\u{7f}",
            " http://a",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
