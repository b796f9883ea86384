//! Partner feeds: a file (CSV or JSON) becomes a job; its rows are read by the format's
//! adapter, checked one by one (the domain's rules), compared with the catalog and, as the
//! mode says, applied in batched transactions (strict: one transaction). The same file is
//! applied once. Files above a size, or on request, are queued for `retail worker`, which
//! claims jobs under a lease (a crashed worker's job is taken over and applied once: the
//! rows are upserts).

pub mod csv;
pub mod format;
pub mod json;
pub mod schedules;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use retail_api_types::{
    FeedField, FeedHelp, FeedJob, FeedJobList, FeedJobQuery, FeedJobState, FeedMode, FeedResult, FeedRowError,
};
use retail_domain::account::Permission;
use retail_domain::feed::{self, Change, Existing, FeedRow, Mode, PriceColumn, RowError};
use retail_domain::paging::PageRequest;
use retail_domain::{Caller, Currency, Money};
use retail_store::Db;
use retail_store::models::{FeedJobRow, PartnerRow};
use retail_store::repo::audit::{self, AuditEvent};
use retail_store::repo::feeds::{self as repo, Counts, FeedProduct, NewJob};
use serde_json::json;
use sha2::{Digest, Sha256};

pub use format::{FeedFormat, FileError};

use super::ServiceError;
use crate::config::PartnerSettings;
use crate::http::metrics::BusinessMetrics;
use crate::state::AppState;

/// Row errors returned with an answer (all of them in the CSV report).
const ERRORS_IN_ANSWER: i64 = 100;

/// Who asks about a job: the partner (its own jobs) or an admin.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    /// The partner with this ID, through its key.
    Partner(i64),
    /// An admin.
    Admin,
}

impl Viewer {
    fn base(self) -> &'static str {
        match self {
            Viewer::Partner(_) => "/api/partner/feeds/jobs",
            Viewer::Admin => "/api/admin/feeds/jobs",
        }
    }
}

fn corrupt(what: String) -> ServiceError {
    ServiceError::from(retail_store::StoreError::Corrupt(what))
}

/// A job as the API shows it to `viewer`.
pub fn job_dto(r: &FeedJobRow, viewer: Viewer) -> Result<FeedJob, ServiceError> {
    let base = viewer.base();
    Ok(FeedJob {
        id: r.id,
        partner_id: r.partner_id,
        source: r.source.clone(),
        format: r.format.clone(),
        mode: FeedMode::parse(&r.mode).ok_or_else(|| corrupt(format!("mode of feed job {}", r.id)))?,
        state: FeedJobState::parse(&r.state).ok_or_else(|| corrupt(format!("state of feed job {}", r.id)))?,
        content_hash: r.content_hash.clone(),
        bytes: r.bytes,
        rows_total: r.rows_total,
        rows_created: r.rows_created,
        rows_updated: r.rows_updated,
        rows_unchanged: r.rows_unchanged,
        rows_rejected: r.rows_rejected,
        applied: r.applied,
        attempts: r.attempts,
        last_error: r.last_error.clone(),
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        status_url: format!("{base}/{}", r.id),
        errors_url: format!("{base}/{}/errors", r.id),
    })
}

fn domain_mode(m: FeedMode) -> Mode {
    match m {
        FeedMode::ValidateOnly => Mode::ValidateOnly,
        FeedMode::Lenient => Mode::Lenient,
        FeedMode::Strict => Mode::Strict,
    }
}

/// The partner's price contract for the domain.
pub fn contract(p: &PartnerRow) -> PriceColumn {
    if p.price_column == "price_cents" { PriceColumn::Minor } else { PriceColumn::Major }
}

fn sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

/// A file to apply.
pub struct Upload {
    /// Whose feed.
    pub partner: PartnerRow,
    /// Its format.
    pub format: &'static dyn FeedFormat,
    /// The file.
    pub body: Vec<u8>,
    /// The mode asked for (else the partner's).
    pub mode: Option<FeedMode>,
    /// `upload`, `schedule`, `cli` or `admin`.
    pub source: &'static str,
    /// The admin who sent it.
    pub actor: Option<i64>,
    /// The schedule that pulled it.
    pub schedule: Option<i64>,
}

/// What [`submit`] did.
#[derive(Debug)]
pub enum Submitted {
    /// Applied (or checked) while the caller waited.
    Done(FeedResult),
    /// Queued for a worker.
    Queued(FeedResult),
    /// The same file was applied before: that job.
    Duplicate(FeedResult),
}

/// The mode an upload runs in.
pub fn mode_of(partner: &PartnerRow, asked: Option<FeedMode>) -> FeedMode {
    asked.unwrap_or(if partner.mode == "strict" { FeedMode::Strict } else { FeedMode::Lenient })
}

