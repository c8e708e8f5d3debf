//! Process-wide SQLite settings, made once before the first SQLite connection opens.
//!
//! By default SQLite keeps allocation statistics, and to keep them it takes one process-wide
//! mutex on every allocation and every free. sqlx runs each SQLite connection on a thread of
//! its own, so under load those threads queue on that one mutex: reading a page of 100
//! playlist entries at 64 connections spent about a third of its time putting threads to sleep
//! on it and waking them. Beatstream never reads the statistics, so they are turned off.

use std::os::raw::c_int;
use std::sync::Once;

/// Turns SQLite's allocation statistics off, once per process. Must run before SQLite
/// initializes (its first connection); afterwards SQLite refuses the change and it is logged.
pub(crate) fn apply_once() {
    static APPLIED: Once = Once::new();
    APPLIED.call_once(|| {
        if let Err(code) = memory_statistics(false) {
            tracing::warn!(
                code,
                "SQLite was already in use; its allocation statistics stay on"
            );
        }
    });
}

#[allow(unsafe_code)] // The workspace denies unsafe code; this FFI call is an exception.
fn memory_statistics(on: bool) -> Result<(), c_int> {
    // SAFETY: SQLITE_CONFIG_MEMSTATUS takes exactly one int argument, passed here. sqlite3_config
    // is not thread-safe with other SQLite calls; it runs inside a `Once`, before any connection
    // of Beatstream's exists. Called after SQLite has initialized, it changes nothing and
    // returns SQLITE_MISUSE.
    let code = unsafe {
        libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, c_int::from(on))
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(code)
    }
}

#[cfg(test)]
mod tests {
    /// With the statistics off, SQLite counts nothing, however much its connections allocate.
    #[tokio::test]
    async fn sqlite_keeps_no_allocation_statistics() {
        let dir = crate::testing::TempDir::new("beatstream-db");
        let db = crate::Db::open(
            &crate::DbLocation::SqliteFile(dir.path().join("stats.db")),
            "stats",
            2,
        )
        .await
        .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT)")
            .execute(db.pool())
            .await
            .unwrap();
        for _ in 0..50 {
            sqlx::query("INSERT INTO t (v) VALUES ($1)")
                .bind("x".repeat(1000))
                .execute(db.pool())
                .await
                .unwrap();
        }
        #[allow(unsafe_code)]
        // SAFETY: sqlite3_memory_used takes no arguments and only reads a counter.
        let counted = unsafe { libsqlite3_sys::sqlite3_memory_used() };
        assert_eq!(counted, 0, "SQLite counted {counted} bytes in use");
        drop(db);
    }
}
