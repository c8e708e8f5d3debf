//! Giving memory back after a burst of work.
//!
//! The `beatstream` binary allocates with mimalloc, which gives freed pages back by itself
//! (crates/server/src/allocator.rs); what C code allocates (SQLite) goes to glibc, and so does
//! everything in programs built without it (the tests). glibc's allocator keeps what was freed
//! in its heaps for reuse. After one-off work that
//! builds large temporary structures (training the recommendation model reads every track of
//! the catalog), a server would hold tens of MB it no longer uses until the next burst. Asking
//! glibc to trim returns the free pages of every heap to the system.

/// Returns the allocator's free memory to the system; does nothing off glibc. It briefly locks
/// each heap in turn: call it after a burst of work, not on a request's path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
// The workspace denies unsafe code; these FFI calls and beatstream-db's sqlite_settings.rs are
// its exceptions.
#[allow(unsafe_code)]
pub fn release_freed() {
    // SAFETY: malloc_trim takes no pointers and has no caller-side invariants; glibc serialises
    // it with every other allocator call.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() {}

/// Bytes the allocator holds in free chunks, when it can tell. A trim gives back the pages of
/// those chunks but keeps the chunks, so the count stays up after one: what it tells is how
/// much was freed since it was last lower.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // As above: a call into glibc without pointers.
pub fn held_freed() -> Option<usize> {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct by value.
    let info = unsafe { libc::mallinfo2() };
    Some(info.fordblks)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn held_freed() -> Option<usize> {
    None
}

/// This process's resident memory in bytes (`VmRSS`), where `/proc` tells.
pub fn resident() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
