//! Benchmark tools for Beatstream. `gen-library` writes a large, realistically tagged library
//! of tiny MP3 and FLAC files; `search-bench` builds a generated million-track search index and
//! measures how fast changes become searchable; `rec-eval` evaluates the recommendation
//! models offline and serving them; `live-bench` measures live-update delays over WebSockets
//! (see `docs/benchmarks.md` for how they are used).
//!
//! This crate owns no data, emits no events and is not part of the server.

/// A `/proc/self/status` field of this process in KiB (`VmRSS`, `VmHWM`), 0 where unreadable.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
