//! Test support: a fresh, migrated database of either backend per test, and a macro that runs
//! one async test body against both. SQLite lives in a temporary folder; PostgreSQL gets a fresh
//! schema in the database named by `BEATSTREAM_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends.

use std::path::PathBuf;

use sqlx::Executor;

use crate::{Backend, Db, DbLocation, Migrations};

pub fn postgres_test_url() -> String {
    std::env::var("BEATSTREAM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A database for one test; call [`TestDb::finish`] at the end to drop a PostgreSQL schema.
pub struct TestDb {
    pub db: Db,
    location: DbLocation,
    _dir: Option<TempDir>,
}

/// A temporary folder removed on drop (kept tiny to avoid a dependency here).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub async fn new(backend: Backend, service: &str, migrations: &Migrations) -> Self {
        let (location, dir) = match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("beatstream-test");
                let location = DbLocation::SqliteFile(dir.path().join(format!("{service}.db")));
                (location, Some(dir))
            }
            Backend::Postgres => {
                let schema = format!("t_{service}_{}", uuid::Uuid::new_v4().simple());
                let location = DbLocation::Postgres {
                    url: postgres_test_url(),
                    schema,
                };
                (location, None)
            }
        };
        let db = Db::open(&location, service, 4)
            .await
            .unwrap_or_else(|e| panic!("open test database ({backend:?}): {e}"));
        db.migrate(service, migrations)
            .await
            .unwrap_or_else(|e| panic!("migrate test database ({backend:?}): {e}"));
        TestDb {
            db,
            location,
            _dir: dir,
        }
    }

    /// Closes the pool and drops the PostgreSQL schema.
    pub async fn finish(self) {
        self.db.close().await;
        if let DbLocation::Postgres { url, schema } = &self.location {
            if let Ok(admin) = sqlx::AnyPool::connect(url).await {
                let _ = admin
                    .execute(
                        format!(
                            "DROP SCHEMA IF EXISTS {} CASCADE",
                            crate::quote_ident(schema)
                        )
                        .as_str(),
                    )
                    .await;
                admin.close().await;
            }
        }
    }
}

/// Runs each named async test function (taking a [`Db`]) on SQLite and on PostgreSQL:
/// `backend_tests!("auth", &MIGRATIONS; creates_user, rejects_duplicate);`
#[macro_export]
macro_rules! backend_tests {
    ($service:expr, $migrations:expr; $($test:ident),+ $(,)?) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $test() {
                    let test_db = $crate::testing::TestDb::new($crate::Backend::Sqlite, $service, $migrations).await;
                    super::$test(test_db.db.clone()).await;
                    test_db.finish().await;
                }
            )+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $test() {
                    let test_db = $crate::testing::TestDb::new($crate::Backend::Postgres, $service, $migrations).await;
                    super::$test(test_db.db.clone()).await;
                    test_db.finish().await;
                }
            )+
        }
    };
}
