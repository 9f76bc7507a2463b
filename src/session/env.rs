//! The environment given to an agent's pane, in layers where later ones win: the project's `env`,
//! the harness's own entries, ao's identity variables, then a pinned `PATH`. Pure.

use std::collections::BTreeMap;
use std::path::Path;

/// The identity variables every pane gets; they always win over project and harness entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityEnv {
    pub session_id: String,
    pub project_id: String,
    pub issue_id: String,
    pub data_dir: String,
    pub socket: String,
    pub launch_id: String,
}

/// Variables that must never reach a pane: they would point tmux clients inside the pane at
/// ao's server.
const NEVER_PASSED: [&str; 2] = ["TMUX", "TMUX_PANE"];

/// Builds the pane environment: project env, then harness env, then identity, then `PATH`.
/// The inputs are not mutated.
pub fn runtime_env(
    project: &BTreeMap<String, String>,
    harness: &BTreeMap<String, String>,
    identity: &IdentityEnv,
    path: &str,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = project
        .iter()
        .chain(harness)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, value) in [
        ("AO_SESSION_ID", &identity.session_id),
        ("AO_PROJECT_ID", &identity.project_id),
        ("AO_ISSUE_ID", &identity.issue_id),
        ("AO_DATA_DIR", &identity.data_dir),
        ("AO_SOCKET", &identity.socket),
        ("AO_RUNTIME_LAUNCH_ID", &identity.launch_id),
    ] {
        env.insert(key.to_owned(), value.clone());
    }
    env.insert("PATH".to_owned(), path.to_owned());
    for key in NEVER_PASSED {
        env.remove(key);
    }
    env
}

/// `PATH` for a pane: the `aoctl` directory first (so hooks reach this daemon's `aoctl`), then
/// the harness binary's directory when it is not already on the base PATH, then the base PATH
/// (the project's `PATH`, else the daemon's). Returns the base unchanged when there is no
/// `aoctl` directory (the caller warns).
pub fn pinned_path(aoctl_dir: Option<&Path>, harness_bin_dir: Option<&Path>, base: &str) -> String {
    let Some(aoctl_dir) = aoctl_dir else {
        return base.to_owned();
    };
    let on_base = |dir: &Path| std::env::split_paths(base).any(|p| p == dir);
    let mut parts: Vec<String> = vec![aoctl_dir.display().to_string()];
    if let Some(bin) = harness_bin_dir.filter(|d| !on_base(d) && *d != aoctl_dir) {
        parts.push(bin.display().to_string());
    }
    if !base.is_empty() {
        parts.push(base.to_owned());
    }
    parts.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> IdentityEnv {
        IdentityEnv {
            session_id: "proj-1".into(),
            project_id: "proj".into(),
            issue_id: "42".into(),
            data_dir: "/d".into(),
            socket: "/s".into(),
            launch_id: "L".into(),
        }
    }

    #[test]
    fn identity_wins_and_tmux_never_passes() {
        let project = BTreeMap::from([
            ("AO_SESSION_ID".to_owned(), "spoof".to_owned()),
            ("BASE".to_owned(), "p".to_owned()),
            ("TMUX".to_owned(), "/tmp/x".to_owned()),
        ]);
        let harness = BTreeMap::from([
            ("BASE".to_owned(), "1".to_owned()),
            ("TMUX_PANE".to_owned(), "%1".to_owned()),
        ]);
        let env = runtime_env(&project, &harness, &identity(), "/usr/bin");
        assert_eq!(env["AO_SESSION_ID"], "proj-1");
        assert_eq!(env["BASE"], "1", "harness beats project");
        assert_eq!(env["AO_ISSUE_ID"], "42");
        assert_eq!(env["AO_RUNTIME_LAUNCH_ID"], "L");
        assert_eq!(env["PATH"], "/usr/bin");
        assert!(!env.contains_key("TMUX") && !env.contains_key("TMUX_PANE"));
        assert_eq!(project["AO_SESSION_ID"], "spoof", "inputs untouched");
    }

    /// M9.
    #[test]
    fn path_pinning() {
        let bin = Path::new("/tmp/t/bin");
        assert_eq!(
            pinned_path(Some(bin), None, "/usr/bin"),
            "/tmp/t/bin:/usr/bin"
        );
        assert_eq!(pinned_path(Some(bin), None, "/opt/x"), "/tmp/t/bin:/opt/x");
        assert_eq!(pinned_path(None, None, "/usr/bin"), "/usr/bin");
        let claude = Path::new("/home/u/.local/bin");
        assert_eq!(
            pinned_path(Some(bin), Some(claude), "/usr/bin"),
            "/tmp/t/bin:/home/u/.local/bin:/usr/bin"
        );
        assert_eq!(
            pinned_path(Some(bin), Some(Path::new("/usr/bin")), "/usr/bin"),
            "/tmp/t/bin:/usr/bin",
            "a harness directory already on PATH is not repeated"
        );
    }
}
