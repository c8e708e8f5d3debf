//! glibc's allocator keeps one heap ("arena") per thread that allocates, up to eight per core,
//! and keeps what was freed in each. After a burst of work on many threads (the search index's
//! rebuild on a first start), a server then holds hundreds of MB it no longer uses: 347 MB
//! against 164 MB with four arenas and 119 MB with two (`scripts/bench-first-start.sh`,
//! docs/benchmarks.md). Two arenas cost streaming a third of its throughput (the file reads run
//! on many blocking threads); four cost nothing measurable. The limit can only be set before
//! the allocator starts, by the environment, so `serve` starts itself again with
//! `MALLOC_ARENA_MAX=4` unless the variable is set already (set it to choose another limit).
//! After the bursts themselves (a scan, a search rebuild, a recommendation training) the
//! services also hand freed memory back (`beatstream_core::memory::release_freed`).

/// The arena limit `serve` runs with unless told otherwise.
const ARENAS: &str = "4";

/// On glibc, runs this same program again with `MALLOC_ARENA_MAX` set, replacing this process;
/// returns only when that is not needed or not possible.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("MALLOC_ARENA_MAX", ARENAS)
            .exec();
        // Only reached when the exec failed: carry on with glibc's default.
        eprintln!("beatstream: could not restart with MALLOC_ARENA_MAX={ARENAS}: {error}");
    }
}
