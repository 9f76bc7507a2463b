//! `ao-testkit`: everything ao's tests share, in one dev-only crate.
//!
//! - [`fakes`]: the in-memory fakes of the ports (`MemoryStore`, `Harness`, `FakeRuntime`, …),
//!   [`fixtures`]: records and times in the scenario notation, and [`store_contract`]: the
//!   behaviour every store backend must show (all three live in `ao` and `ao-core` behind their
//!   test features, because those crates' own unit tests use them; re-exported here);
//! - [`env`]: a real `aod` on temp directories with its own private tmux server, and `aoctl`
//!   run against it; [`bin`]: the workspace's binaries, freshly built;
//! - [`git`]: a git repository with a bare `origin`; [`files`]: directory digests and frozen
//!   directories; [`procfs`]: the process table as `/proc` shows it;
//! - [`http`]: the one loopback HTTP mock server, and on it [`github`] (a fake GitHub) and
//!   [`model_api`] (the Anthropic Messages and OpenAI Responses streams the real agent CLIs
//!   read); [`real_agents`]: finding those pinned CLIs.
//!
//! Architecture invariant: this crate never depends on `ao-adapters`. The adapters' unit tests
//! use it, and a kit linking `ao-adapters` would hand them a second, incompatible copy of its
//! types.

pub mod env;
pub mod files;
pub mod git;
pub mod github;
pub mod http;
pub mod model_api;
pub mod procfs;
pub mod real_agents;

mod binaries;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use ao::fixtures;
pub use ao::ports::store_contract;
pub use ao::testing as fakes;

pub use binaries::bin;
pub use env::{FAST_CONFIG, SLOW, TestEnv, assert_error};
pub use git::{GitRepo, git};

/// The workspace's root directory (the parent of this crate's).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the test kit lives in the workspace root")
}

/// Polls `check` until it returns `Ok`, or panics after `timeout` with `what` and the last
/// value seen.
pub fn wait_for<T, F>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Result<T, String>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last seen: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Bytes as text, invalid UTF-8 replaced.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
