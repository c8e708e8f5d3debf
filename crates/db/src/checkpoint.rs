//! WAL checkpoints off the write path (SQLite).
//!
//! SQLite checkpoints on its own inside the COMMIT that takes the WAL past 1,000 pages: that
//! commit copies the WAL's pages into the database file and syncs both files before it returns,
//! while this process's write turn is still held, so every writer queued behind it waits.
//! Measured under 64 connections adding tracks to playlists: a checkpoint every 0.4 s held the
//! turn for about 30 ms (two syncs of 10 to 13 ms and 3 ms), and those waits were the p99.
//!
//! So every connection turns the automatic checkpoint off, and a task per database checkpoints
//! in the background instead, PASSIVE, which blocks neither writers nor readers. Under unbroken
//! writes a passive checkpoint never finds the whole WAL copied with no writer adding to it, so
//! the WAL would not start over and would grow: when it passes [`RESTART_FRAMES`], the task
//! copies what is left inside the write turn (little, right after a passive round) and the next
//! writer starts the WAL from its beginning. That last checkpoint syncs the database file,
//! which passive rounds that stop short of the WAL's end do not; the task syncs it just before
//! taking the turn, so that the turn waits only for the few pages written since. It syncs
//! through one descriptor per database file, opened once and never closed: closing any
//! descriptor of a file drops every POSIX lock the process holds on it, SQLite's included, and
//! another process could then delete the WAL under this one.
//!
//! A round runs only if the WAL file changed (its length or modification time) since the last
//! one, so an idle database costs nothing: no query, only a `stat` every [`INTERVAL`]. Once
//! writes have stopped for [`QUIET_ROUNDS`] rounds, the task copies what it can and syncs the
//! database file, then copies the rest of the WAL and empties the file (`TRUNCATE`), in the
//! write turn, without waiting for readers: a reader holding an old snapshot makes it give up
//! until the next round. An idle database thus keeps everything in its main file, and the
//! WAL's disk space (up to about [`RESTART_FRAMES`] pages, 64 MiB, after unbroken writes) is
//! given back. Should the task stop (its runtime gone while a connection lives on), SQLite's
//! own checkpoint still runs, at [`BACKSTOP_FRAMES`].

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use sqlx::{AnyPool, Executor, Row};
use tokio::task::AbortHandle;

/// How often the background checkpoint looks at the WAL.
const INTERVAL: Duration = Duration::from_millis(500);

/// Rounds without a write after which the WAL is emptied: 5 s.
#[cfg(not(test))]
const QUIET_ROUNDS: u32 = 10;
#[cfg(test)]
const QUIET_ROUNDS: u32 = 4;

/// WAL pages past which the rest is copied in the write turn, so that the WAL starts over.
#[cfg(not(test))]
pub(crate) const RESTART_FRAMES: i64 = 16_384;
#[cfg(test)]
pub(crate) const RESTART_FRAMES: i64 = 64;

/// WAL pages at which a commit checkpoints after all, as SQLite does by default at 1,000: far
/// past [`RESTART_FRAMES`], so only if the task has stopped.
#[cfg(not(test))]
const BACKSTOP_FRAMES: i64 = 4 * RESTART_FRAMES;
/// Out of the tests' reach, so that they see the task's work alone.
#[cfg(test)]
const BACKSTOP_FRAMES: i64 = 1_000_000;

/// The pragma every SQLite connection runs: the automatic checkpoint only as a backstop. (No
/// `journal_size_limit`: it makes the writer that starts the WAL over truncate the file, in the
/// write turn.)
pub(crate) fn automatic_checkpoint_pragma() -> String {
    format!("PRAGMA wal_autocheckpoint = {BACKSTOP_FRAMES}")
}

/// The checkpoint task of one database; it stops when the last clone of its `Db` is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    task: AbortHandle,
    /// Rounds that ran a checkpoint (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    rounds: Arc<AtomicU64>,
}

impl Checkpointer {
    /// How many rounds have run a checkpoint so far.
    #[cfg(test)]
    pub(crate) fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the WAL file looked like: its length and when it was last written; `None` if it is
/// not there.
type WalState = Option<(u64, SystemTime)>;

fn wal_state(wal: &Path) -> WalState {
    let meta = std::fs::metadata(wal).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// What a round does.
enum Action {
    Nothing,
    /// The WAL changed: copy what can be copied (and start it over if it grew too long).
    Checkpoint,
    /// No write for [`QUIET_ROUNDS`] rounds: copy the rest and empty the WAL.
    Empty,
}

/// Follows the WAL from round to round.
struct Watch {
    /// The WAL as the last round found it (while it has not been emptied).
    seen: WalState,
    /// Rounds since it last changed; `None` once it has been emptied after the last write.
    quiet: Option<u32>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            seen: None,
            quiet: Some(0),
        }
    }
}

