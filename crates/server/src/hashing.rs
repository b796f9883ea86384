//! Bounded password hashing for the request path.
//!
//! An argon2id hash or verification needs 19 MiB of working memory and tens of milliseconds
//! of one core. Run unbounded (one blocking task per login), a login storm makes the server
//! hold one such block per waiting request and grow its thread pool, and throughput falls as
//! the cores thrash. This pool runs at most `workers` computations at once, each on a
//! dedicated thread that owns (and reuses) its memory, so hashing memory stays at
//! `workers` × 19 MiB whatever the load. A request that cannot get a slot within the
//! configured wait is refused with 503 and `Retry-After` instead of queueing without end.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::config::HashingSettings;
use crate::service::ServiceError;

/// The most argon2 memory a stored hash may ask for, in 1 KiB blocks (64 MiB). A hash asking
/// for more never matches: it was not made by this server, and honouring it would unbound
/// memory.
const MAX_BLOCKS: usize = 64 * 1024;

/// Runs argon2id hashes and verifications on a fixed set of threads with reused memory.
pub struct PasswordHasherPool {
    permits: Arc<Semaphore>,
    wait: Duration,
    jobs: mpsc::Sender<Job>,
    workers: usize,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for PasswordHasherPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasherPool")
            .field("workers", &self.workers)
            .field("wait", &self.wait)
            .finish()
    }
}

#[derive(Default)]
struct Stats {
    running: AtomicUsize,
    peak: AtomicUsize,
}

enum Task {
    Hash { password: String },
    Verify { password: String, stored: Option<String> },
}

enum Outcome {
    Hashed(Result<String, String>),
    Verified(bool),
}

struct Job {
    task: Task,
    reply: oneshot::Sender<Outcome>,
    // Held until the computation ends, even if the caller has gone away meanwhile.
    permit: OwnedSemaphorePermit,
}

impl PasswordHasherPool {
    /// A pool sized by `settings` (0 workers = one per core), hashing with the server's
    /// argon2id parameters.
    pub fn from_settings(settings: &HashingSettings) -> std::io::Result<PasswordHasherPool> {
        let workers = match settings.max_concurrent {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        PasswordHasherPool::new(
            workers,
            Duration::from_millis(settings.wait_ms),
            crate::auth::argon2_params(),
        )
    }

    /// `workers` threads (at least 1); a caller waits at most `wait` for one of them (zero:
    /// no waiting at all). New hashes use `params`.
    pub fn new(workers: usize, wait: Duration, params: Params) -> std::io::Result<PasswordHasherPool> {
        let workers = workers.max(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(Stats::default());
        for i in 0..workers {
            let rx = Arc::clone(&rx);
            let stats = Arc::clone(&stats);
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("retail-hash-{i}"))
                .spawn(move || work(&rx, &params, &stats))?;
        }
        Ok(PasswordHasherPool { permits: Arc::new(Semaphore::new(workers)), wait, jobs, workers, stats })
    }

    /// How many computations may run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The most computations that ever ran at the same time.
    pub fn peak_concurrency(&self) -> usize {
        self.stats.peak.load(Ordering::Relaxed)
    }

    /// A new PHC string for `password`.
    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        match self.run(Task::Hash { password }).await? {
            Outcome::Hashed(r) => {
                r.map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}").into()))
            }
            Outcome::Verified(_) => {
                Err(ServiceError::Internal("password hashing answered a verification".into()))
            }
        }
    }

    /// Whether `password` matches the `stored` PHC string; a malformed hash never matches.
    /// With no stored hash (unknown account) it spends the time of a verification and says
    /// no, so response time does not reveal which accounts exist.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ServiceError> {
        match self.run(Task::Verify { password, stored }).await? {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => Err(ServiceError::Internal("password verification answered a hash".into())),
        }
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        let permits = Arc::clone(&self.permits);
        if self.wait.is_zero() {
            return permits.try_acquire_owned().map_err(|_| busy());
        }
        match tokio::time::timeout(self.wait, permits.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ServiceError::internal(closed)),
            Err(_elapsed) => Err(busy()),
        }
    }

    async fn run(&self, task: Task) -> Result<Outcome, ServiceError> {
        let permit = self.acquire().await?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { task, reply, permit })
            .map_err(|_| ServiceError::Internal("password hashing threads have stopped".into()))?;
        answer.await.map_err(|_| ServiceError::Internal("a password hashing thread failed".into()))
    }
}

