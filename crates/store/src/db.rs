use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{MIGRATIONS, StoreError};

/// The connection type repository functions take.
pub type Conn = SqliteConnection;
type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;

#[derive(Debug, Clone, Copy)]
struct Pragmas {
    read_only: bool,
    busy_timeout_ms: u32,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, c: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // WAL lets readers run beside the one writer; NORMAL is durable across app crashes
        // in WAL mode (only an OS crash can lose the last commits).
        let mut sql = format!(
            "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            self.busy_timeout_ms
        );
        if self.read_only {
            sql.push_str(" PRAGMA query_only = ON;");
        } else {
            // Each write of a batch runs in a savepoint (see `Db::write`), whose undo pages
            // go to a statement journal: kept in memory rather than in a temporary file.
            // Checkpoints are left to the checkpointer thread (see `Checkpointer`), off the
            // writer's path.
            sql.push_str(
                " PRAGMA journal_mode = WAL; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
            );
        }
        c.batch_execute(&sql).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The search pool's connections: read-only, and reading the file through a memory map. A
/// search walks the FTS index and joins every match with its product row; mapped pages are
/// read without a system call each, which halves the time of a broad search.
#[derive(Debug, Clone, Copy)]
struct SearchPragmas(Pragmas);

/// Bytes of the database file a search connection maps.
const SEARCH_MMAP_BYTES: u64 = 256 * 1024 * 1024;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SearchPragmas {
    fn on_acquire(&self, c: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.0.on_acquire(c)?;
        c.batch_execute(&format!("PRAGMA mmap_size = {SEARCH_MMAP_BYTES};"))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Admission to a pool. At most as many callers as the pool has connections go on to the
/// blocking threads; the others wait here, asynchronously (no thread each), for at most
/// `wait`, and no more than `max_waiting` wait at all. Past either bound the caller hears
/// [`StoreError::Busy`] at once (a 503 with Retry-After), so a stuck lock or a flood
/// cannot pile up threads or memory.
#[derive(Clone)]
struct Gate {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    wait: Duration,
}

/// Counts a caller as waiting for as long as it lives (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    fn new(size: u32, max_waiting: usize, wait: Duration) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(size.max(1) as usize)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            wait,
        }
    }

    async fn enter(&self, what: &str) -> Result<OwnedSemaphorePermit, StoreError> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        let _waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            return Err(StoreError::Busy(format!("too many callers already wait for a {what} connection")));
        }
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(StoreError::Busy(format!("no {what} connection became free in {:?}", self.wait))),
        }
    }
}

/// Pool sizes and waits.
#[derive(Debug, Clone, Copy)]
pub struct DbOptions {
    /// Connections for reads (they run in parallel under WAL).
    pub read_connections: u32,
    /// How long a write waits for SQLite's lock held by another process.
    pub busy_timeout: Duration,
    /// How long a caller waits for a free pooled connection.
    pub acquire_timeout: Duration,
    /// How many callers may wait for a connection of one pool; more get `Busy` at once.
    pub max_waiting: usize,
    /// Connections of the pool that serves full-text searches alone (see [`Db::search`]).
    pub search_connections: u32,
    /// How long a search waits for one of them before it is refused with `Busy`.
    pub search_acquire_timeout: Duration,
    /// Most write transactions the writer commits together (see [`Db::write`]).
    pub write_batch: usize,
    /// Niceness the writer thread sets for itself (Linux only; 0 leaves it unchanged). A
    /// positive value lets request threads win CPU contention against a burst of writes.
    pub writer_nice: i32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            max_waiting: 256,
            search_connections: 4,
            search_acquire_timeout: Duration::from_secs(2),
            write_batch: 64,
            writer_nice: 0,
        }
    }
}

/// Handle to the database: a pool of read-only connections and a single writer.
///
/// SQLite allows one writer at a time; funnelling this process's writes through one thread
/// and one connection queues them instead of making them fight over the file lock (see
/// [`Db::write`]). Reads run on the blocking thread pool, never on the async workers.
#[derive(Clone)]
pub struct Db {
    read: SqlitePool,
    write: SqlitePool,
    writer: SyncSender<Job>,
    /// Alive while any handle is: the checkpointer thread stops when it is gone.
    _alive: Arc<()>,
    write_wait: Duration,
    read_gate: Gate,
    search: SqlitePool,
    search_gate: Gate,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("read", &self.read.state()).finish_non_exhaustive()
    }
}

