//! `ao`: the core library of the agent orchestrator.
//!
//! A session pairs a git worktree, a tmux session on ao's own tmux server and a coding agent
//! working inside it. This crate holds everything the daemon `aod` runs:
//!
//! - [`domain`]: identities, the spec's enumerations, the session record and the display status
//!   derivation (pure);
//! - [`decide`]: the decision functions of the lifecycle (pure, table-tested);
//! - [`ports`]: the traits through which orchestration reaches the world;
//! - [`lifecycle`]: the Lifecycle Manager, the only writer of session records;
//! - [`reaction_dispatch`] and [`messages`]: ordered per-session reaction dispatch and guarded pane
//!   writes;
//! - [`scm_observer`]: the SCM observer, polling the code host for each session's pull request;
//! - [`backoff`]: how every background loop retries and logs a failure that repeats.
//!
//! See `ARCHITECTURE.md` at the repository root for the code map and the invariants.

pub mod backoff;
pub mod lifecycle;
pub mod messages;
pub mod ports;
pub mod reaction_dispatch;
pub mod reaper;
pub mod scm_observer;
pub mod service;
pub mod session;
pub mod terminal_observer;
pub mod upkeep;
mod workers;

pub use ao_core::{decide, domain, why};

#[cfg(any(test, feature = "testkit"))]
pub use ao_core::fixtures;
#[cfg(any(test, feature = "testkit"))]
pub mod testing;