fn busy() -> ServiceError {
    ServiceError::Unavailable("too many password checks at once; retry shortly".into())
}

/// One worker thread: takes jobs until the pool is dropped. Its argon2 memory is allocated
/// on first use and reused for every later job.
fn work(rx: &Mutex<mpsc::Receiver<Job>>, params: &Params, stats: &Stats) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(rx) = rx.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return, // pool dropped
            }
        };
        let Job { task, reply, permit } = job;
        let now = stats.running.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| match task {
            Task::Hash { password } => Outcome::Hashed(hash_with(&mut memory, params, &password)),
            Task::Verify { password, stored: Some(stored) } => {
                Outcome::Verified(verify_with(&mut memory, &password, &stored))
            }
            Task::Verify { password, stored: None } => {
                burn_with(&mut memory, params, &password);
                Outcome::Verified(false)
            }
        }));
        stats.running.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        match outcome {
            Ok(o) => {
                let _ = reply.send(o); // the caller may have gone away
            }
            // dropping `reply` tells the caller; the thread and its memory stay usable
            Err(_) => memory = Vec::new(),
        }
    }
}

/// The first `blocks` blocks of the reused memory, grown if needed (never beyond
/// [`MAX_BLOCKS`]).
fn memory_for(memory: &mut Vec<Block>, blocks: usize) -> Option<&mut [Block]> {
    if blocks > MAX_BLOCKS {
        return None;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    memory.get_mut(..blocks)
}

fn hash_with(memory: &mut Vec<Block>, params: &Params, password: &str) -> Result<String, String> {
    let salt = Salt::new(&rand::random::<[u8; Salt::RECOMMENDED_LENGTH]>()).map_err(|e| e.to_string())?;
    let mut buf = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let out =
        buf.get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)).ok_or("output length")?;
    let mem = memory_for(memory, params.block_count()).ok_or("argon2 memory cost too high")?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut *out, mem)
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else { return false };
    let version = match phc.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&phc) else { return false };
    let Some(mem) = memory_for(memory, params.block_count()) else {
        tracing::warn!(blocks = params.block_count(), "stored password hash asks for too much memory");
        return false;
    };
    let mut buf = [0u8; Output::MAX_LENGTH];
    let Some(out) = buf.get_mut(..expected.len()) else { return false };
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut *out, mem)
        .is_err()
    {
        return false;
    }
    // `Output` compares in constant time.
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

