//! `ao-adapters`: one module per outside thing (tmux, git worktrees, the agent CLIs, SQLite,
//! GitHub, the notification sinks, processes, the clock), each implementing a port of `ao` and
//! hiding its quirks.
//!
//! Orchestration in `ao` cannot name anything here (this crate depends on `ao`, never the other
//! way), so it reaches the world only through the ports; `aod` wires these into it. Tested
//! against the real thing (real tmux on a private socket, real git, real SQLite).

pub mod agents;
pub mod clock;
pub mod files;
pub mod github;
pub mod messenger;
pub mod notify;
pub mod process;
pub mod setup;
pub mod sqlite;
pub mod tmux;
pub mod worktree;
