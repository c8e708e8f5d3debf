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

/// Bytes the allocator holds freed (in its heaps, not given back), when it can tell.
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

/// Gives freed memory back when the allocator holds more than `threshold` bytes of it; returns
/// the bytes it held. For a periodic check that catches what no single burst accounts for
/// (a large intake of events spread over several services, a busy hour of requests).
pub fn release_freed_above(threshold: usize) -> Option<usize> {
    let held = held_freed()?;
    if held > threshold {
        release_freed();
    }
    Some(held)
}
