//! Memory allocation in the `beatstream` binary.
//!
//! Everything Rust allocates goes to mimalloc (the binary's `#[global_allocator]`). glibc's
//! allocator, with its heaps shared by threads behind locks, made a playlist add cost 250 µs of
//! CPU on a 2-core machine, 40% of it in malloc and free, and the threads waited on each other
//! (futex calls: 100 µs of system time per add); with mimalloc the same add costs 100 to 120
//! µs in all (docs/benchmarks.md).
//!
//! mimalloc keeps memory of its own unless told otherwise: by default it commits its arena
//! eagerly (backed by huge pages on a machine with transparent huge pages) and gives freed
//! memory back after a delay. Serving the 50,000-track benchmark then held 170 to 240 MB. So
//! the program starts itself again with `MIMALLOC_ARENA_EAGER_COMMIT=0` and
//! `MIMALLOC_PURGE_DELAY=0` (freed pages go back at once): 96 MB loaded and 137 MB after the
//! runs. (Those after-the-runs figures, with either setting, still held a leak of the metrics
//! recorder, fixed since: crates/gateway/src/metrics.rs. The settings were not measured again
//! without it.) mimalloc reads its options when the process starts, hence the restart.
//!
//! What C code allocates (SQLite, mostly) still goes to glibc, whose heaps are limited to four
//! (`MALLOC_ARENA_MAX=4`): with glibc's default of eight per core, a burst of work on many
//! threads left a server holding hundreds of MB (`scripts/bench-first-start.sh`). The services
//! also ask glibc to hand freed memory back after their bursts
//! (`beatstream_core::memory::release_freed`).
//!
//! A variable already set is kept, so each can be chosen otherwise from the environment.

/// The environment the commands that do heavy work (`serve`, `scan`) run with, unless set.
const SETTINGS: [(&str, &str); 3] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MALLOC_ARENA_MAX", "4"),
];

/// Runs this same program again with [`SETTINGS`] in its environment, replacing this process;
/// returns only when they are all set already or the restart failed.
pub fn settle_allocators() {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let missing: Vec<_> = SETTINGS
            .iter()
            .filter(|(name, _)| std::env::var_os(name).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut command = std::process::Command::new(exe);
        command.args(std::env::args_os().skip(1));
        for (name, value) in &missing {
            command.env(name, value);
        }
        let error = command.exec();
        // Only reached when the exec failed: carry on with the allocators' defaults.
        eprintln!("beatstream: could not restart with the allocator settings: {error}");
    }
}