/// Takes a file: recognises one applied before (the same bytes, by SHA-256), else records a
/// job and either queues it (`queue`) or applies it now. A file that cannot be read fails
/// its own job (422 `unreadable_feed`), and nothing else.
pub async fn submit(
    state: &AppState,
    up: Upload,
    queue: bool,
    viewer: Viewer,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<Submitted, ServiceError> {
    let cfg = &state.settings.partners;
    let queue = queue || up.body.len() > cfg.async_above_bytes;
    let partner = up.partner.clone();
    let Recorded { job, duplicate, body, owner } = record(&state.db, cfg, up, queue).await?;
    if duplicate {
        let errors = first_errors(&state.db, job.id).await?;
        return Ok(Submitted::Duplicate(FeedResult { job: job_dto(&job, viewer)?, duplicate: true, errors }));
    }
    if queue {
        return Ok(Submitted::Queued(FeedResult {
            job: job_dto(&job, viewer)?,
            duplicate: false,
            errors: Vec::new(),
        }));
    }
    let done =
        run(&state.db, cfg, &partner, &job, &owner, body, Some(&state.metrics.business), progress).await?;
    let errors = first_errors(&state.db, done.id).await?;
    Ok(Submitted::Done(FeedResult { job: job_dto(&done, viewer)?, duplicate: false, errors }))
}

/// A job just recorded (or the earlier job of the same file).
struct Recorded {
    job: FeedJobRow,
    duplicate: bool,
    body: Vec<u8>,
    owner: String,
}

/// Records the job of an upload, queued or held by this caller, unless the same file was
/// applied before (then that job): the check and the insert are one transaction.
async fn record(db: &Db, cfg: &PartnerSettings, up: Upload, queue: bool) -> Result<Recorded, ServiceError> {
    let mode = mode_of(&up.partner, up.mode);
    let hash = sha256_hex(&up.body);
    let owner = crate::service::notify::sender_name("feed");
    let lease = Utc::now() + chrono::Duration::seconds(cfg.lease_secs);
    let (partner_id, format, source, actor, schedule) =
        (up.partner.id, up.format.name(), up.source, up.actor, up.schedule);
    let body = up.body;
    let holder = owner.clone();
    let (job, duplicate, body) = db
        .write(move |c| {
            let now = Utc::now();
            if mode != FeedMode::ValidateOnly
                && let Some(earlier) = repo::same_file(c, partner_id, &hash)?
            {
                return Ok::<_, ServiceError>((earlier, true, Vec::new()));
            }
            let job = repo::insert_job(
                c,
                &NewJob {
                    partner_id,
                    source,
                    schedule_id: schedule,
                    format,
                    mode: mode.as_str(),
                    state: if queue { "queued" } else { "running" },
                    content_hash: &hash,
                    body: &body,
                    actor_id: actor,
                },
                (!queue).then_some(holder.as_str()),
                (!queue).then_some(lease),
                now,
            )?;
            Ok((job, false, body))
        })
        .await?;
    Ok(Recorded { job, duplicate, body, owner })
}

/// `retail feed import`: applies a file for partner `partner` now, reporting progress as
/// (rows applied, rows to apply). Returns the job and whether it is an earlier job of the
/// same file.
pub async fn import(
    db: &Db,
    cfg: &PartnerSettings,
    partner: i64,
    file_name: &str,
    body: Vec<u8>,
    mode: Option<FeedMode>,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<(FeedJobRow, bool), ServiceError> {
    let format = format::by_file_name(file_name)
        .ok_or_else(|| ServiceError::invalid("file", "must end in .csv, .tsv, .txt or .json"))?;
    let row = db
        .read(move |c| {
            retail_store::repo::partners::by_id(c, partner)?
                .ok_or_else(|| ServiceError::invalid("partner", format!("no partner {partner}")))
        })
        .await?;
    let up = Upload { partner: row.clone(), format, body, mode, source: "cli", actor: None, schedule: None };
    let Recorded { job, duplicate, body, owner } = record(db, cfg, up, false).await?;
    if duplicate {
        return Ok((job, true));
    }
    Ok((run(db, cfg, &row, &job, &owner, body, None, progress).await?, false))
}

/// The first row errors of a job.
pub async fn errors_of(db: &Db, job: i64) -> Result<Vec<FeedRowError>, ServiceError> {
    first_errors(db, job).await
}

async fn first_errors(db: &Db, job: i64) -> Result<Vec<FeedRowError>, ServiceError> {
    let rows = db.read(move |c| Ok::<_, ServiceError>(repo::errors(c, job, 0, ERRORS_IN_ANSWER)?)).await?;
    Ok(rows.into_iter().map(|(_, row, field, reason)| FeedRowError { row, field, reason }).collect())
}

/// The first pass over a file: every row checked, no row kept.
pub struct Scan {
    /// Refused rows, in row order.
    pub errors: Vec<RowError>,
    /// Data rows read.
    pub total: u64,
}

/// Reads and checks every row of `body` (no database), keeping only the errors: a later row
/// with an SKU seen before is refused (the first stands).
pub fn scan(
    format: &dyn FeedFormat,
    body: &[u8],
    price: PriceColumn,
    currency: Currency,
) -> Result<Scan, FileError> {
    let mut errors = Vec::new();
    let mut total = 0u64;
    let mut seen: HashMap<String, u64> = HashMap::new();
    format.read(body, price, &mut |r| {
        total += 1;
        match r.map(|raw| feed::validate_row(&raw, price, currency)) {
            Ok(Ok(row)) => {
                if let Some(first) = seen.get(row.sku.as_str()) {
                    errors.push(RowError {
                        row: row.number,
                        field: "sku".into(),
                        reason: format!("duplicate of row {first}"),
                    });
                } else {
                    seen.insert(row.sku.as_str().to_owned(), row.number);
                }
            }
            Ok(Err(e)) => errors.extend(e),
            Err(e) => errors.push(e),
        }
    })?;
    errors.sort_by_key(|e| e.row);
    Ok(Scan { errors, total })
}

/// Sends the valid rows of `body` (those not in `bad`) in chunks of `chunk` to `tx`, from a
/// blocking thread: the file is read a second time rather than all its rows kept.
fn stream(
    format: &'static dyn FeedFormat,
    body: Arc<Vec<u8>>,
    (price, currency): (PriceColumn, Currency),
    bad: Arc<HashSet<u64>>,
    chunk: usize,
    tx: tokio::sync::mpsc::Sender<Vec<FeedRow>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::with_capacity(chunk);
        let mut open = true;
        let _ = format.read(&body, price, &mut |r| {
            if !open {
                return;
            }
            if let Ok(Ok(row)) = r.map(|raw| feed::validate_row(&raw, price, currency))
                && !bad.contains(&row.number)
            {
                buf.push(row);
                if buf.len() >= chunk {
                    open = tx.blocking_send(std::mem::replace(&mut buf, Vec::with_capacity(chunk))).is_ok();
                }
            }
        });
        if open && !buf.is_empty() {
            let _ = tx.blocking_send(buf);
        }
    })
}

