//! Claude Code's hook configuration in `<worktree>/.claude/settings.local.json`: the reconcile
//! rules as pure functions over the JSON document, plus reading and writing the file.
//!
//! Reconcile: every `aoctl hook claude-code …` command is removed from every group, then added
//! to the group with the right matcher (so a changed matcher moves it and nothing is ever
//! duplicated); groups and event lists that removal emptied are dropped; every other key and
//! every user hook stays as it was.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::NAME;
use crate::agents::{HookProgram, is_hook_command};
use crate::files::write_atomically;
use ao::ports::AgentError;
use ao_core::domain::HookEvent;

/// The file, relative to the worktree.
pub const SETTINGS_FILE: &str = ".claude/settings.local.json";
/// Every hook command's timeout, in seconds.
pub const HOOK_TIMEOUT_SECS: u64 = 30;

/// Claude Code's native event names and the `aoctl hook` events they call, with the matcher of
/// their group (none: every source and tool).
pub const EVENTS: [(&str, HookEvent, Option<&str>); 10] = [
    ("SessionStart", HookEvent::SessionStart, None),
    ("UserPromptSubmit", HookEvent::UserPromptSubmit, None),
    ("PreToolUse", HookEvent::PreToolUse, None),
    ("PostToolUse", HookEvent::PostToolUse, None),
    ("PostToolUseFailure", HookEvent::PostToolUseFailure, None),
    ("PermissionRequest", HookEvent::PermissionRequest, None),
    ("Stop", HookEvent::Stop, None),
    ("StopFailure", HookEvent::StopFailure, None),
    ("Notification", HookEvent::Notification, None),
    ("SessionEnd", HookEvent::SessionEnd, None),
];

/// The settings file of a worktree.
pub fn settings_path(worktree: &Path) -> PathBuf {
    worktree.join(SETTINGS_FILE)
}

/// Removes every ao hook command from `settings`; groups and event lists left empty by the
/// removal are dropped. Returns whether anything changed.
pub fn remove_ao_hooks(settings: &mut Map<String, Value>) -> bool {
    let Some(Value::Object(hooks)) = settings.get_mut("hooks") else {
        return false;
    };
    let mut changed = false;
    let mut emptied_events = vec![];
    for (event, groups) in hooks.iter_mut() {
        let Value::Array(groups) = groups else {
            continue;
        };
        let before = groups.len();
        groups.retain_mut(|group| {
            let Some(Value::Array(commands)) = group.get_mut("hooks") else {
                return true;
            };
            let count = commands.len();
            commands.retain(|c| {
                !c.get("command")
                    .and_then(Value::as_str)
                    .is_some_and(|text| is_hook_command(text, NAME))
            });
            let removed = commands.len() != count;
            changed |= removed;
            !(removed && commands.is_empty())
        });
        if before > 0 && groups.is_empty() {
            emptied_events.push(event.clone());
        }
    }
    for event in emptied_events {
        hooks.remove(&event);
    }
    changed
}

/// Reconciles `settings` to hold exactly one ao command per event, in the group with its
/// matcher. Errors when `hooks` or an event's value has a shape Claude Code would not accept
/// either (rather than overwrite what the user wrote).
pub fn install_ao_hooks(
    settings: &mut Map<String, Value>,
    program: &HookProgram,
) -> Result<(), String> {
    remove_ao_hooks(settings);
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        return Err("\"hooks\" is not an object".to_owned());
    };
    for (native, event, matcher) in EVENTS {
        let groups = hooks.entry(native).or_insert_with(|| Value::Array(vec![]));
        let Value::Array(groups) = groups else {
            return Err(format!("\"hooks.{native}\" is not a list"));
        };
        let command = json!({
            "type": "command",
            "command": program.command(NAME, event),
            "timeout": HOOK_TIMEOUT_SECS,
        });
        let same_matcher = |group: &Value| {
            let theirs = group.get("matcher").and_then(Value::as_str);
            theirs.filter(|m| !m.is_empty()) == matcher
                && matches!(group.get("hooks"), Some(Value::Array(_)))
        };
        match groups.iter_mut().find(|g| same_matcher(g)) {
            Some(group) => {
                if let Some(Value::Array(commands)) = group.get_mut("hooks") {
                    commands.push(command);
                }
            }
            None => {
                let mut group = Map::new();
                if let Some(m) = matcher {
                    group.insert("matcher".to_owned(), Value::String(m.to_owned()));
                }
                group.insert("hooks".to_owned(), Value::Array(vec![command]));
                groups.push(Value::Object(group));
            }
        }
    }
    Ok(())
}

/// Reads the settings document; a missing file is `{}`.
fn read(path: &Path) -> Result<Map<String, Value>, AgentError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(AgentError::Hooks(format!(
                "reading {}: {e}",
                path.display()
            )));
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AgentError::Hooks(format!(
            "{} is not a JSON object; fix or remove it",
            path.display()
        ))),
        Err(e) => Err(AgentError::Hooks(format!(
            "{} is not valid JSON ({e}); fix or remove it",
            path.display()
        ))),
    }
}

