//! Helpers for the end-to-end tests that run the real, pinned agent CLIs (`claude`, `codex`)
//! under ao against loopback mock APIs: finding the binaries `.ci/run` installed, and reading
//! the argv of the processes inside a session's pane.
#![allow(dead_code)] // each test binary uses a different subset

pub mod mock_api;

use std::path::{Path, PathBuf};

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
            Path::new(env!("CARGO_MANIFEST_DIR"))
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

/// The command lines (argv joined by spaces) of `root` and every process below it.
pub fn process_tree(root: u32) -> Vec<String> {
    let mut parents: Vec<(u32, u32)> = vec![];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.iter()
        .filter_map(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).ok())
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
