//! Adapters: one module per outside thing, each implementing a port and hiding its quirks.
//!
//! Tested against the real thing (real tmux on a private socket, real git, real SQLite).

pub mod memory_store;
pub mod process;
pub mod sqlite;