/// Connection pool usage, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    /// Connections open.
    pub open: u32,
    /// Connections idle.
    pub idle: u32,
}

/// Error of a transaction body: either the caller's own error or diesel's.
enum TxError<E> {
    App(E),
    Diesel(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Diesel(e)
    }
}

impl Db {
    /// Opens (creating if needed) the database file. Does not migrate.
    pub fn open(path: &Path, opts: DbOptions) -> Result<Db, StoreError> {
        let url = path.to_string_lossy().into_owned();
        let busy_timeout_ms = u32::try_from(opts.busy_timeout.as_millis()).unwrap_or(u32::MAX);
        let build = |size: u32, read_only: bool| {
            Pool::builder()
                .max_size(size)
                .connection_timeout(opts.acquire_timeout)
                .connection_customizer(Box::new(Pragmas { read_only, busy_timeout_ms }))
                .build(ConnectionManager::<SqliteConnection>::new(url.clone()))
        };
        // The writer first: it switches the file to WAL before any reader opens it.
        let write = build(1, false)?;
        let read = build(opts.read_connections.max(1), true)?;
        let read_gate = Gate::new(opts.read_connections.max(1), opts.max_waiting, opts.acquire_timeout);
        let search_size = opts.search_connections.max(1);
        let search = Pool::builder()
            .max_size(search_size)
            .connection_timeout(opts.search_acquire_timeout)
            .connection_customizer(Box::new(SearchPragmas(Pragmas { read_only: true, busy_timeout_ms })))
            .build(ConnectionManager::<SqliteConnection>::new(url.clone()))?;
        let search_gate = Gate::new(search_size, opts.max_waiting, opts.search_acquire_timeout);
        let writer =
            Writer::spawn(write.clone(), opts.max_waiting.max(1), opts.write_batch.max(1), opts.writer_nice)?;
        let alive = Arc::new(());
        Checkpointer::spawn(&url, busy_timeout_ms, Arc::downgrade(&alive))?;
        Ok(Db {
            read,
            write,
            writer,
            _alive: alive,
            write_wait: opts.acquire_timeout,
            read_gate,
            search,
            search_gate,
        })
    }

