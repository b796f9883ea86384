use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::MigrationHarness;

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
            // writer's path. A large write (a partner feed) grows the log past everything it
            // checkpoints meanwhile; once the log starts over, it is cut back to 64 MiB
            // rather than keeping that size on disk for good.
            sql.push_str(
                " PRAGMA journal_mode = WAL; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA journal_size_limit = 67108864;",
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

/// A pool's connections, each held by a thread of its own that runs queued reads on it,
/// oldest first.
///
/// A read is queued here and answered through a channel; the caller's task waits
/// asynchronously (no thread each). A thread that finishes a read takes the next queued
/// one at once, so under load a read costs no hand-over beyond waking its caller with the
/// answer (the blocking pool needed the next caller's task woken to hand its read over, and
/// a thread woken for it, for every read). At most `max_waiting` reads queue; more, or
/// one not answered within `wait`, get [`StoreError::Busy`] (a 503 with Retry-After), so a
/// stuck lock or a flood cannot pile up threads or memory. A read whose caller has gone
/// away before its turn is dropped unrun.
#[derive(Clone)]
struct Lanes {
    queue: crossbeam_channel::Sender<Read>,
    what: &'static str,
    wait: Duration,
    size: u32,
    busy: Arc<AtomicUsize>,
}

/// States of a queued read (see [`Lanes::run`]).
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const ABANDONED: u8 = 2;

/// A queued read: runs its caller's closure on a connection, or refuses it with the error.
struct Read {
    deadline: Instant,
    run: RunRead,
}

/// Runs a read on a connection, or answers it with the error.
type RunRead = Box<dyn FnOnce(Result<&mut Conn, StoreError>) + Send>;

impl Lanes {
    /// `size` threads named `db-<what>-<n>`, each taking a connection of `pool` once.
    fn spawn(
        what: &'static str,
        pool: SqlitePool,
        size: u32,
        max_waiting: usize,
        wait: Duration,
    ) -> Result<Lanes, StoreError> {
        let (queue, rx) = crossbeam_channel::bounded::<Read>(max_waiting.max(1));
        let busy = Arc::new(AtomicUsize::new(0));
        for n in 0..size.max(1) {
            let (pool, rx, busy) = (pool.clone(), rx.clone(), busy.clone());
            std::thread::Builder::new()
                .name(format!("db-{what}-{n}"))
                .spawn(move || Lanes::serve(&pool, &rx, &busy))
                .map_err(|e| StoreError::Busy(format!("cannot start a {what} thread: {e}")))?;
        }
        Ok(Lanes { queue, what, wait, size: size.max(1), busy })
    }

    /// Until every `Db` handle is gone: take the oldest queued read and run it.
    fn serve(pool: &SqlitePool, queue: &crossbeam_channel::Receiver<Read>, busy: &AtomicUsize) {
        let mut held = None;
        while let Ok(read) = queue.recv() {
            if Instant::now() > read.deadline {
                (read.run)(Err(StoreError::Busy("the read waited too long for a connection".into())));
                continue;
            }
            if held.is_none() {
                match pool.get() {
                    Ok(c) => held = Some(c),
                    Err(e) => {
                        (read.run)(Err(e.into()));
                        continue;
                    }
                }
            }
            let Some(c) = held.as_mut() else { continue };
            busy.fetch_add(1, Ordering::AcqRel);
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (read.run)(Ok(&mut **c))));
            busy.fetch_sub(1, Ordering::AcqRel);
            if ran.is_err() {
                // its caller hears `ReadFailed`; the connection may be mid-statement: a new one
                tracing::error!("a database read panicked");
                held = None;
            }
        }
    }

    /// Runs `f` on one of the connections, keeping the caller's tracing span.
    async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let span = tracing::Span::current();
        // QUEUED until a thread starts the read (STARTED) or its caller stops waiting for
        // that (ABANDONED), whichever comes first: `wait` bounds the wait for a connection,
        // never the read itself.
        let state = Arc::new(AtomicU8::new(QUEUED));
        let claim = state.clone();
        let read = Read {
            deadline: Instant::now() + self.wait,
            run: Box::new(move |c| {
                if claim.compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire).is_err()
                    || tx.is_closed()
                {
                    return;
                }
                let r = match c {
                    Ok(c) => {
                        let _enter = span.enter();
                        f(c)
                    }
                    Err(e) => Err(E::from(e)),
                };
                let _ = tx.send(r);
            }),
        };
        let what = self.what;
        match self.queue.try_send(read) {
            Ok(()) => {}
            Err(crossbeam_channel::TrySendError::Full(_)) => {
                return Err(E::from(StoreError::Busy(format!(
                    "too many callers already wait for a {what} connection"
                ))));
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(E::from(StoreError::ReadFailed(format!("the {what} threads have stopped"))));
            }
        }
        let failed = || E::from(StoreError::ReadFailed(format!("a {what} failed without an answer")));
        let mut rx = rx;
        match tokio::time::timeout(self.wait, &mut rx).await {
            Ok(answer) => answer.unwrap_or_else(|_| Err(failed())),
            Err(_)
                if state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_ok() =>
            {
                Err(E::from(StoreError::Busy(format!("no {what} connection became free in {:?}", self.wait))))
            }
            // started in time: its answer is worth waiting for
            Err(_) => rx.await.unwrap_or_else(|_| Err(failed())),
        }
    }

    /// (connections, idle ones).
    fn usage(&self) -> (u32, u32) {
        let busy = u32::try_from(self.busy.load(Ordering::Acquire)).unwrap_or(u32::MAX);
        (self.size, self.size.saturating_sub(busy))
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
/// [`Db::write`]). Reads run on threads of their own (see [`Lanes`]), never on the async
/// workers.
#[derive(Clone)]
pub struct Db {
    write: SqlitePool,
    writer: SyncSender<Job>,
    /// Alive while any handle is: the checkpointer thread stops when it is gone.
    _alive: Arc<()>,
    write_wait: Duration,
    read: Lanes,
    search: Lanes,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("write", &self.write.state()).finish_non_exhaustive()
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
        let read_size = opts.read_connections.max(1);
        let read =
            Lanes::spawn("read", build(read_size, true)?, read_size, opts.max_waiting, opts.acquire_timeout)?;
        let search_size = opts.search_connections.max(1);
        let search_pool = Pool::builder()
            .max_size(search_size)
            .connection_timeout(opts.search_acquire_timeout)
            .connection_customizer(Box::new(SearchPragmas(Pragmas { read_only: true, busy_timeout_ms })))
            .build(ConnectionManager::<SqliteConnection>::new(url.clone()))?;
        let search =
            Lanes::spawn("search", search_pool, search_size, opts.max_waiting, opts.search_acquire_timeout)?;
        let writer =
            Writer::spawn(write.clone(), opts.max_waiting.max(1), opts.write_batch.max(1), opts.writer_nice)?;
        let alive = Arc::new(());
        Checkpointer::spawn(&url, busy_timeout_ms, Arc::downgrade(&alive))?;
        Ok(Db { write, writer, _alive: alive, write_wait: opts.acquire_timeout, read, search })
    }

    /// Applies pending embedded migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.write.get()?;
        let done = c.run_pending_migrations(MIGRATIONS).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(done.iter().map(|v| v.to_string()).collect())
    }

    /// Runs `f` on a read-only connection, on a thread of the read pool (see [`Lanes`]).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.read.run(f).await
    }

    /// Runs `f` on a read-only connection of the search pool, on a thread of that pool.
    ///
    /// Full-text searches are the one read whose cost grows with the catalog and that anyone
    /// can send, so they get connections of their own: a flood of them queues here, at most
    /// `search_acquire_timeout` before [`StoreError::Busy`], and never holds a connection
    /// (or a thread) that [`Db::read`] callers such as authentication and readiness need.
    pub async fn search<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.search.run(f).await
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
        let w = self.write.state();
        let (r, s) = (self.read.usage(), self.search.usage());
        PoolUsage { open: r.0 + w.connections + s.0, idle: r.1 + w.idle_connections + s.1 }
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
