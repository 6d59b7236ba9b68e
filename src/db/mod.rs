//! Storage: one diesel code path over SQLite (embedded default) and PostgreSQL.
//!
//! The backend is chosen from the URL scheme in our own r2d2 manager (SQLite accepts
//! any string as a path, so trying backends in order would be a trap). Backend
//! differences live in this module only. Models return [`StoreError`]; the HTTP layer
//! maps it to problem+json.
//!
//! # Writes under concurrency: one rule
//!
//! PostgreSQL runs READ COMMITTED: two reads in one transaction may see two different
//! moments, and a plain read does not stop another transaction from changing the row
//! before this one writes. So every transaction that decides from rows it read does one
//! of two things:
//!
//! 1. **locks them** with `SELECT … FOR UPDATE` before reading what it decides from
//!    ([`lock`]), always in one order: the dossier, then its tasks, then a courier (two
//!    writers that lock in one order cannot deadlock on those rows). Every write to a
//!    task holds its dossier's lock, so the dossier's lock also guards its tasks. Every dossier
//!    action, courier task event, assignment, reschedule, cancel and clerk action starts
//!    by locking its dossier; a second request waits and then sees the first one's
//!    result, so an event that is no longer allowed is refused with 409. A route plan
//!    is solved from a snapshot, then committed stop by stop under each dossier's lock,
//!    leaving out stops done or cancelled meanwhile; or
//! 2. **updates conditionally** on the state it read (`UPDATE … WHERE version = $read`,
//!    `WHERE status = 'open'`, a lease that is free or expired) and answers 409 when no
//!    row matched: the dossier's status and version
//!    ([`models::dossiers::set_status`]), complaint answers, refresh-token rotation, the
//!    outbox claim (`FOR UPDATE SKIP LOCKED` plus a lease) and the per-office planning
//!    lease ([`models::leases`]).
//!
//! A client that decided from an earlier read sends that read's dossier version in
//! `If-Match`; the write then locks the dossier and is refused with 409 when the version
//! moved, so of N requests made from one read exactly one wins even where the action is
//! allowed again afterwards (reschedule, reassign, a second failed attempt).
//!
//! SQLite has one writer (all writes go through [`writer`]), which gives the same
//! guarantees; the locks are plain reads there.

pub mod changes;
mod listen;
pub mod lock;
pub mod models;
pub mod schema;
pub mod seed;
mod writer;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Migrations per backend; the folders carry the same names (a test checks).
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// PostgreSQL twin of [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the storage layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    #[error("foreign key violated: {0}")]
    ForeignKeyViolation(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Lost a race with another transaction (deadlock, serialization failure, busy
    /// database); nothing was written and the same write may be tried again.
    #[error("contention: {0}")]
    Contention(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::UniqueViolation(
                    info.constraint_name()
                        .or(info.column_name())
                        .unwrap_or(info.message())
                        .to_owned(),
                )
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StoreError::ForeignKeyViolation(
                    info.column_name().unwrap_or("reference").to_owned(),
                )
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Contention(info.message().to_owned())
            }
            DieselError::DatabaseError(_, info)
                if info.message().contains("deadlock detected")
                    || info.message().contains("database is locked") =>
            {
                StoreError::Contention(info.message().to_owned())
            }
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl StoreError {
    /// Whether the write lost a race and may simply be run again.
    pub fn is_contention(&self) -> bool {
        matches!(self, StoreError::Contention(_))
    }
}

impl From<r2d2::PoolError> for StoreError {
    fn from(e: r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Where the database lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path (created if missing).
    Sqlite(String),
    /// A libpq connection URL.
    Postgres(String),
}

impl DbUrl {
    /// Accepts `sqlite://PATH` and `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path.contains(":memory:") {
                return Err("sqlite:// needs a file path (an in-memory database would give each pooled connection its own)".into());
            }
            Ok(DbUrl::Sqlite(path.to_owned()))
        } else {
            Err(format!(
                "unsupported DATABASE_URL scheme in {url:?}: use sqlite://PATH or postgres://…"
            ))
        }
    }

    /// The engine behind the URL.
    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// r2d2 manager that builds the right variant from the URL.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DbUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DbUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // Per connection: enforce references, wait for the writer instead of
                // failing, fsync the WAL at every commit (no lost acknowledged write).
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A pooled connection.
pub type Conn = PooledConnection<Manager>;

/// The storage handle shared by handlers and workers.
///
/// Blocking diesel work runs on tokio's blocking pool, never on the async workers.
/// On SQLite, writes go to one writer thread that commits them in groups (see
/// [`writer`]): SQLite has one writer anyway, one fsync then serves many writes, and
/// no read transaction ever has to upgrade to a write (`SQLITE_BUSY`).
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// Held by the SQLite writer thread per batch and by synchronous writes.
    write_lock: Arc<Mutex<()>>,
    writer: Option<Arc<writer::Writer>>,
    changes: Arc<changes::Changes>,
}

