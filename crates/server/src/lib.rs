//! The `beatstream` binary's library half: CLI parsing, logging, wiring the services named by
//! `roles` into one process, and serving. `main.rs` only calls into it; tests build the same
//! app with [`wiring::wire`] and drive it with `oneshot` or over a socket.

pub mod allocator;
pub mod cli;
pub mod logging;
pub mod reindex;
pub mod scan;
pub mod serve;
pub mod wiring;
