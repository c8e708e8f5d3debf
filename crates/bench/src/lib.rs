//! Benchmark tools for Beatstream. `gen-library` writes a large, realistically tagged library
//! of tiny MP3 and FLAC files (see `docs/benchmarks.md` for how it is used).
//!
//! This crate owns no data, emits no events and is not part of the server.