impl Db {
    /// Opens the pool (creating the SQLite file and switching it to WAL).
    pub fn connect(url: &str, max_size: u32) -> Result<Self, String> {
        let url = DbUrl::parse(url)?;
        let changes = Arc::new(changes::Changes::default());
        if let DbUrl::Postgres(pg) = &url {
            create_pg_database_if_missing(pg)?;
            listen::spawn(pg.clone(), &changes);
        }
        let backend = url.backend();
        let manager = Manager { url };
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(Duration::from_secs(10))
            .test_on_check_out(false)
            .build(manager.clone())
            .map_err(|e| format!("cannot open the database: {e}"))?;
        let write_lock = Arc::new(Mutex::new(()));
        let writer = (backend == Backend::Sqlite).then(|| {
            let connect =
                move || r2d2::ManageConnection::connect(&manager).map_err(|e| e.to_string());
            Arc::new(writer::Writer::start(
                connect,
                write_lock.clone(),
                changes.clone(),
            ))
        });
        let db = Self {
            pool,
            backend,
            write_lock,
            writer,
            changes,
        };
        if backend == Backend::Sqlite {
            let mut conn = db.conn().map_err(|e| e.to_string())?;
            conn.batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|e| format!("cannot switch SQLite to WAL: {e}"))?;
        }
        Ok(db)
    }

    /// The engine in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What this node's committed writes touched (for caches of derived views).
    pub fn changes(&self) -> &changes::Changes {
        &self.changes
    }

    /// A connection for synchronous callers (CLI, start-up).
    pub fn conn(&self) -> Result<Conn, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Pool figures for `/metrics`: (open connections, idle connections, max size).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections, self.pool.max_size())
    }

    /// Runs the embedded migrations of the backend in use.
    pub fn migrate(&self) -> Result<(), StoreError> {
        let _guard = self.lock_writes();
        let mut conn = self.conn()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        if self.backend == Backend::Postgres {
            // Two nodes starting together must not migrate at once.
            conn.batch_execute("SELECT pg_advisory_lock(72201)")?;
        }
        let result = conn
            .run_pending_migrations(migrations)
            .map(|_| ())
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")));
        if self.backend == Backend::Postgres {
            conn.batch_execute("SELECT pg_advisory_unlock(72201)")?;
        }
        result
    }

    fn lock_writes(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (self.backend == Backend::Sqlite)
            .then(|| self.write_lock.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Runs `f` in a write transaction, synchronously.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError> + From<DieselError>,
    {
        let _guard = self.lock_writes();
        let mut pooled = self.conn()?;
        let conn: &mut DbConnection = &mut pooled;
        let notify = self.backend == Backend::Postgres;
        changes::take();
        let result = conn.transaction(|c| {
            let out = f(c)?;
            if notify {
                listen::notify(c, &changes::peek())?;
            }
            Ok(out)
        });
        let touched = changes::take();
        if result.is_ok() {
            self.changes.publish(&touched);
        }
        result
    }

    /// Runs `f` with a connection on the blocking pool (reads).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Other(format!("blocking task failed: {e}")))?
    }

    /// Like [`write`](Self::write) for writes that race others (route plans,
    /// auto-assignment on several nodes): a transaction that lost to a deadlock or a
    /// serialization failure is rolled back and run again, a few times.
    pub async fn write_retrying<T, F>(&self, f: F) -> Result<T, crate::error::ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<T, crate::error::ApiError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = std::sync::Arc::new(f);
        let mut attempt = 0u64;
        loop {
            let g = f.clone();
            match self.write(move |c| g(c)).await {
                Err(e) if e.retryable && attempt < 4 => {
                    attempt += 1;
                    let jitter = rand::random::<u64>() % 40;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt + jitter))
                        .await;
                }
                other => return other,
            }
        }
    }

    /// Runs `f` in one transaction: all of it commits or none, and the answer comes
    /// after the commit. On SQLite it runs on the writer thread (group commit), on
    /// PostgreSQL on the blocking pool.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<DieselError> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            let (tx, rx) = tokio::sync::oneshot::channel();
            writer.submit(Box::new(writer::Pending {
                f,
                done: Box::new(move |result| {
                    let _ = tx.send(result);
                }),
            }));
            return rx
                .await
                .map_err(|_| StoreError::Other("a write was dropped unanswered".into()))?;
        }
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| StoreError::Other(format!("blocking task failed: {e}")))?
    }
}