fn existing(p: &retail_store::models::ProductRow, owner: Option<i64>) -> Option<Existing> {
    Some(Existing {
        partner_id: owner,
        name: p.name.clone(),
        price: Money(p.price_cents),
        currency: Currency::parse("currency", &p.currency).ok()?,
        stock: p.stock,
        category: p.category.clone(),
        description: p.description.clone(),
    })
}

fn product(r: &FeedRow) -> FeedProduct<'_> {
    FeedProduct {
        sku: r.sku.as_str(),
        name: &r.name,
        description: &r.description,
        price_cents: r.price.cents(),
        currency: r.currency.code(),
        category: &r.category,
        stock: r.stock,
    }
}

/// Reports (rows applied, rows to apply).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// What one chunk did (or would do).
#[derive(Debug, Default)]
struct Tally {
    created: i64,
    updated: i64,
    unchanged: i64,
    errors: Vec<RowError>,
}

/// Compares a chunk with the catalog and, when `write`, applies it (in the caller's
/// transaction: the comparison and the writes see the same catalog).
fn chunk_in(
    c: &mut retail_store::Conn,
    partner: i64,
    rows: &[FeedRow],
    write: Option<&str>,
) -> Result<Tally, ServiceError> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let found = repo::products_by_sku(c, &skus)?;
    let mut t = Tally::default();
    let mut creates = Vec::new();
    let now = Utc::now();
    for row in rows {
        let current = found.get(row.sku.as_str());
        let known = current.and_then(|(prod, owner)| existing(prod, *owner));
        match feed::change_for(partner, row, known.as_ref()) {
            Ok(Change::Create) => {
                t.created += 1;
                creates.push(product(row));
            }
            Ok(Change::Update) => {
                t.updated += 1;
                if let (Some(reason), Some((prod, _))) = (write, current)
                    && !repo::update_product(c, partner, prod.id, &product(row), reason, now)?
                {
                    return Err(ServiceError::Conflict {
                        code: "feed_conflict",
                        detail: format!("row {}: the product's stock could not be set", row.number),
                    });
                }
            }
            Ok(Change::Unchanged) => t.unchanged += 1,
            Err(e) => t.errors.push(RowError { row: row.number, field: "sku".into(), reason: e.to_string() }),
        }
    }
    if let Some(reason) = write {
        // In name order: the name indexes then take the chunk's rows page after page,
        // instead of each row landing on a random page of them.
        creates.sort_unstable_by(|a, b| a.name.cmp(b.name));
        repo::create_products(c, partner, &creates, reason, now)?;
    }
    Ok(t)
}

/// Rows read from the file at a time, for the dry pass and for the writes alike. Small, so
/// that the few chunks between the reader and the database stay small in memory whatever
/// `partners.batch_rows` (how many rows a transaction takes) is.
const READ_ROWS: usize = 2_000;

/// Compares the valid rows with the catalog (a dry pass), a chunk per read.
async fn check(
    db: &Db,
    partner: i64,
    format: &'static dyn FeedFormat,
    body: &Arc<Vec<u8>>,
    contract: (PriceColumn, Currency),
    bad: &Arc<HashSet<u64>>,
) -> Result<Tally, ServiceError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<FeedRow>>(2);
    let producer = stream(format, body.clone(), contract, bad.clone(), READ_ROWS, tx);
    let mut total = Tally::default();
    while let Some(rows) = rx.recv().await {
        total.add(db.read(move |c| chunk_in(c, partner, &rows, None)).await?);
    }
    producer.await.map_err(ServiceError::internal)?;
    Ok(total)
}

