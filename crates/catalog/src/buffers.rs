//! Read buffers used again: the bytes of an answer read from the page cache go out in a buffer
//! that comes back here when the response body lets go of it.
//!
//! A fresh buffer per answer costs its zeroing, and on glibc freeing a chunk of 64 KiB or more
//! also merges the allocator's free lists: together 5% of a 64 KiB range request's CPU
//! (docs/benchmarks.md). At most [`KEPT_BYTES`] wait here. Linux only, as the reads from the
//! page cache that use them.

use std::sync::Mutex;

/// Bytes of idle buffers kept at most; past it a buffer given back is freed.
const KEPT_BYTES: usize = 4 * 1024 * 1024;

struct Idle {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

static IDLE: Mutex<Idle> = Mutex::new(Idle {
    buffers: Vec::new(),
    bytes: 0,
});

/// A buffer of at least `len` initialized bytes (an idle one when there is one).
pub fn take(len: usize) -> Vec<u8> {
    let reused = {
        let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
        let buffer = idle.buffers.pop();
        if let Some(buffer) = &buffer {
            idle.bytes -= buffer.capacity();
        }
        buffer
    };
    let mut buffer = reused.unwrap_or_default();
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
    buffer
}

/// Keeps `buffer` for a later [`take`], unless the idle ones fill their share already.
pub fn give_back(buffer: Vec<u8>) {
    let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
    if idle.bytes + buffer.capacity() <= KEPT_BYTES {
        idle.bytes += buffer.capacity();
        idle.buffers.push(buffer);
    }
}

/// `buffer[..len]` as the bytes of a body; the buffer comes back when they are dropped.
pub fn into_bytes(buffer: Vec<u8>, len: usize) -> bytes::Bytes {
    bytes::Bytes::from_owner(Filled { buffer, len })
}

struct Filled {
    buffer: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for Filled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

impl Drop for Filled {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_when_its_bytes_are_dropped_and_shows_only_what_was_filled() {
        let mut buffer = take(1000);
        assert!(buffer.len() >= 1000);
        buffer[..3].copy_from_slice(b"abc");
        let marker = buffer.as_ptr();
        let bytes = into_bytes(buffer, 3);
        assert_eq!(&bytes[..], b"abc");
        let clone = bytes.clone();
        drop(bytes);
        assert_eq!(&clone[..], b"abc", "a clone keeps the buffer alive");
        drop(clone);
        // Other tests may take buffers meanwhile: look for this one among the idle ones.
        let idle = IDLE.lock().unwrap();
        assert!(idle.buffers.iter().any(|b| b.as_ptr() == marker));
        assert_eq!(
            idle.bytes,
            idle.buffers.iter().map(Vec::capacity).sum::<usize>()
        );
    }
}