/// `postgres://…/olddb?x` → `postgres://…/newdb?x`: the same server and options, another
/// database.
pub fn pg_url_with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// Creates the PostgreSQL database named in `url` when the server says it does not
/// exist, so a first start needs no manual `CREATE DATABASE`.
fn create_pg_database_if_missing(url: &str) -> Result<(), String> {
    match PgConnection::establish(url) {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("does not exist") => {
            let base = url.split_once('?').map_or(url, |(b, _)| b);
            let (_, name) = base
                .rsplit_once('/')
                .ok_or_else(|| format!("no database name in {url}"))?;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("database {name:?} does not exist; create it first"));
            }
            let admin_url = pg_url_with_database(url, "postgres");
            let mut admin = PgConnection::establish(&admin_url).map_err(|e| {
                format!("database {name} does not exist and cannot be created: {e}")
            })?;
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .map_err(|e| format!("cannot create database {name}: {e}"))?;
            tracing::info!(database = name, "created the PostgreSQL database");
            Ok(())
        }
        Err(e) => Err(format!("cannot connect to PostgreSQL: {e}")),
    }
}

thread_local! {
    /// How far this thread's clock is moved, in microseconds: zero except while the
    /// demo loader writes its history of past weeks (see `as_if_at`).
    static CLOCK_SHIFT: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Now, as stored: naive UTC truncated to microseconds so both backends compare equal.
pub fn now_utc() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6) + chrono::Duration::microseconds(CLOCK_SHIFT.get())
}

/// Runs `f` on this thread as if it were `at` (naive UTC): every `now_utc` inside
/// reads `at` plus the time `f` has taken. For the demo's past weeks only, so that
/// their events are written with the moments they stand for (events are append-only).
pub fn as_if_at<T>(at: chrono::NaiveDateTime, f: impl FnOnce() -> T) -> T {
    struct Reset(i64);
    impl Drop for Reset {
        fn drop(&mut self) {
            CLOCK_SHIFT.set(self.0);
        }
    }
    let _reset = Reset(CLOCK_SHIFT.get());
    CLOCK_SHIFT.set(0);
    let shift = (at - now_utc()).num_microseconds().unwrap_or(0);
    CLOCK_SHIFT.set(shift);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_if_at_moves_this_threads_clock_and_puts_it_back() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .unwrap();
        let seen = as_if_at(at, || {
            let inner = as_if_at(at - chrono::Duration::days(1), now_utc);
            (now_utc(), inner)
        });
        assert!((seen.0 - at).num_seconds().abs() < 5, "{seen:?}");
        assert!(
            (seen.1 - (at - chrono::Duration::days(1)))
                .num_seconds()
                .abs()
                < 5
        );
        assert!(
            (chrono::Utc::now().naive_utc() - now_utc())
                .num_seconds()
                .abs()
                < 5
        );
        let other = std::thread::spawn(move || as_if_at(at, || std::thread::spawn(now_utc).join()));
        let real = other.join().unwrap().unwrap();
        assert!(
            (chrono::Utc::now().naive_utc() - real).num_seconds().abs() < 5,
            "other threads keep the real clock"
        );
    }

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            DbUrl::parse("sqlite://buuta.db").unwrap(),
            DbUrl::Sqlite("buuta.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///var/lib/buuta.db").unwrap(),
            DbUrl::Sqlite("/var/lib/buuta.db".into())
        );
        assert_eq!(
            DbUrl::parse("postgres://postgres@127.0.0.1/x")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert!(DbUrl::parse("postgresql://h/x").is_ok());
        assert!(DbUrl::parse("mysql://h/x").is_err());
        assert!(DbUrl::parse("buuta.db").is_err());
        assert!(DbUrl::parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn database_url_rewrite() {
        assert_eq!(
            pg_url_with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            pg_url_with_database("postgres://h/test?sslmode=disable", "y"),
            "postgres://h/y?sslmode=disable"
        );
    }

    #[test]
    fn migration_folders_pair_up() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let root = env!("CARGO_MANIFEST_DIR");
        let sqlite = names(&format!("{root}/migrations/sqlite"));
        let postgres = names(&format!("{root}/migrations/postgres"));
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres, "every migration needs a twin per backend");
        for name in &sqlite {
            for backend in ["sqlite", "postgres"] {
                for file in ["up.sql", "down.sql"] {
                    let p = format!("{root}/migrations/{backend}/{name}/{file}");
                    assert!(std::path::Path::new(&p).exists(), "missing {p}");
                }
            }
        }
    }
}