impl Watch {
    /// What to do, given the WAL as it is before the round. (A checkpoint does not write the
    /// WAL, so a write during the round shows at the next one.)
    fn next(&mut self, now: WalState) -> Action {
        let changed = match self.quiet {
            // An emptied WAL is 0 bytes long: anything else is a write since, even one that
            // came as the emptying ended.
            None => now.is_some_and(|(length, _)| length > 0),
            Some(_) => now != self.seen,
        };
        self.seen = now;
        if changed {
            self.quiet = Some(0);
            return Action::Checkpoint;
        }
        match self.quiet {
            None => Action::Nothing,
            Some(n) if n + 1 < QUIET_ROUNDS => {
                self.quiet = Some(n + 1);
                Action::Nothing
            }
            Some(_) => Action::Empty,
        }
    }

    /// After [`Action::Empty`]: done, or (a reader held an old snapshot) again next round.
    fn emptied(&mut self, done: bool) {
        if done {
            self.quiet = None;
        }
    }
}

/// Starts checkpointing `pool` in the background (on the current tokio runtime).
pub(crate) fn start(
    pool: AnyPool,
    write_queue: Arc<tokio::sync::Mutex<()>>,
    path: PathBuf,
    service: String,
) -> Checkpointer {
    let file = match descriptor(&path) {
        Ok(file) => Some(file),
        Err(e) => {
            let path = path.display().to_string();
            tracing::warn!(service, path, error = %e, "cannot open the database file to sync it; the WAL's restarts will take longer");
            None
        }
    };
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let rounds = Arc::new(AtomicU64::new(0));
    let counted = rounds.clone();
    let task = tokio::spawn(async move {
        let mut every = tokio::time::interval(INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watch = Watch::default();
        loop {
            every.tick().await;
            if pool.is_closed() {
                return;
            }
            let result = match watch.next(wal_state(&wal)) {
                Action::Nothing => continue,
                Action::Checkpoint => round(&pool, &write_queue, file.as_ref()).await,
                Action::Empty => truncate(&pool, &write_queue, file.as_ref())
                    .await
                    .map(|emptied| watch.emptied(emptied)),
            };
            counted.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = result {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(service, error = %e, "WAL checkpoint failed; trying again");
            }
        }
    });
    Checkpointer {
        task: task.abort_handle(),
        rounds,
    }
}

/// One round: a passive checkpoint, then, if the WAL has grown past [`RESTART_FRAMES`], another
/// in the write turn, where no writer adds to the WAL while it is copied.
async fn round(
    pool: &AnyPool,
    write_queue: &tokio::sync::Mutex<()>,
    file: Option<&Arc<File>>,
) -> Result<(), sqlx::Error> {
    let frames = passive(pool).await?;
    if frames >= RESTART_FRAMES {
        if let Some(file) = file {
            sync(file.clone()).await?;
        }
        let _turn = write_queue.lock().await;
        passive(pool).await?;
    }
    Ok(())
}

/// Copies the rest of the WAL into the database file and empties the WAL, in the write turn
/// (so no writer of this process waits in SQLite's busy handler meanwhile), without waiting for
/// readers. Returns false if a reader's snapshot kept it from finishing.
async fn truncate(
    pool: &AnyPool,
    write_queue: &tokio::sync::Mutex<()>,
    file: Option<&Arc<File>>,
) -> Result<bool, sqlx::Error> {
    // Copy and sync what can be outside the turn (a reader may have held back the last
    // round), so that the turn waits only for what is left.
    passive(pool).await?;
    if let Some(file) = file {
        sync(file.clone()).await?;
    }
    // The turn before the connection, as every writer takes them.
    let _turn = write_queue.lock().await;
    let mut conn = pool.acquire().await?;
    conn.execute("PRAGMA busy_timeout = 0").await?;
    let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await;
    let restored = conn
        .execute(format!("PRAGMA busy_timeout = {}", crate::BUSY_TIMEOUT_MS).as_str())
        .await;
    if restored.is_err() {
        // Never lend out a connection that gives up at once when the database is busy.
        drop(conn.detach());
    }
    let blocked: i64 = checkpoint?.try_get(0)?;
    restored?;
    Ok(blocked == 0)
}

/// The process's one descriptor of the database file at `path`, for syncing it (any
/// descriptor of a file syncs all of its written pages). Never closed: see the module's
/// documentation.
fn descriptor(path: &std::path::Path) -> std::io::Result<Arc<File>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Arc<File>>>> = OnceLock::new();
    let mut open = OPEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let key = std::fs::canonicalize(path)?;
    if let Some(file) = open.get(&key) {
        return Ok(file.clone());
    }
    let file = Arc::new(File::open(&key)?);
    open.insert(key, file.clone());
    Ok(file)
}