/// How [`apply`] groups rows into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Txn {
    /// Lenient: this many rows per transaction; a row refused is reported, the rest applied.
    Rows(usize),
    /// Strict: the whole file in one transaction, written this many rows at a time; a row
    /// refused rolls it all back.
    Whole(usize),
}

/// Applies the `valid` rows of a file, read [`READ_ROWS`] at a time and written in groups
/// of the size `txn` names, each group a transaction (lenient) or all in one (strict). A
/// transaction runs on the writer's own thread and takes the chunks from the reader there,
/// so memory holds one group and a few small chunks. A group's new products go in by name
/// (see [`chunk_in`]): the larger the group, the fewer times its inserts sweep the name
/// indexes. Other writes wait for a transaction: a strict file holds the writer for the
/// whole file. Returns the tally and whether the rows were applied (`false`:
/// a strict file had a row refused after all, say an SKU another seller took since the dry
/// pass, and nothing was applied; the tally then carries that row's error).
#[allow(clippy::too_many_arguments)]
async fn apply(
    db: &Db,
    partner: i64,
    format: &'static dyn FeedFormat,
    body: &Arc<Vec<u8>>,
    contract: (PriceColumn, Currency),
    bad: &Arc<HashSet<u64>>,
    (txn, reason, valid): (Txn, String, u64),
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<(Tally, bool), ServiceError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<FeedRow>>(2);
    let producer = stream(format, body.clone(), contract, bad.clone(), READ_ROWS, tx);
    let done = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
    let reason = Arc::new(reason);
    let mut total = Tally::default();
    let mut rx = Some(rx);
    let mut first = true;
    while let Some(mut chunks) = rx.take() {
        let (seen, kept, reason) = (done.clone(), refused.clone(), reason.clone());
        let widen = std::mem::take(&mut first);
        let write = db.write_alone(move |c| {
            if widen {
                repo::widen_cache(c)?;
            }
            let mut t = Tally::default();
            let mut open = true;
            let mut rows: Vec<FeedRow> = Vec::new();
            while open {
                while rows.len() < txn.group() {
                    // On the writer's own thread, outside any async runtime.
                    match chunks.blocking_recv() {
                        Some(more) => rows.extend(more),
                        None => {
                            open = false;
                            break;
                        }
                    }
                }
                if rows.is_empty() {
                    break;
                }
                let n = u64::try_from(rows.len()).unwrap_or(0);
                let got = chunk_in(c, partner, &rows, Some(&reason))?;
                rows.clear();
                if txn.whole() && !got.errors.is_empty() {
                    if let Ok(mut k) = kept.lock() {
                        *k = got.errors;
                    }
                    return Err(ServiceError::Conflict {
                        code: "feed_refused",
                        detail: "a row was refused while the file was applied".into(),
                    });
                }
                t.add(got);
                seen.fetch_add(n, Ordering::Relaxed);
                if !txn.whole() {
                    break;
                }
            }
            // The reader stopped early (it failed): what came is not the whole file.
            let read = seen.load(Ordering::Relaxed);
            if txn.whole() && read != valid {
                return Err(ServiceError::internal(std::io::Error::other(format!(
                    "read {read} of {valid} rows of the file"
                ))));
            }
            Ok((t, open.then_some(chunks)))
        });
        tokio::pin!(write);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        let written = loop {
            tokio::select! {
                r = &mut write => break r,
                _ = tick.tick() => if let Some(p) = progress { p(done.load(Ordering::Relaxed), valid) },
            }
        };
        match written {
            Ok((t, more)) => {
                total.add(t);
                rx = more;
            }
            Err(ServiceError::Conflict { code: "feed_refused", .. }) => {
                producer.abort();
                let errors = refused.lock().map(|mut k| std::mem::take(&mut *k)).unwrap_or_default();
                return Ok((Tally { errors, ..Tally::default() }, false));
            }
            Err(e) => return Err(e),
        }
    }
    producer.await.map_err(ServiceError::internal)?;
    let read = done.load(Ordering::Relaxed);
    if read != valid {
        return Err(ServiceError::internal(std::io::Error::other(format!(
            "read {read} of {valid} rows of the file"
        ))));
    }
    if let Some(p) = progress {
        p(valid, valid);
    }
    Ok((total, true))
}

impl Txn {
    /// Rows written together.
    fn group(self) -> usize {
        match self {
            Txn::Rows(n) | Txn::Whole(n) => n.max(1),
        }
    }

    /// Whether the whole file is one transaction.
    fn whole(self) -> bool {
        matches!(self, Txn::Whole(_))
    }
}

impl Tally {
    fn add(&mut self, t: Tally) {
        self.created += t.created;
        self.updated += t.updated;
        self.unchanged += t.unchanged;
        self.errors.extend(t.errors);
    }
}

