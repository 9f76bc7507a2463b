//! `ao-core`: the pure core of the agent orchestrator.
//!
//! - [`domain`]: identities, the lifecycle's enumerations with their one wire spelling, the
//!   session record, and the display status derived from it;
//! - [`decide`]: the decision functions of the lifecycle (probe verdicts, the PR ladder, the
//!   `detecting` quarantine, the reaction table, the hook gate, SCM normalisation);
//! - [`tmux`]: ao's tmux session names, exact targets, socket setting and attach command;
//! - [`text`]: pane output without the terminal's control codes;
//! - [`input_line`]: what an agent's input line holds (empty, a draft, unrecognised), from a screen;
//! - [`why`]: the evidence behind a session's status, as the report `aoctl why` shows.
//!
//! Nothing here does I/O, reads a clock, spawns, logs or needs an async runtime: time and facts
//! come in as arguments, so every function is total, deterministic and table-tested. The crate's
//! dependencies (serde, chrono, regex, sha2) keep it that way: breaking the rule does not compile.

pub mod decide;
pub mod domain;
pub mod input_line;
pub mod text;
pub mod tmux;
pub mod why;

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