/// Costs what verifying a hash made with `params` costs; the result is thrown away.
fn burn_with(memory: &mut Vec<Block>, params: &Params, password: &str) {
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if let Some(mem) = memory_for(memory, params.block_count()) {
        let _ = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                &[0x5a; Salt::RECOMMENDED_LENGTH],
                &mut out,
                mem,
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth;

    fn pool(workers: usize, wait: Duration) -> PasswordHasherPool {
        PasswordHasherPool::new(workers, wait, auth::argon2_params()).unwrap()
    }

    #[tokio::test]
    async fn a_verification_accepts_the_password_and_nothing_else() {
        let p = pool(1, Duration::from_secs(5));
        let h = p.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify("correct horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!p.verify("correct horse batterY".into(), Some(h.clone())).await.unwrap());
        assert!(!p.verify("".into(), Some(h.clone())).await.unwrap());
        assert!(!p.verify("x".into(), Some("not a hash".into())).await.unwrap());
        assert!(!p.verify("x".into(), Some(String::new())).await.unwrap());
        // a hash whose output was cut short or whose params are nonsense never matches
        let cut = &h[..h.len() - 4];
        assert!(!p.verify("correct horse battery".into(), Some(cut.into())).await.unwrap());
        let huge = h.replace("m=19456", "m=4000000");
        assert!(!p.verify("correct horse battery".into(), Some(huge)).await.unwrap());
        // unknown account: costs a verification, never matches
        assert!(!p.verify("correct horse battery".into(), None).await.unwrap());
        // the memory reused after all that still gives the right answer
        assert!(p.verify("correct horse battery".into(), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn pool_hashes_and_plain_hashes_are_interchangeable() {
        let p = pool(1, Duration::from_secs(5));
        let from_pool = p.hash("a long enough pass 1".into()).await.unwrap();
        assert!(auth::verify_password("a long enough pass 1", &from_pool));
        assert!(!auth::verify_password("a long enough pass 2", &from_pool));
        let plain = auth::hash_password("demo-Wren-2026").unwrap();
        assert!(p.verify("demo-Wren-2026".into(), Some(plain.clone())).await.unwrap());
        assert!(!p.verify("demo-Wren-2027".into(), Some(plain)).await.unwrap());
        // hashes with other (weaker) parameters made elsewhere still verify
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap());
        let weak = argon2::PasswordHasher::hash_password(&weak, b"legacy pass").unwrap().to_string();
        assert!(p.verify("legacy pass".into(), Some(weak.clone())).await.unwrap());
        assert!(!p.verify("legacy pasS".into(), Some(weak)).await.unwrap());
    }

    #[tokio::test]
    async fn a_caller_that_would_wait_past_the_deadline_is_told_busy() {
        let p = pool(1, Duration::from_millis(50));
        let held = Arc::clone(&p.permits).try_acquire_owned().unwrap();
        let started = std::time::Instant::now();
        match p.verify("x".into(), None).await {
            Err(ServiceError::Unavailable(_)) => {}
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(50));
        match p.hash("y".into()).await {
            Err(ServiceError::Unavailable(_)) => {}
            other => panic!("{other:?}"),
        }
        let no_wait = pool(1, Duration::ZERO);
        let _held2 = Arc::clone(&no_wait.permits).try_acquire_owned().unwrap();
        assert!(matches!(no_wait.verify("x".into(), None).await, Err(ServiceError::Unavailable(_))));
        drop(held);
        assert!(!p.verify("x".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn no_more_than_the_configured_number_run_at_once() {
        let p = Arc::new(pool(2, Duration::from_secs(60)));
        let h = p.hash("pw pw pw pw".into()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let p = Arc::clone(&p);
            let h = h.clone();
            tasks.push(tokio::spawn(async move {
                let pw = if i % 2 == 0 { "pw pw pw pw" } else { "wrong" };
                (i % 2 == 0, p.verify(pw.into(), Some(h)).await.unwrap())
            }));
        }
        for t in tasks {
            let (expected, got) = t.await.unwrap();
            assert_eq!(expected, got);
        }
        let peak = p.peak_concurrency();
        assert!((1..=2).contains(&peak), "peak {peak}");
    }

    #[test]
    fn the_example_file_documents_the_default_settings() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../retail.example.toml");
        let s = crate::config::Settings::load(Some(&path)).unwrap().hashing;
        let d = HashingSettings::default();
        assert_eq!((s.max_concurrent, s.wait_ms), (d.max_concurrent, d.wait_ms));
    }

    #[test]
    fn settings_size_the_pool() {
        let p =
            PasswordHasherPool::from_settings(&HashingSettings { max_concurrent: 3, wait_ms: 10 }).unwrap();
        assert_eq!(p.workers(), 3);
        let d =
            PasswordHasherPool::from_settings(&HashingSettings { max_concurrent: 0, wait_ms: 10 }).unwrap();
        assert!(d.workers() >= 1);
    }
}