/// Runs job `job` (held by `owner`) on `body`. A first pass checks every row without the
/// database; a second streams the valid rows in chunks through it, each compared with the
/// catalog and (lenient) applied in a transaction of its own. Strict mode makes the second
/// pass dry first and applies only when no row at all was refused, then in one transaction
/// (see [`apply_at_once`]), so that nothing is applied if a row is refused after all. Memory stays bounded by
/// the file and a few chunks, whatever the row count. Records the counts, the row errors and
/// an audit row. A file that cannot be read, or a strict file with bad rows, fails the job;
/// a passing failure (a busy database) is returned as an error for the caller to retry.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: &Db,
    cfg: &PartnerSettings,
    partner: &PartnerRow,
    job: &FeedJobRow,
    owner: &str,
    body: Vec<u8>,
    metrics: Option<&BusinessMetrics>,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<FeedJobRow, ServiceError> {
    let format =
        format::by_name(&job.format).ok_or_else(|| corrupt(format!("format of feed job {}", job.id)))?;
    let mode = domain_mode(
        FeedMode::parse(&job.mode).ok_or_else(|| corrupt(format!("mode of feed job {}", job.id)))?,
    );
    let contract =
        (contract(partner), Currency::parse("currency", &partner.currency).unwrap_or(Currency::EUR));
    let started = std::time::Instant::now();
    let body = Arc::new(body);
    let b = body.clone();
    let scanned = tokio::task::spawn_blocking(move || scan(format, &b, contract.0, contract.1))
        .await
        .map_err(ServiceError::internal)?;
    let mut scanned = match scanned {
        Ok(s) => s,
        Err(e) => {
            let err = vec![RowError { row: 0, field: "file".into(), reason: e.0.clone() }];
            return finish(db, (partner, job, owner), Counts::default(), false, &err, Some(e.0)).await;
        }
    };
    let checked_ms = started.elapsed().as_millis();
    let bad: Arc<HashSet<u64>> = Arc::new(scanned.errors.iter().map(|e| e.row).collect());
    let valid = scanned.total.saturating_sub(u64::try_from(bad.len()).unwrap_or(0));
    let reason = format!("feed job {}", job.id);
    let per_txn = cfg.batch_rows;
    // the valid rows through the database: applied (lenient), or compared first (strict,
    // validate_only) and then, strict and with no row refused, applied at once
    let (mut tally, mut writes) = if mode == Mode::Lenient {
        let how = (Txn::Rows(per_txn), reason.clone(), valid);
        apply(db, partner.id, format, &body, contract, &bad, how, progress).await?
    } else {
        (check(db, partner.id, format, &body, contract, &bad).await?, false)
    };
    scanned.errors.append(&mut tally.errors);
    if mode == Mode::Strict && mode.writes(scanned.errors.len()) {
        let how = (Txn::Whole(per_txn), reason, valid);
        (tally, writes) = apply(db, partner.id, format, &body, contract, &bad, how, progress).await?;
        scanned.errors.append(&mut tally.errors);
    }
    scanned.errors.sort_by_key(|e| e.row);
    let counts = Counts {
        total: i64::try_from(scanned.total).unwrap_or(i64::MAX),
        created: tally.created,
        updated: tally.updated,
        unchanged: tally.unchanged,
        rejected: i64::try_from(scanned.errors.len()).unwrap_or(i64::MAX),
    };
    tracing::info!(
        job = job.id,
        rows = counts.total,
        checked_ms,
        applied_ms = started.elapsed().as_millis(),
        "feed job ran"
    );
    let error = (mode == Mode::Strict && !writes)
        .then(|| format!("strict mode: {} row(s) refused, nothing applied", scanned.errors.len()));
    if let Some(m) = metrics {
        let accepted = u64::try_from(counts.created + counts.updated + counts.unchanged).unwrap_or(0);
        m.feed_rows.with_label_values(&["accepted"]).inc_by(accepted);
        m.feed_rows.with_label_values(&["rejected"]).inc_by(u64::try_from(counts.rejected).unwrap_or(0));
    }
    finish(db, (partner, job, owner), counts, writes, &scanned.errors, error).await
}

async fn finish(
    db: &Db,
    (partner, job, owner): (&PartnerRow, &FeedJobRow, &str),
    counts: Counts,
    applied: bool,
    errors: &[RowError],
    error: Option<String>,
) -> Result<FeedJobRow, ServiceError> {
    let (id, partner_id, owner) = (job.id, partner.id, owner.to_owned());
    let rows: Vec<(i64, String, String)> = errors
        .iter()
        .map(|e| (i64::try_from(e.row).unwrap_or(i64::MAX), e.field.clone(), e.reason.clone()))
        .collect();
    let (actor, mode, source) = (job.actor_id, job.mode.clone(), job.source.clone());
    db.write(move |c| {
        let now = Utc::now();
        let refs: Vec<(i64, &str, &str)> = rows.iter().map(|(r, f, m)| (*r, f.as_str(), m.as_str())).collect();
        repo::set_errors(c, id, &refs)?;
        repo::reset_cache(c)?;
        let done = repo::finish(c, id, &owner, counts, applied, error.as_deref(), now)?
            .ok_or_else(|| ServiceError::Conflict { code: "job_taken_over", detail: format!("feed job {id} was taken over by another worker") })?;
        audit::record(
            c,
            &AuditEvent {
                actor_id: actor,
                action: if error.is_some() { "feed.failed" } else if applied { "feed.applied" } else { "feed.checked" },
                entity_type: "feed_job",
                entity_id: id.to_string(),
                detail: json!({
                    "partner_id": partner_id, "mode": mode, "source": source,
                    "rows": counts.total, "created": counts.created, "updated": counts.updated,
                    "unchanged": counts.unchanged, "rejected": counts.rejected, "applied": applied, "error": error,
                }),
            },
            now,
        )?;
        Ok(done)
    })
    .await
}