/// Syncs the database file.
async fn sync(file: Arc<File>) -> Result<(), sqlx::Error> {
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(std::io::Error::other)?
        .map_err(sqlx::Error::Io)
}

/// Copies what it can of the WAL into the database file; returns the WAL's length in pages.
async fn passive(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    row.try_get(1)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use crate::testing::TempDir;
    use crate::{Db, DbLocation};

    const ROW: usize = 4_000;

    /// A database with one table, in a folder removed when the returned `TempDir` drops.
    async fn open(name: &str) -> (Db, PathBuf, TempDir) {
        let dir = TempDir::new("beatstream-db");
        let path = dir.path().join(format!("{name}.db"));
        let db = Db::open(&DbLocation::SqliteFile(path.clone()), name, 4)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL)")
            .execute(db.pool())
            .await
            .unwrap();
        (db, path, dir)
    }

    /// Writes one row of [`ROW`] bytes, a page of the WAL, in the write turn.
    async fn write_row(db: &Db) {
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("INSERT INTO t (v) VALUES ($1)")
            .bind("x".repeat(ROW))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    fn wal(path: &Path) -> PathBuf {
        PathBuf::from(format!("{}-wal", path.display()))
    }

    /// Commits leave the WAL as it is; the background task copies it into the database file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_reaches_the_database_file_in_the_background() {
        let (db, path, _dir) = open("background").await;
        let automatic: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(
            automatic,
            super::BACKSTOP_FRAMES,
            "connections checkpoint on commit only as a backstop"
        );
        let before = size(&path);
        for _ in 0..300 {
            write_row(&db).await;
        }
        let written = 300 * ROW as u64;
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while size(&path) < before + written && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            size(&path) >= before + written,
            "the database file holds {} bytes, {} expected after the checkpoint",
            size(&path),
            before + written
        );
    }

    fn checkpointer(db: &Db) -> &super::Checkpointer {
        &db.sqlite.as_ref().expect("a SQLite database")._checkpointer
    }

    /// Waits up to 20 s for `done`; fails with `what` if it does not come.
    async fn wait_until(done: impl Fn() -> bool, what: &str) {
        wait_within(std::time::Duration::from_secs(20), done, what).await;
    }

    async fn wait_within(limit: std::time::Duration, done: impl Fn() -> bool, what: &str) {
        let deadline = Instant::now() + limit;
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn rows(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap()
    }

    /// Once writes stop, the WAL is copied into the database file and emptied. Then the idle
    /// database is left alone, until the next write.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn once_writes_stop_the_wal_is_emptied_and_then_left_alone() {
        let (db, path, _dir) = open("quiet").await;
        for _ in 0..50 {
            write_row(&db).await;
        }
        assert!(size(&wal(&path)) > 0, "the writes went to the WAL");
        wait_until(|| size(&wal(&path)) == 0, "the WAL is emptied").await;
        assert!(
            size(&path) >= 50 * ROW as u64,
            "the database file holds the rows"
        );
        assert_eq!(rows(&db).await, 50, "every row is kept");

        // The emptying round counts itself just after the WAL is seen empty.
        tokio::time::sleep(super::INTERVAL).await;
        let rounds = checkpointer(&db).rounds();
        tokio::time::sleep(super::INTERVAL * (super::QUIET_ROUNDS + 2)).await;
        assert_eq!(
            checkpointer(&db).rounds(),
            rounds,
            "no checkpoint runs while nothing is written"
        );
        write_row(&db).await;
        wait_until(
            || checkpointer(&db).rounds() > rounds,
            "a write wakes the checkpoints",
        )
        .await;
        wait_until(|| size(&wal(&path)) == 0, "the WAL is emptied again").await;
        assert_eq!(rows(&db).await, 51);
    }

    /// A reader holding a snapshot that the WAL still serves keeps the WAL from being emptied,
    /// without holding up writers; once it ends, the WAL is emptied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_holding_a_snapshot_delays_the_emptying_and_holds_up_no_writer() {
        let (db, path, _dir) = open("reader").await;
        write_row(&db).await;
        let mut reader = db.pool().begin().await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *reader)
            .await
            .unwrap();
        assert_eq!(seen, 1);
        for _ in 0..20 {
            write_row(&db).await;
        }
        let rounds = checkpointer(&db).rounds();
        // One round after the writes, then tries at emptying the WAL from 2 s on, one a round.
        // Were a try to wait for the reader (the busy timeout, 5 s) in the write turn, the
        // second would end after 7 s at the earliest, and writers would wait with it.
        wait_within(
            std::time::Duration::from_secs(8),
            || checkpointer(&db).rounds() >= rounds + 3,
            "each try gives up at once, and the next round tries again",
        )
        .await;
        assert!(
            size(&wal(&path)) > 0,
            "the WAL is kept while a reader's snapshot needs it"
        );
        tokio::time::timeout(std::time::Duration::from_secs(2), write_row(&db))
            .await
            .expect("a write is not held up by the checkpoint");
        reader.rollback().await.unwrap();
        wait_until(|| size(&wal(&path)) == 0, "the WAL is emptied").await;
        assert_eq!(rows(&db).await, 1 + 20 + 1);
    }

    /// The rounds' decisions, from what the WAL looks like before each.
    #[test]
    fn a_write_that_lands_as_the_wal_is_emptied_is_not_taken_for_quiet() {
        use super::{Action, Watch, QUIET_ROUNDS};
        use std::time::{Duration, SystemTime};
        let at = |s| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let written = Some((3 * 4096, at(1).unwrap()));
        let mut watch = Watch::default();
        assert!(matches!(watch.next(written), Action::Checkpoint));
        for _ in 1..QUIET_ROUNDS {
            assert!(matches!(watch.next(written), Action::Nothing));
        }
        assert!(matches!(watch.next(written), Action::Empty));
        // A reader held an old snapshot: try again.
        watch.emptied(false);
        assert!(matches!(watch.next(written), Action::Empty));
        // Emptied, but a writer got in before the task looked at the result.
        let rewritten = Some((4096, at(2).unwrap()));
        watch.emptied(true);
        assert!(
            matches!(watch.next(rewritten), Action::Checkpoint),
            "a WAL that is not empty after the emptying was written since"
        );
        // Emptied with nothing after it: left alone from then on.
        for _ in 0..QUIET_ROUNDS {
            watch.next(rewritten);
        }
        let empty = Some((0, at(3).unwrap()));
        watch.emptied(true);
        for _ in 0..(2 * QUIET_ROUNDS) {
            assert!(matches!(watch.next(empty), Action::Nothing));
        }
    }

    /// The WAL header's first salt, which SQLite adds one to each time the WAL starts over.
    fn restarts(path: &Path) -> u32 {
        let header = std::fs::read(wal(path)).unwrap_or_default();
        header
            .get(16..20)
            .map_or(0, |salt| u32::from_be_bytes(salt.try_into().unwrap()))
    }

    /// Under writes that never pause, the WAL still starts over, again and again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_unbroken_writes_the_wal_starts_over() {
        let (db, path, _dir) = open("unbroken").await;
        write_row(&db).await;
        let first = restarts(&path);
        let started = Instant::now();
        let mut rows = 1u64;
        // Long enough for several checkpoint rounds (each may wait for the disk).
        while rows < 2_000 || started.elapsed() < 10 * super::INTERVAL {
            write_row(&db).await;
            rows += 1;
        }
        let through = rows * ROW as u64;
        let longest = size(&wal(&path));
        let restarted = restarts(&path).wrapping_sub(first);
        assert!(
            restarted >= 2,
            "the WAL started over {restarted} times in {:?}",
            started.elapsed()
        );
        assert!(
            longest < through,
            "the WAL is {longest} bytes after {through} bytes went through it"
        );
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count as u64, rows, "every row is kept");
    }
}