fn write(path: &Path, settings: &Map<String, Value>) -> Result<(), AgentError> {
    let io = |e: std::io::Error| AgentError::Hooks(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text = serde_json::to_string_pretty(settings)
        .map_err(|e| AgentError::Hooks(format!("encoding {}: {e}", path.display())))?;
    text.push('\n');
    write_atomically(path, text.as_bytes(), 0o644).map_err(io)
}

/// Installs (reconciles) the hooks in a worktree's settings file; writes only on change.
pub fn install(worktree: &Path, program: &HookProgram) -> Result<(), AgentError> {
    let path = settings_path(worktree);
    let mut settings = read(&path)?;
    let before = settings.clone();
    install_ao_hooks(&mut settings, program)
        .map_err(|why| AgentError::Hooks(format!("{}: {why}", path.display())))?;
    if settings != before || !path.exists() {
        write(&path, &settings)?;
    }
    Ok(())
}

/// Removes ao's hooks from a worktree's settings file; a missing file is a no-op.
pub fn uninstall(worktree: &Path) -> Result<(), AgentError> {
    let path = settings_path(worktree);
    if !path.exists() {
        return Ok(());
    }
    let mut settings = read(&path)?;
    if remove_ao_hooks(&mut settings) {
        write(&path, &settings)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ao_commands(settings: &Map<String, Value>) -> Vec<(String, String)> {
        let mut out = vec![];
        for (event, groups) in settings["hooks"].as_object().unwrap() {
            for group in groups.as_array().unwrap() {
                for c in group["hooks"].as_array().unwrap() {
                    let text = c["command"].as_str().unwrap_or_default();
                    if is_hook_command(text, NAME) {
                        assert_eq!(c["timeout"], 30);
                        assert_eq!(c["type"], "command");
                        out.push((event.clone(), text.to_owned()));
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// Q4 (document level): ten events, reinstall idempotent, user entries kept.
    #[test]
    fn reconcile_keeps_user_hooks_and_never_duplicates() {
        let mut settings: Map<String, Value> = serde_json::from_value(json!({
            "permissions": {"allow": ["Bash(ls)"]},
            "hooks": {
                "Stop": [{"hooks": [{"type": "command", "command": "notify-me"}]}],
                "PreToolUse": [{"matcher": "Bash", "hooks": [
                    {"type": "command", "command": "audit"},
                    {"type": "command", "command": "aoctl hook claude-code pre-tool-use", "timeout": 30}
                ]}]
            }
        }))
        .unwrap();
        let program = HookProgram::new(None);
        install_ao_hooks(&mut settings, &program).unwrap();
        let first = settings.clone();
        let commands = ao_commands(&settings);
        assert_eq!(commands.len(), 10, "{commands:?}");
        assert!(commands.contains(&(
            "SessionEnd".to_owned(),
            "aoctl hook claude-code session-end".to_owned()
        )));
        assert!(commands.contains(&(
            "StopFailure".to_owned(),
            "aoctl hook claude-code stop-failure".to_owned()
        )));
        // The command moved out of the Bash-matcher group (its matcher is none).
        let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre[0]["matcher"], "Bash");
        assert_eq!(
            pre[0]["hooks"].as_array().unwrap().len(),
            1,
            "user hook kept"
        );
        assert!(pre[1].get("matcher").is_none());
        // The user's Stop group has no matcher, so ours joins it.
        let stop = settings["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 1);
        assert_eq!(stop[0]["hooks"][0]["command"], "notify-me");
        assert_eq!(settings["permissions"]["allow"][0], "Bash(ls)");

        install_ao_hooks(&mut settings, &program).unwrap();
        assert_eq!(settings, first, "reinstalling changes nothing");

        // A new aoctl location replaces the old commands instead of adding more.
        install_ao_hooks(&mut settings, &HookProgram::new(Some(Path::new("/opt/ao")))).unwrap();
        let moved = ao_commands(&settings);
        assert_eq!(moved.len(), 10);
        assert!(
            moved
                .iter()
                .all(|(_, c)| c.starts_with("/opt/ao/aoctl hook"))
        );

        assert!(remove_ao_hooks(&mut settings));
        assert!(ao_commands(&settings).is_empty());
        assert_eq!(
            settings["hooks"]["Stop"][0]["hooks"][0]["command"],
            "notify-me"
        );
        assert_eq!(
            settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
            "audit"
        );
        assert!(
            settings["hooks"].get("SessionStart").is_none(),
            "emptied events dropped"
        );
        assert!(!remove_ao_hooks(&mut settings), "nothing left to remove");
    }

    #[test]
    fn refuses_shapes_it_cannot_merge() {
        let program = HookProgram::new(None);
        let mut bad: Map<String, Value> = serde_json::from_value(json!({"hooks": "nope"})).unwrap();
        assert!(install_ao_hooks(&mut bad, &program).is_err());
        let mut bad: Map<String, Value> =
            serde_json::from_value(json!({"hooks": {"Stop": {"x": 1}}})).unwrap();
        assert!(install_ao_hooks(&mut bad, &program).is_err());
    }

    #[test]
    fn file_level_install_and_uninstall() {
        let dir = tempfile::tempdir().unwrap();
        let program = HookProgram::new(None);
        uninstall(dir.path()).unwrap();
        assert!(!settings_path(dir.path()).exists(), "missing file: no-op");
        install(dir.path(), &program).unwrap();
        let written = std::fs::read_to_string(settings_path(dir.path())).unwrap();
        let settings: Map<String, Value> = serde_json::from_str(&written).unwrap();
        assert_eq!(ao_commands(&settings).len(), 10);
        let modified = std::fs::metadata(settings_path(dir.path()))
            .unwrap()
            .modified()
            .unwrap();
        install(dir.path(), &program).unwrap();
        assert_eq!(
            std::fs::metadata(settings_path(dir.path()))
                .unwrap()
                .modified()
                .unwrap(),
            modified,
            "no write when nothing changed"
        );
        uninstall(dir.path()).unwrap();
        let after: Value =
            serde_json::from_str(&std::fs::read_to_string(settings_path(dir.path())).unwrap())
                .unwrap();
        assert_eq!(after, json!({"hooks": {}}));
        std::fs::write(settings_path(dir.path()), "{oops").unwrap();
        assert!(matches!(
            install(dir.path(), &program),
            Err(AgentError::Hooks(m)) if m.contains("not valid JSON")
        ));
    }
}
