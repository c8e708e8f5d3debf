//! Opens a service's database from a URL and applies its embedded migrations.
//!
//! Beatstream speaks two SQL backends through sqlx's `Any` driver: SQLite (one WAL-mode file per
//! service, the zero-set-up default) and PostgreSQL (one database, each service in a schema of
//! its own, so services never see each other's tables). Stores write their SQL once with `$1`
//! placeholders, integers for times and booleans, and text for ids, which both backends read
//! the same way; where the dialects differ a store branches on [`Backend`]. See
//! `docs/adr/001-one-sql-through-sqlx-any.md`.
//!
//! This crate owns no tables and emits no events.

use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

mod checkpoint;
pub mod jobs;
mod sqlite_settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use sqlx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A service's migrations, one folder per backend with the same numbers in both.
pub struct Migrations {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
}

/// A service's connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// SQLite: the one connection writes go through. Its page cache stays valid from one
    /// transaction to the next (a connection drops its cache whenever another one wrote), and
    /// its prepared statements stay warm. PostgreSQL: the pool itself.
    writer: AnyPool,
    backend: Backend,
    /// SQLite only.
    sqlite: Option<SqliteWrites>,
}

/// What a SQLite database keeps for its writers.
#[derive(Clone, Debug)]
struct SqliteWrites {
    /// SQLite admits one writer at a time; writers of this process queue here, in order,
    /// instead of in SQLite's busy handler, which sleeps and wakes in growing steps.
    queue: Arc<tokio::sync::Mutex<()>>,
    /// The task that checkpoints the WAL (see [`checkpoint`]).
    _checkpointer: Arc<checkpoint::Checkpointer>,
}

/// A write transaction: dereferences to its connection; commit it or drop it to roll back.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: WriteTurn,
}

/// This process's turn to write, held while one statement runs outside a transaction (see
/// [`Db::write_turn`]).
#[must_use = "the turn ends when it is dropped"]
pub struct WriteTurn {
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the {service} database: {source}")]
    Connect {
        service: String,
        source: sqlx::Error,
    },
    #[error("migrating the {service} database failed: {source}")]
    Migrate {
        service: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Where a service's data lives, from `database.url` (empty means SQLite in `data_dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    SqliteFile(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl DbLocation {
    pub fn for_service(database_url: &str, data_dir: &Path, service: &str) -> Self {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            DbLocation::Postgres {
                url: database_url.to_string(),
                schema: service.to_string(),
            }
        } else {
            let dir = database_url
                .strip_prefix("sqlite://")
                .filter(|d| !d.is_empty())
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| data_dir.to_path_buf());
            DbLocation::SqliteFile(dir.join(format!("{service}.db")))
        }
    }

    /// For start-up messages; never contains a password.
    pub fn describe(&self) -> String {
        match self {
            DbLocation::SqliteFile(path) => format!("sqlite {}", path.display()),
            DbLocation::Postgres { url, schema } => {
                format!("postgres {} schema {schema}", redact_password(url))
            }
        }
    }
}

fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

static DRIVERS: Once = Once::new();

/// Every SQLite connection's busy timeout, in milliseconds.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// A SQLite pool's options: WAL, and checkpoints left to [`checkpoint`]. No ping before each
/// checkout: a connection to a file in this process cannot drop, and the ping cost a round
/// trip to the connection's thread on every checkout.
fn sqlite_pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute(format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").as_str())
                    .await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute(checkpoint::automatic_checkpoint_pragma().as_str())
                    .await?;
                Ok(())
            })
        })
}

