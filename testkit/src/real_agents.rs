//! Finding the real, pinned agent CLIs (`claude`, `codex`) the agent end-to-end tests run under
//! ao against the mock model APIs of [`crate::model_api`].

use std::path::PathBuf;

/// Set to `1` to skip the real-agent tests on a machine without the pinned CLIs (CI always
/// has them: `.ci/run` installs them).
pub const OPT_OUT: &str = "AO_TEST_SKIP_REAL_AGENTS";

/// The pinned CLI: `$<env_var>`, else `.ci/cache/node/node_modules/.bin/<name>` (where
/// `.ci/run` installs it). `None` only when the opt-out is set; otherwise a missing binary
/// fails the test with instructions.
pub fn agent_binary(name: &str, env_var: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env_var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::workspace_root()
                .join(".ci/cache/node/node_modules/.bin")
                .join(name)
        });
    if path.is_file() {
        return Some(path);
    }
    if std::env::var(OPT_OUT).is_ok_and(|v| v == "1") {
        eprintln!(
            "skipping: {name} not found at {} and {OPT_OUT}=1",
            path.display()
        );
        return None;
    }
    panic!(
        "the pinned {name} CLI is not installed at {} (run .ci/run, or `npm install --prefix \
         .ci/cache/node --no-audit --no-fund` with the versions .ci/run pins; set {env_var} to \
         use another binary, or {OPT_OUT}=1 to skip the real-agent tests)",
        path.display()
    );
}