/// Whether a failure may pass if the job is tried again later.
pub fn transient(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Unavailable(_) | ServiceError::Conflict { code: "feed_conflict", .. })
}

/// One worker pass over the feed queue: claims due jobs (or jobs whose worker died) one at a
/// time, up to `limit`, and runs them; a passing failure goes back to the queue with
/// exponential backoff until `max_attempts`. Returns (succeeded, failed, retried).
pub async fn work(
    db: &Db,
    cfg: &PartnerSettings,
    owner: &str,
    limit: usize,
    metrics: Option<&BusinessMetrics>,
) -> Result<(usize, usize, usize), ServiceError> {
    let mut out = (0, 0, 0);
    for _ in 0..limit {
        let (now, lease) = (Utc::now(), Utc::now() + chrono::Duration::seconds(cfg.lease_secs));
        let who = owner.to_owned();
        let claimed = db
            .write(move |c| {
                let Some(job) = repo::claim(c, &who, now, lease)? else { return Ok::<_, ServiceError>(None) };
                let partner = retail_store::repo::partners::by_id(c, job.partner_id)?
                    .ok_or_else(|| corrupt(format!("partner of feed job {}", job.id)))?;
                let body = repo::body(c, job.id)?;
                Ok(Some((job, partner, body)))
            })
            .await?;
        let Some((job, partner, body)) = claimed else { break };
        let Some(body) = body else {
            let err = "the file is no longer stored".to_owned();
            finish(db, (&partner, &job, owner), Counts::default(), false, &[], Some(err)).await?;
            out.1 += 1;
            continue;
        };
        match run(db, cfg, &partner, &job, owner, body, metrics, None).await {
            Ok(done) if done.state == "succeeded" => out.0 += 1,
            Ok(_) => out.1 += 1,
            Err(e) if transient(&e) && job.attempts < cfg.max_attempts => {
                let wait = chrono::Duration::seconds(
                    2i64.saturating_pow(u32::try_from(job.attempts).unwrap_or(10).min(10)),
                );
                let (id, who, msg) = (job.id, owner.to_owned(), e.to_string());
                db.write(move |c| {
                    Ok::<_, ServiceError>(repo::retry_later(c, id, &who, &msg, Utc::now() + wait)?)
                })
                .await?;
                out.2 += 1;
            }
            Err(e) => {
                tracing::warn!(job = job.id, error = %e, "feed job failed");
                finish(db, (&partner, &job, owner), Counts::default(), false, &[], Some(e.to_string()))
                    .await?;
                out.1 += 1;
            }
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------- reading

async fn visible_job(state: &AppState, viewer: Viewer, id: i64) -> Result<FeedJobRow, ServiceError> {
    let row = state.db.read(move |c| Ok::<_, ServiceError>(repo::job(c, id)?)).await?;
    match (row, viewer) {
        (Some(r), Viewer::Admin) => Ok(r),
        (Some(r), Viewer::Partner(p)) if r.partner_id == p => Ok(r),
        _ => Err(ServiceError::not_found(format!("feed job {id}"))),
    }
}

/// One job, for its partner or an admin.
pub async fn job(state: &AppState, viewer: Viewer, id: i64) -> Result<FeedJob, ServiceError> {
    job_dto(&visible_job(state, viewer, id).await?, viewer)
}

/// The row errors of a job as CSV (`row,field,reason`), cells that look like formulas
/// escaped.
pub async fn errors_csv(state: &AppState, viewer: Viewer, id: i64) -> Result<String, ServiceError> {
    visible_job(state, viewer, id).await?;
    let rows = state.db.read(move |c| Ok::<_, ServiceError>(repo::errors(c, id, 0, i64::MAX)?)).await?;
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(["row", "field", "reason"]).map_err(ServiceError::internal)?;
    for (_, row, field, reason) in rows {
        w.write_record([row.to_string(), feed::report_cell(&field), feed::report_cell(&reason)])
            .map_err(ServiceError::internal)?;
    }
    let bytes = w.into_inner().map_err(|e| ServiceError::internal(e.into_error()))?;
    String::from_utf8(bytes).map_err(ServiceError::internal)
}

/// One page of jobs (admin).
pub async fn list(state: &AppState, caller: &Caller, q: FeedJobQuery) -> Result<FeedJobList, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    let page = PageRequest::parse(q.page, q.per_page).map_err(ServiceError::invalid_query)?;
    let st = q.state.map(FeedJobState::as_str);
    state
        .db
        .read(move |c| {
            let (rows, total) = repo::list_jobs(c, q.partner_id, st, page)?;
            Ok(FeedJobList {
                items: rows.iter().map(|r| job_dto(r, Viewer::Admin)).collect::<Result<_, _>>()?,
                page: page.page,
                per_page: page.per_page,
                total,
            })
        })
        .await
}

/// Puts a failed job back in the queue (admin).
pub async fn requeue(state: &AppState, caller: &Caller, id: i64) -> Result<FeedJob, ServiceError> {
    super::write_as(&state.db, caller, Permission::ManagePartners, move |c, caller| {
        let now = Utc::now();
        let Some(row) = repo::requeue(c, id, now)? else {
            return match repo::job(c, id)? {
                None => Err(ServiceError::not_found(format!("feed job {id}"))),
                Some(_) => Err(ServiceError::Conflict {
                    code: "not_failed",
                    detail: "only a failed job whose file is kept can be requeued".into(),
                }),
            };
        };
        audit::record(
            c,
            &AuditEvent {
                actor_id: caller.user_id().map(|u| u.get()),
                action: "feed.requeued",
                entity_type: "feed_job",
                entity_id: id.to_string(),
                detail: json!({"partner_id": row.partner_id}),
            },
            now,
        )?;
        job_dto(&row, Viewer::Admin)
    })
    .await
}

/// The partner an admin uploads for.
pub async fn partner_for_admin(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<PartnerRow, ServiceError> {
    caller.require(Permission::ManagePartners)?;
    state
        .db
        .read(move |c| {
            retail_store::repo::partners::by_id(c, id)?
                .ok_or_else(|| ServiceError::not_found(format!("partner {id}")))
        })
        .await
}

/// The feed format's documentation (consistent with the OpenAPI document).
pub fn help(cfg: &PartnerSettings) -> FeedHelp {
    let field = |name: &str, required: bool, rules: &str| FeedField {
        name: name.into(),
        required,
        rules: rules.into(),
    };
    FeedHelp {
        summary: "POST the file to /api/partner/feeds with your key in X-API-Key, as text/csv, application/json, \
                  or multipart/form-data with one file part. ?mode=validate_only|lenient|strict (default: your \
                  partner's mode); ?async=true queues it (202 with a Location to poll). Rows are matched to \
                  products by SKU: new SKUs are created, yours are updated, another seller's are refused. The \
                  same file sent twice is applied once. Row errors download as CSV from the job's errors_url."
            .into(),
        fields: vec![
            field("sku", true, "1 to 64 letters, digits, '-', '_' or '.'; unique in the file (later duplicates are refused)"),
            field("name", true, "1 to 200 characters (alias: title)"),
            field("price", true, "decimal string in major units, at most 2 decimals: \"12.50\" is 1250 cents (JSON: a string, never a number); partners on the price_cents contract send an integer `price_cents` instead"),
            field("currency", false, "ISO 4217 code the shop accepts (EUR, USD, GBP); default: the partner's currency"),
            field("stock", false, "whole number, 0 to 1,000,000 (aliases: quantity, qty); default 0; moves through the stock ledger"),
            field("category", false, "1 to 64 characters, stored lower-case; default `uncategorized`"),
            field("description", false, "at most 5,000 characters"),
        ],
        limits: vec![
            "Body: the partner's max_body_bytes (default 50 MiB), else 413.".into(),
            "Rate: the partner's rate_per_minute (default 60), else 429 with Retry-After.".into(),
            format!("Files above {} bytes are always queued (202).", cfg.async_above_bytes),
            "CSV: UTF-8 (a byte-order mark is skipped), header row required, delimiter , ; tab or | detected from the header, quoted fields may hold delimiters and line breaks.".into(),
            "No Content-Encoding: compressed bodies are refused (415).".into(),
        ],
        csv_example: "sku,name,price,currency,stock,category\nTEA-001,Green tea 100 g,4.50,EUR,120,tea\nTEA-002,\"Black tea, smoky\",5.00,EUR,80,tea\n".into(),
        json_example: "[{\"sku\": \"TEA-001\", \"name\": \"Green tea 100 g\", \"price\": \"4.50\", \"stock\": 120, \"category\": \"tea\"}]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_checked_row_by_row_with_duplicates_refused() {
        let body = b"sku,name,price,stock\nA-1,Apple,1.15,3\nB-1,,2.00,1\nA-1,Again,1.00,1\nC-1,Cherry,-1,1\nD-1,Date,0.29,x\n";
        let c = scan(&csv::Csv, body, PriceColumn::Major, Currency::EUR).unwrap();
        assert_eq!(c.total, 5);
        let errs: Vec<(u64, &str)> = c.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(errs, [(3, "name"), (4, "sku"), (5, "price"), (6, "stock")]);
        assert!(c.errors[1].reason.contains("duplicate of row 2"));
    }

    /// A database with two partners (IDs 1 and 2).
    async fn two_partners() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), retail_store::DbOptions::default()).unwrap();
        db.migrate().unwrap();
        db.write(|c| {
            for name in ["Ours", "Theirs"] {
                let email = format!("{name}@supplier.test");
                let f = retail_store::repo::partners::PartnerFields {
                    name: Some(name),
                    contact_email: Some(&email),
                    ..Default::default()
                };
                retail_store::repo::partners::insert(c, &f, Utc::now())?;
            }
            Ok::<_, ServiceError>(())
        })
        .await
        .unwrap();
        (dir, db)
    }

    async fn sku_exists(db: &Db, sku: &'static str) -> bool {
        db.read(move |c| retail_store::repo::products::by_sku(c, sku)).await.unwrap().is_some()
    }

    /// Partner 2 takes `sku` (as if between a strict file's dry pass and its writes).
    async fn taken(db: &Db, sku: &'static str) {
        db.write_alone(move |c| {
            let p = FeedProduct {
                sku,
                name: "Theirs",
                description: "",
                price_cents: 5,
                currency: "EUR",
                category: "x",
                stock: 0,
            };
            Ok::<_, ServiceError>(repo::create_products(c, 2, &[p], "feed job 0", Utc::now())?)
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_strict_file_is_applied_in_one_transaction_and_a_late_refusal_undoes_it_all() {
        // 5,000 rows: three reads of the file
        let rows = 5_000u64;
        let body: Vec<u8> = (0..rows).fold(b"sku,name,price,stock\n".to_vec(), |mut b, i| {
            b.extend(format!("S-{i},Item {i},1.00,2\n").as_bytes());
            b
        });
        let body = Arc::new(body);
        let contract = (PriceColumn::Major, Currency::EUR);
        let none = Arc::new(HashSet::new());
        let how = |txn| (txn, "feed job 1".to_owned(), rows);

        // strict: S-4500 (row 4502) was taken, in the last read; nothing lands
        let (_d, db) = two_partners().await;
        taken(&db, "S-4500").await;
        let (t, applied) =
            apply(&db, 1, &csv::Csv, &body, contract, &none, how(Txn::Whole(2_000)), None).await.unwrap();
        assert!(!applied);
        assert_eq!(t.errors.iter().map(|e| (e.row, e.field.as_str())).collect::<Vec<_>>(), [(4502, "sku")]);
        assert_eq!((t.created, t.updated), (0, 0));
        for sku in ["S-0", "S-1999", "S-2000", "S-4499", "S-4999"] {
            assert!(!sku_exists(&db, sku).await, "{sku} was applied");
        }

        // lenient, 2,500 rows a transaction: that row refused, every other one applied
        let (_d, db) = two_partners().await;
        taken(&db, "S-4500").await;
        let (t, applied) =
            apply(&db, 1, &csv::Csv, &body, contract, &none, how(Txn::Rows(2_500)), None).await.unwrap();
        assert!(applied);
        assert_eq!((t.created, t.errors.len()), (4_999, 1));
        assert!(sku_exists(&db, "S-0").await && sku_exists(&db, "S-4999").await);

        // strict without it: every row lands, the progress ending at all of them
        let (_d, db) = two_partners().await;
        let last = std::sync::Mutex::new((0, 0));
        let seen = |done: u64, all: u64| *last.lock().unwrap() = (done, all);
        let (t, applied) =
            apply(&db, 1, &csv::Csv, &body, contract, &none, how(Txn::Whole(2_000)), Some(&seen))
                .await
                .unwrap();
        assert!(applied && t.errors.is_empty());
        assert_eq!(t.created, 5_000);
        assert_eq!(*last.lock().unwrap(), (rows, rows));
        assert!(sku_exists(&db, "S-0").await && sku_exists(&db, "S-4999").await);
    }

    #[tokio::test]
    async fn the_second_pass_streams_only_the_valid_rows_in_chunks() {
        let body: Vec<u8> = (0..25).fold(b"sku,name,price\n".to_vec(), |mut b, i| {
            b.extend(format!("S-{i},Item {i},1.00\n").as_bytes());
            b
        });
        let bad: HashSet<u64> = [3, 10].into_iter().collect();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let h = stream(&csv::Csv, Arc::new(body), (PriceColumn::Major, Currency::EUR), Arc::new(bad), 10, tx);
        let mut sizes = Vec::new();
        let mut numbers = Vec::new();
        while let Some(chunk) = rx.recv().await {
            sizes.push(chunk.len());
            numbers.extend(chunk.iter().map(|r| r.number));
        }
        h.await.unwrap();
        assert_eq!(sizes, [10, 10, 3]);
        assert!(!numbers.contains(&3) && !numbers.contains(&10) && numbers.len() == 23);
    }

    #[test]
    fn the_mode_comes_from_the_request_else_the_partner() {
        let p = PartnerRow {
            id: 1,
            name: "p".into(),
            contact_email: "p@x.io".into(),
            status: "active".into(),
            mode: "strict".into(),
            price_column: "price".into(),
            currency: "EUR".into(),
            rate_per_minute: 60,
            max_body_bytes: 1024,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(mode_of(&p, None), FeedMode::Strict);
        assert_eq!(mode_of(&p, Some(FeedMode::ValidateOnly)), FeedMode::ValidateOnly);
        assert_eq!(contract(&p), PriceColumn::Major);
        assert_eq!(sha256_hex(b"").len(), 64);
    }

    #[test]
    fn formats_are_found_by_type_name_and_extension() {
        assert_eq!(format::by_media_type("text/csv; charset=utf-8").map(|f| f.name()), Some("csv"));
        assert_eq!(format::by_media_type("application/json").map(|f| f.name()), Some("json"));
        assert!(format::by_media_type("application/zip").is_none());
        assert_eq!(format::by_file_name("feed.JSON").map(|f| f.name()), Some("json"));
        assert_eq!(format::by_file_name("feed.csv").map(|f| f.name()), Some("csv"));
        assert!(format::by_file_name("feed").is_none());
    }
}