    /// Applies pending embedded migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.write.get()?;
        let done = c.run_pending_migrations(MIGRATIONS).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(done.iter().map(|v| v.to_string()).collect())
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        run(&self.read_gate, "read", &self.read, f).await
    }

    /// Runs `f` on a read-only connection of the search pool, on the blocking pool.
    ///
    /// Full-text searches are the one read whose cost grows with the catalog and that anyone
    /// can send, so they get connections of their own: a flood of them queues here, at most
    /// `search_acquire_timeout` before [`StoreError::Busy`], and never holds a connection
    /// (or a blocking thread) that [`Db::read`] callers such as authentication and readiness
    /// need.
    pub async fn search<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        run(&self.search_gate, "search", &self.search, f).await
    }

    /// Runs `f` in a transaction of its own on the writer: its changes all commit or, if `f`
    /// fails, none do (a failed request never leaves a half-written record), and the answer
    /// comes once they are committed.
    ///
    /// Group commit: one thread owns the write connection; it takes every write queued
    /// (up to [`DbOptions::write_batch`]), runs them one after another inside one
    /// `BEGIN IMMEDIATE ... COMMIT`, each in a savepoint of its own (rolled back alone when
    /// its `f` fails), and answers them all after the one commit. Writes stay serialised,
    /// exactly as with one transaction each, but a burst pays for one commit and one
    /// hand-over instead of one per write. If the commit fails, every write of the batch
    /// fails with it. At most `max_waiting` writes queue; more, or one that waited past
    /// `acquire_timeout`, get [`StoreError::Busy`] at once (a 503 with Retry-After); a write
    /// whose caller has gone away before its turn is dropped unrun.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.queue_write(false, f).await
    }

    /// Like [`Db::write`], for one large write (a chunk of a partner feed): it gets a
    /// transaction of its own, never shared with other writes, and runs without a savepoint.
    /// Inside a savepoint SQLite keeps the original of every page each statement touches
    /// until the savepoint ends, so that journal (memory, and the time to fill it) grows with
    /// the write; outside one it is dropped after each statement. Its changes all commit or,
    /// if `f` fails, none do.
    pub async fn write_alone<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.queue_write(true, f).await
    }

    async fn queue_write<T, E, F>(&self, alone: bool, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let slot = Arc::new(Mutex::new(Some(tx)));
        let span = tracing::Span::current();
        let (gone, refuse, done) = (slot.clone(), slot.clone(), slot);
        let job = Job {
            deadline: Instant::now() + self.write_wait,
            gone: Box::new(move || {
                gone.lock().map(|g| g.as_ref().is_none_or(|t| t.is_closed())).unwrap_or(true)
            }),
            refuse: Box::new(move |e| answer(&refuse, Err(E::from(e)))),
            alone,
            run: Box::new(move |c| {
                let _enter = span.enter();
                let r = if alone {
                    f(c)
                } else {
                    c.transaction(|c| f(c).map_err(TxError::App)).map_err(|e| match e {
                        TxError::App(e) => e,
                        TxError::Diesel(d) => E::from(StoreError::from(d)),
                    })
                };
                let ok = r.is_ok();
                let finish: Finish = Box::new(move |commit_failed: Option<&str>| {
                    let r = match (r, commit_failed) {
                        (Ok(_), Some(why)) => Err(E::from(StoreError::Busy(format!("commit failed: {why}")))),
                        (r, _) => r,
                    };
                    answer(&done, r);
                });
                (finish, ok)
            }),
        };
        match self.writer.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(E::from(StoreError::Busy("too many writes are already queued".into())));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(E::from(StoreError::WriterFailed("the writer thread has stopped".into())));
            }
        }
        rx.await
            .unwrap_or_else(|_| Err(E::from(StoreError::WriterFailed("the write was not completed".into()))))
    }

    /// Whether the database answers and every migration is applied: (reachable, migrated).
    pub async fn readiness(&self) -> (bool, bool) {
        let r = self
            .read(|c| {
                diesel::sql_query("SELECT 1").execute(c).map_err(StoreError::from)?;
                all_migrations_applied(c)
            })
            .await;
        match r {
            Ok(migrated) => (true, migrated),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check failed");
                (false, false)
            }
        }
    }

    /// Runs `f` on the writer outside any transaction (maintenance such as VACUUM).
    pub fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut c = self.write.get()?;
        f(&mut c)
    }

    /// Connections open and idle across all pools (reads, searches, the writer).
    pub fn usage(&self) -> PoolUsage {
        let (r, w) = (self.read.state(), self.write.state());
        let s = self.search.state();
        PoolUsage {
            open: r.connections + w.connections + s.connections,
            idle: r.idle_connections + w.idle_connections + s.idle_connections,
        }
    }
}

/// Sends a write's result to its caller (if still waiting).
fn answer<R>(slot: &Mutex<Option<tokio::sync::oneshot::Sender<R>>>, r: R) {
    if let Some(tx) = slot.lock().ok().and_then(|mut g| g.take()) {
        let _ = tx.send(r);
    }
}

/// Delivers a write's result once its batch is committed (`None`) or failed to commit
/// (`Some(why)`).
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// A write transaction waiting for the writer thread.
struct Job {
    /// Past this instant it is refused unrun (it waited too long).
    deadline: Instant,
    /// Whether its caller stopped waiting.
    gone: Box<dyn Fn() -> bool + Send>,
    /// Answers it with an error, unrun.
    refuse: Box<dyn FnOnce(StoreError) + Send>,
    /// Whether it runs in a transaction of its own, without a savepoint (see
    /// [`Db::write_alone`]).
    alone: bool,
    /// Runs it in the open transaction (in a savepoint of its own unless `alone`); says
    /// whether it succeeded.
    run: RunJob,
}

/// Runs a write; answers how to deliver its result and whether it succeeded.
type RunJob = Box<dyn FnOnce(&mut Conn) -> (Finish, bool) + Send>;

