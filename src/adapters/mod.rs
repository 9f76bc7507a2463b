//! Adapters: one module per outside thing, each implementing a port and hiding its quirks.
//!
//! Tested against the real thing (real tmux on a private socket, real git, real SQLite).

pub mod agents;
pub mod clock;
pub mod files;
pub mod github;
pub mod memory_store;
pub mod messenger;
pub mod notify;
pub mod process;
pub mod setup;
pub mod sqlite;
pub mod tmux;
pub mod worktree;
