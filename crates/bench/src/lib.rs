//! Benchmark tools for Beatstream. `gen-library` writes a large, realistically tagged library
//! of tiny MP3 and FLAC files; `search-bench` builds a generated million-track search index and
//! measures how fast changes become searchable (see `docs/benchmarks.md` for how they are used).
//!
//! This crate owns no data, emits no events and is not part of the server.