/// Sets the calling thread's niceness (Linux: a thread is a task of its own to `setpriority`).
#[cfg(target_os = "linux")]
fn set_thread_nice(nice: i32) {
    if nice == 0 {
        return;
    }
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        tracing::warn!(nice, error = %e, "cannot change the writer thread's niceness");
    }
}

#[cfg(not(target_os = "linux"))]
fn set_thread_nice(nice: i32) {
    if nice != 0 {
        tracing::debug!(nice, "writer thread niceness is only applied on Linux");
    }
}

/// The thread that owns the write connection and commits queued writes in batches.
struct Writer {
    pool: SqlitePool,
    queue: Receiver<Job>,
    batch: usize,
}

impl Writer {
    fn spawn(
        pool: SqlitePool,
        capacity: usize,
        batch: usize,
        nice: i32,
    ) -> Result<SyncSender<Job>, StoreError> {
        let (tx, queue) = std::sync::mpsc::sync_channel(capacity);
        let w = Writer { pool, queue, batch };
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                set_thread_nice(nice);
                w.serve()
            })
            .map_err(|e| StoreError::WriterFailed(format!("cannot start the writer thread: {e}")))?;
        Ok(tx)
    }

    /// Until every `Db` handle is gone: take the queued writes, run them, commit, answer.
    /// A write that runs alone ends the batch it is found in and makes the next one.
    fn serve(self) {
        let mut next: Option<Job> = None;
        while let Some(first) = next.take().or_else(|| self.queue.recv().ok()) {
            let mut batch = vec![first];
            while !batch[0].alone && batch.len() < self.batch {
                match self.queue.try_recv() {
                    Ok(j) if j.alone => {
                        next = Some(j);
                        break;
                    }
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            let mut runnable = Vec::with_capacity(batch.len());
            for j in batch {
                if (j.gone)() {
                    continue;
                }
                if now > j.deadline {
                    (j.refuse)(StoreError::Busy("the write waited too long for its turn".into()));
                } else {
                    runnable.push(j);
                }
            }
            if !runnable.is_empty() {
                self.commit(runnable);
            }
        }
    }

    /// Runs `jobs` in one transaction and answers them after its commit.
    fn commit(&self, jobs: Vec<Job>) {
        let mut c = match self.pool.get() {
            Ok(c) => c,
            Err(e) => {
                let why = e.to_string();
                jobs.into_iter().for_each(|j| (j.refuse)(StoreError::Busy(why.clone())));
                return;
            }
        };
        if let Err(e) = AnsiTransactionManager::begin_transaction_sql(&mut *c, "BEGIN IMMEDIATE") {
            let why = StoreError::from(e).to_string();
            jobs.into_iter().for_each(|j| (j.refuse)(StoreError::Busy(why.clone())));
            return;
        }
        let mut finished = Vec::with_capacity(jobs.len());
        for j in jobs {
            let alone = j.alone;
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (j.run)(&mut c))) {
                Ok((finish, false)) if alone => {
                    // no savepoint to undo it by itself: its transaction, which holds it alone, is rolled back
                    let _ =
                        <AnsiTransactionManager as TransactionManager<Conn>>::rollback_transaction(&mut *c);
                    finish(None);
                    return;
                }
                Ok((finish, _)) => finished.push(finish),
                Err(_) => {
                    // The panicking write's caller hears `WriterFailed` (its answer slot is
                    // dropped); the transaction may be in any state, so the whole batch is
                    // rolled back and the connection is not reused.
                    tracing::error!("a write transaction panicked; its batch is rolled back");
                    let _ = c.batch_execute("ROLLBACK");
                    finished.into_iter().for_each(|f: Finish| f(Some("another write of its batch failed")));
                    // its transaction manager still counts a transaction open, so the pool
                    // treats it as broken and closes it rather than handing it out again
                    drop(c);
                    return;
                }
            }
        }
        let committed = <AnsiTransactionManager as TransactionManager<Conn>>::commit_transaction(&mut *c);
        let why = committed.err().map(|e| {
            let _ = <AnsiTransactionManager as TransactionManager<Conn>>::rollback_transaction(&mut *c);
            StoreError::from(e).to_string()
        });
        drop(c);
        for f in finished {
            f(why.as_deref());
        }
    }
}

