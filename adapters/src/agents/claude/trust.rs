//! Claude Code's folder trust (the harness's `pre_launch`): marks a worktree trusted in the user's
//! Claude config file (`~/.claude.json`, or `$CLAUDE_CONFIG_DIR/.claude.json`) so a new worktree
//! never stops at the trust prompt.
//!
//! That file belongs to Claude Code and holds much more than trust (accounts, history, every
//! project), so the write keeps every other key, is atomic (temp file, fsync, rename, mode
//! kept), and is serialised against other writers: an exclusive `flock` on a `.lock` file
//! beside it (other processes, including other daemons) plus a process-wide mutex (threads of
//! this one: `flock` locks belong to open file descriptions, so two threads opening the lock
//! file separately would still exclude each other, but the mutex keeps the order obvious).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::fcntl::{Flock, FlockArg};
use serde_json::{Map, Value};

use crate::files::write_atomically;
use ao::ports::AgentError;

/// Serialises this process's writers.
static WRITERS: Mutex<()> = Mutex::new(());

/// The Claude config file: `<config dir>/.claude.json` when `CLAUDE_CONFIG_DIR` is set, else
/// `<home>/.claude.json`.
pub fn config_file(home: Option<&Path>, config_dir: Option<&Path>) -> Option<PathBuf> {
    config_dir.or(home).map(|dir| dir.join(".claude.json"))
}

/// Sets `projects[<workspace>].hasTrustDialogAccepted = true` in `file`. Returns whether the
/// file was written (false when it already said so).
pub fn trust_workspace(file: &Path, workspace: &Path) -> Result<bool, AgentError> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        AgentError::PreLaunch(format!("{what} {}: {e}", file.display()))
    };
    let _in_process = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err("creating the directory of", &e))?;
    }
    let lock_path = PathBuf::from(format!("{}.lock", file.display()));
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| err("opening the lock beside", &e))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| err("locking the lock beside", &e))?;

    let mut config = match std::fs::read_to_string(file) {
        Ok(text) if text.trim().is_empty() => Map::new(),
        Ok(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(err(
                    "unexpected content (not a JSON object) in",
                    &"refusing to overwrite",
                ));
            }
            Err(e) => return Err(err("invalid JSON in", &e)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => return Err(err("reading", &e)),
    };
    let key = workspace.display().to_string();
    let projects = config
        .entry("projects")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(projects) = projects else {
        return Err(err(
            "\"projects\" is not an object in",
            &"refusing to overwrite",
        ));
    };
    let project = projects
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(project) = project else {
        return Err(err(
            "a project entry is not an object in",
            &"refusing to overwrite",
        ));
    };
    if project.get("hasTrustDialogAccepted") == Some(&Value::Bool(true)) {
        return Ok(false);
    }
    project.insert("hasTrustDialogAccepted".to_owned(), Value::Bool(true));
    let mut text = serde_json::to_string_pretty(&config).map_err(|e| err("encoding", &e))?;
    text.push('\n');
    write_atomically(file, text.as_bytes(), 0o600).map_err(|e| err("writing", &e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use serde_json::json;

    use super::*;

    fn read(file: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
    }

    /// Q6 (trust part).
    #[test]
    fn creates_keeps_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let file = config_file(Some(dir.path()), None).unwrap();
        assert_eq!(file, dir.path().join(".claude.json"));
        assert!(trust_workspace(&file, Path::new("/w/one")).unwrap());
        assert_eq!(
            read(&file)["projects"]["/w/one"]["hasTrustDialogAccepted"],
            true
        );
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );

        std::fs::write(
            &file,
            serde_json::to_string(&json!({
                "userID": "u",
                "projects": {
                    "/w/other": {"allowedTools": ["x"]},
                    "/w/one": {"hasTrustDialogAccepted": true, "history": [1]}
                }
            }))
            .unwrap(),
        )
        .unwrap();
        let before = std::fs::read(&file).unwrap();
        assert!(!trust_workspace(&file, Path::new("/w/one")).unwrap());
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "already true: unchanged"
        );

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(trust_workspace(&file, Path::new("/w/two")).unwrap());
        let after = read(&file);
        assert_eq!(after["userID"], "u");
        assert_eq!(after["projects"]["/w/other"]["allowedTools"][0], "x");
        assert_eq!(after["projects"]["/w/one"]["history"][0], 1);
        assert_eq!(after["projects"]["/w/two"]["hasTrustDialogAccepted"], true);
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o640,
            "mode kept"
        );

        let custom = config_file(Some(dir.path()), Some(&dir.path().join("cfg"))).unwrap();
        assert_eq!(custom, dir.path().join("cfg/.claude.json"));
        std::fs::write(&file, "[1]").unwrap();
        assert!(trust_workspace(&file, Path::new("/w/x")).is_err());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "[1]",
            "not clobbered"
        );
    }

    /// Q6: 20 concurrent writers for 20 worktrees → all 20 entries.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".claude.json");
        std::fs::write(&file, r#"{"keep": true}"#).unwrap();
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let file = file.clone();
                std::thread::spawn(move || {
                    trust_workspace(&file, Path::new(&format!("/w/{i}"))).unwrap()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
        let config = read(&file);
        assert_eq!(config["keep"], true);
        for i in 0..20 {
            assert_eq!(
                config["projects"][format!("/w/{i}")]["hasTrustDialogAccepted"],
                true,
                "entry {i}"
            );
        }
    }

    /// Another process's lock on the `.lock` file holds the write back until released.
    #[test]
    fn waits_for_the_file_lock() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".claude.json");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.path().join(".claude.json.lock"))
            .unwrap();
        let held = Flock::lock(lock, FlockArg::LockExclusive).unwrap();
        let writer = {
            let file = file.clone();
            std::thread::spawn(move || trust_workspace(&file, Path::new("/w/a")).unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!file.exists(), "written while another holder had the lock");
        drop(held);
        assert!(writer.join().unwrap());
        assert_eq!(
            read(&file)["projects"]["/w/a"]["hasTrustDialogAccepted"],
            true
        );
    }
}