impl Db {
    /// Opens (creating if needed) the database of `service` at `location`.
    pub async fn open(
        location: &DbLocation,
        service: &str,
        max_connections: u32,
    ) -> Result<Self, DbError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let connect_err = |source| DbError::Connect {
            service: service.to_string(),
            source,
        };
        match location {
            DbLocation::SqliteFile(path) => {
                sqlite_settings::apply_once();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let options: AnyConnectOptions = url.parse().map_err(connect_err)?;
                let pool = sqlite_pool_options(max_connections)
                    .connect_with(options.clone())
                    .await
                    .map_err(connect_err)?;
                let writer = sqlite_pool_options(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                let queue = Arc::new(tokio::sync::Mutex::new(()));
                let checkpointer = checkpoint::start(
                    pool.clone(),
                    queue.clone(),
                    path.clone(),
                    service.to_string(),
                );
                Ok(Db {
                    pool,
                    writer,
                    backend: Backend::Sqlite,
                    sqlite: Some(SqliteWrites {
                        queue,
                        _checkpointer: Arc::new(checkpointer),
                    }),
                })
            }
            DbLocation::Postgres { url, schema } => {
                let options: AnyConnectOptions = url.parse().map_err(connect_err)?;
                let schema = quote_ident(schema);
                let set_path = format!("SET search_path TO {schema}");
                // The schema must exist before a connection can use it.
                let bootstrap = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options.clone())
                    .await
                    .map_err(connect_err)?;
                bootstrap
                    .execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                    .await
                    .map_err(connect_err)?;
                bootstrap.close().await;
                let pool = AnyPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(move |conn, _meta| {
                        let set_path = set_path.clone();
                        Box::pin(async move {
                            conn.execute(set_path.as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Ok(Db {
                    writer: pool.clone(),
                    pool,
                    backend: Backend::Postgres,
                    sqlite: None,
                })
            }
        }
    }

    /// Applies the service's pending migrations for this backend.
    pub async fn migrate(&self, service: &str, migrations: &Migrations) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => migrations.sqlite,
            Backend::Postgres => migrations.postgres,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| DbError::Migrate {
                service: service.to_string(),
                source,
            })
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait their turn (busy timeout) instead of
    /// failing when a transaction that started by reading tries to write.
    /// In this process, SQLite writers also wait their turn in a fair queue first.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Waits for this process's write turn (SQLite) without beginning a transaction, for a
    /// single statement run on the pool. A writer that skipped the queue would meet a held
    /// write lock inside SQLite, whose busy handler sleeps (1, 2, 5, ... up to 100 ms) instead
    /// of queueing, and would then hold up every writer queued behind it.
    pub async fn write_turn(&self) -> WriteTurn {
        WriteTurn {
            _turn: match &self.sqlite {
                Some(sqlite) => Some(sqlite.queue.clone().lock_owned().await),
                None => None,
            },
        }
    }

    /// Runs one writing statement on the pool in this process's write turn (see
    /// [`Db::write_turn`]): the way to write outside a transaction.
    pub async fn execute_write<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
        let _turn = self.write_turn().await;
        query.execute(&self.writer).await
    }

    /// Begins a write transaction that also excludes every other transaction begun with the
    /// same `lock` until it ends: for checks over many rows ("is this the first account?",
    /// "is an admin left?") that must not interleave. SQLite's `BEGIN IMMEDIATE` already
    /// admits one writer at a time; PostgreSQL takes a transaction-scoped advisory lock.
    pub async fn begin_serialized(&self, lock: &str) -> Result<WriteTx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
                .bind(lock)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap query that proves the database answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Placeholders for `count` values from `start`: `$start, $start+1, ...` on PostgreSQL, and plain
/// `?` on SQLite, which binds named parameters (`$N`) by a linear search per parameter: for a
/// statement of many rows that is quadratic, while `?` binds in order.
pub fn bulk_placeholders(conn: &sqlx::AnyConnection, start: usize, count: usize) -> String {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        vec!["?"; count].join(", ")
    } else {
        (start..start + count)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Placeholders for `rows` rows of `width` values each, as `(..), (..)`, numbered from 1 (see
/// [`bulk_placeholders`]), for a multi-row `INSERT`.
pub fn value_rows(conn: &sqlx::AnyConnection, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", bulk_placeholders(conn, row * width + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Placeholders `$start, ..., $(start + count - 1)`, for an `IN` list of a few hundred values.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `sql` once per few hundred of `ids`, with `{ids}` in it replaced by their placeholders
/// (numbered from `$1`, the only parameters), and returns every row: a query for the rows of an
/// `IN` list of any length.
pub async fn fetch_all_in<I: AsRef<str>>(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    ids: &[I],
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = sql.replace("{ids}", &placeholders(1, chunk.len()));
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.as_ref());
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Quotes an SQL identifier (a schema name from config or a test).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// True when `error` is a unique-constraint violation on either backend.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_url_means_one_sqlite_file_per_service_in_data_dir() {
        let loc = DbLocation::for_service("", Path::new("/srv/data"), "auth");
        assert_eq!(loc, DbLocation::SqliteFile("/srv/data/auth.db".into()));
    }

    #[test]
    fn postgres_url_gives_each_service_a_schema() {
        let loc = DbLocation::for_service("postgres://u:secret@h/db", Path::new("."), "users");
        assert_eq!(
            loc,
            DbLocation::Postgres {
                url: "postgres://u:secret@h/db".into(),
                schema: "users".into()
            }
        );
        assert!(!loc.describe().contains("secret"), "{}", loc.describe());
    }

    /// A TEMP table lives in the connection that made it: every write transaction and every
    /// `execute_write` sees the one made by the first, however many run at once.
    #[tokio::test]
    async fn sqlite_writes_go_through_one_connection() {
        let dir = testing::TempDir::new("beatstream-db");
        let db = Db::open(&DbLocation::SqliteFile(dir.path().join("w.db")), "w", 4)
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TEMP TABLE marker (n INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut writers = tokio::task::JoinSet::new();
        for n in 0..8 {
            let db = db.clone();
            writers.spawn(async move {
                let mut tx = db.begin_write().await.unwrap();
                sqlx::query("INSERT INTO marker (n) VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            });
        }
        while let Some(done) = writers.join_next().await {
            done.unwrap();
        }
        db.execute_write(sqlx::query("INSERT INTO marker (n) VALUES (8)"))
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM marker")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(count, 9);
        drop(tx);
        // The pool's connections for reads are others: they do not see it.
        let seen = sqlx::query("SELECT n FROM marker")
            .fetch_all(db.pool())
            .await;
        assert!(
            seen.is_err(),
            "a reading connection saw the writer's TEMP table"
        );
    }
}