/// Copies the write-ahead log back into the database file (a passive checkpoint: it never
/// waits for, nor blocks, readers or the writer), on a thread and a connection of its own,
/// a few times a second. SQLite would otherwise checkpoint inside a commit, on the writer's
/// thread, every thousand pages.
struct Checkpointer;

impl Checkpointer {
    /// How often the log is checkpointed.
    const EVERY: Duration = Duration::from_millis(200);

    fn spawn(url: &str, busy_timeout_ms: u32, alive: std::sync::Weak<()>) -> Result<(), StoreError> {
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || {
                let mut c: Option<SqliteConnection> = None;
                while alive.upgrade().is_some() {
                    std::thread::sleep(Self::EVERY);
                    if c.is_none() {
                        c = SqliteConnection::establish(&url).ok().and_then(|mut c| {
                            c.batch_execute(&format!("PRAGMA busy_timeout = {busy_timeout_ms};"))
                                .ok()
                                .map(|_| c)
                        });
                    }
                    if let Some(conn) = c.as_mut()
                        && let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                    {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                        c = None;
                    }
                }
            })
            .map(|_| ())
            .map_err(|e| StoreError::WriterFailed(format!("cannot start the checkpoint thread: {e}")))
    }
}

/// Runs `f` on a connection of `pool` on the blocking pool, once `gate` admits the caller
/// (so waiting callers hold no thread), keeping the caller's tracing span.
async fn run<T, E, F>(gate: &Gate, what: &str, pool: &SqlitePool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let permit = gate.enter(what).await?;
    let pool = pool.clone();
    let span = tracing::Span::current();
    let out = tokio::task::spawn_blocking(move || {
        let _enter = span.enter();
        let mut c = pool.get().map_err(StoreError::from)?;
        f(&mut c)
    })
    .await;
    // Released only once the blocking thread is done, so the next caller finds it free
    // instead of starting another one.
    drop(permit);
    out.map_err(StoreError::from)?
}

/// Whether every embedded migration is recorded as applied. Reads only, so it works on a
/// `query_only` connection (diesel's own check creates its bookkeeping table first).
fn all_migrations_applied(c: &mut Conn) -> Result<bool, StoreError> {
    use diesel::migration::MigrationSource;
    use diesel::sql_types::Text;

    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let exists: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations')",
    ))
    .get_result(c)?;
    if exists == 0 {
        return Ok(false);
    }
    let applied: Vec<Applied> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(c)?;
    let embedded = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&MIGRATIONS)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(embedded.iter().all(|m| applied.iter().any(|a| a.version == m.name().version().to_string())))
}

/// Why a backup failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists: a backup never overwrites a file.
    #[error("{0} exists already; choose a new file")]
    Exists(String),
    /// The paths cannot be handed to SQLite.
    #[error("the path {0} is not valid UTF-8")]
    Path(String),
    /// SQLite could not open the source.
    #[error("cannot open the database: {0}")]
    Open(#[from] diesel::ConnectionError),
    /// The copy or its check failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes a consistent copy of the database file `source` to `target` while the shop keeps
/// serving: SQLite's `VACUUM INTO` on a connection of its own, in one read transaction (the
/// copy is one moment's state, compacted; in WAL mode writers go on meanwhile). Then checks
/// the copy with `PRAGMA integrity_check`. `target` must not exist yet.
pub fn backup(source: &Path, target: &Path) -> Result<(), BackupError> {
    if target.exists() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    let utf8 =
        |p: &Path| p.to_str().map(str::to_owned).ok_or_else(|| BackupError::Path(p.display().to_string()));
    let (from, to) = (utf8(source)?, utf8(target)?);
    let mut c = SqliteConnection::establish(&from)?;
    c.batch_execute("PRAGMA busy_timeout = 10000;").map_err(StoreError::from)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(&to)
        .execute(&mut c)
        .map_err(StoreError::from)?;
    drop(c);
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut copy = SqliteConnection::establish(&to)?;
    let rows: Vec<Check> =
        diesel::sql_query("PRAGMA integrity_check").load(&mut copy).map_err(StoreError::from)?;
    match rows.first().map(|r| r.integrity_check.as_str()) {
        Some("ok") => Ok(()),
        other => Err(StoreError::Corrupt(format!("the copy fails its integrity check: {other:?}")).into()),
    }
}
