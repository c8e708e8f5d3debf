//! Giving memory back after a burst of work.
//!
//! glibc's allocator keeps what was freed in its heaps for reuse. After one-off work that
//! builds large temporary structures (training the recommendation model reads every track of
//! the catalog), a server would hold tens of MB it no longer uses until the next burst. Asking
//! glibc to trim returns the free pages of every heap to the system.

/// Returns the allocator's free memory to the system; does nothing off glibc. It briefly locks
/// each heap in turn: call it after a burst of work, not on a request's path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // The workspace denies unsafe code; this FFI call is its one exception.
pub fn release_freed() {
    // SAFETY: malloc_trim takes no pointers and has no caller-side invariants; glibc serialises
    // it with every other allocator call.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() {}
