use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("row not found")]
    NotFound,
    /// A unique constraint refused the write; names the constraint's column(s).
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// No connection could be had from the pool in time.
    #[error("database connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// SQLite's lock is held elsewhere (another process, a long statement) beyond the busy
    /// timeout, or too many callers already wait for it: retry shortly.
    #[error("database is busy: {0}")]
    Busy(String),
    /// The database refused or failed a statement.
    #[error("database: {0}")]
    Database(#[source] DieselError),
    /// A stored value does not parse (a bad role name, a corrupt JSON detail).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Applying or checking migrations failed.
    #[error("migrations: {0}")]
    Migration(String),
    /// The writer thread failed to run a write (it panicked) or has stopped.
    #[error("database writer: {0}")]
    WriterFailed(String),
    /// A read failed without an answer (it panicked), or the read threads have stopped.
    #[error("database read: {0}")]
    ReadFailed(String),
    /// The blocking task that ran the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                // SQLite says "UNIQUE constraint failed: users.email"
                let what = info.message().rsplit(": ").next().unwrap_or_default().to_owned();
                StoreError::Unique(what)
            }
            // SQLITE_BUSY / SQLITE_LOCKED come back as "database is locked" (or "busy")
            DieselError::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database is busy")
                    || info.message().contains("database table is locked") =>
            {
                StoreError::Busy(info.message().to_owned())
            }
            other => StoreError::Database(other),
        }
    }
}
