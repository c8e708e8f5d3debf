//! Where work runs in `beatstream serve`, besides the request runtime.
//!
//! - **Background** ([`spawn_background`]): what follows a change rather than answering it:
//!   consumers taking in events, the search indexer, model training, live-message fan-out. Its
//!   threads run at a higher nice value than the request threads. With cores to spare this
//!   changes nothing; when requests keep every core busy, the kernel gives them the CPU first
//!   and the background work catches up after, in larger batches (its input waits in the bus
//!   or the outbox, durably). Work that holds a lock requests wait on (a service database's
//!   write turn on the request path, such as the outbox relay's deletes) does not belong here.
//! - **Write turns** ([`spawn_write_turn`]): a thread of its own for tasks that hold a SQLite
//!   write turn many requests are queued behind (the playlists service's batched appends).
//!   Each statement of such a transaction is a trip to SQLite's thread and back; on the shared
//!   request threads every trip back waited behind the requests' tasks, and so did every add
//!   queued for the turn.
//!
//! [`start`] starts both; without it (tests, `beatstream scan`) tasks run on the current
//! runtime.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// The background runtime's threads.
pub const BACKGROUND_THREADS: usize = 2;
/// Their nice value (Linux; 0 is the default, 19 the lowest priority). At 10 a busy thread
/// gets about a tenth of what a request thread gets when both want a core; at 19 (a
/// fiftieth) a background task holding a lock a request needs could keep it waiting longer.
pub const BACKGROUND_NICE: i32 = 10;

static BACKGROUND: OnceLock<Runtime> = OnceLock::new();
static WRITE_TURNS: OnceLock<Runtime> = OnceLock::new();

/// Starts the background and write-turn runtimes. Later calls do nothing.
pub fn start() -> std::io::Result<()> {
    start_once(
        &BACKGROUND,
        BACKGROUND_THREADS,
        "background",
        BACKGROUND_NICE,
    )?;
    start_once(&WRITE_TURNS, 1, "write-turns", 0)
}

/// Builds `runtime` unless it is built: `threads` workers named `name`, at `nice` (0 leaves
/// the priority as it is).
fn start_once(
    runtime: &OnceLock<Runtime>,
    threads: usize,
    name: &str,
    nice: i32,
) -> std::io::Result<()> {
    if runtime.get().is_some() {
        return Ok(());
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(threads)
        .thread_name(name)
        .enable_all();
    if nice != 0 {
        builder.on_thread_start(move || lower_priority(nice));
    }
    let _ = runtime.set(builder.build()?);
    Ok(())
}

/// Spawns `task` on the background runtime (see the module's documentation).
pub fn spawn_background<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on(&BACKGROUND, task)
}

/// Spawns `task` on the write-turn thread (see the module's documentation).
pub fn spawn_write_turn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on(&WRITE_TURNS, task)
}

fn spawn_on<F>(runtime: &OnceLock<Runtime>, task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match runtime.get() {
        Some(runtime) => runtime.spawn(task),
        None => tokio::spawn(task),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // A syscall without pointers; memory.rs has the crate's other exceptions.
fn lower_priority(nice: i32) {
    // SAFETY: setpriority takes no pointers. On Linux the nice value is per thread, and
    // PRIO_PROCESS with 0 names the calling thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if result != 0 {
        let error = std::io::Error::last_os_error();
        tracing::warn!(%error, "background threads run at the requests' priority");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's name and nice value, from /proc.
    #[cfg(target_os = "linux")]
    fn this_thread() -> (String, i32) {
        let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command's closing parenthesis; nice is the 19th field of the line.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let nice = after.split(' ').nth(16).unwrap().parse().unwrap();
        (comm.trim().to_string(), nice)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn background_work_runs_on_lower_priority_threads_and_write_turns_on_their_own() {
        let (_, request_nice) = this_thread();
        start().unwrap();
        let (name, nice) = spawn_background(async { this_thread() }).await.unwrap();
        assert_eq!(name, "background");
        assert_eq!(nice, BACKGROUND_NICE.max(request_nice));
        let (name, nice) = spawn_write_turn(async { this_thread() }).await.unwrap();
        assert_eq!(name, "write-turns");
        assert_eq!(nice, request_nice);
        // What background tasks spawn blocking inherits the priority too.
        let (name, nice) =
            spawn_background(async { tokio::task::spawn_blocking(this_thread).await.unwrap() })
                .await
                .unwrap();
        assert_eq!(name, "background");
        assert_eq!(nice, BACKGROUND_NICE.max(request_nice));
    }
}
