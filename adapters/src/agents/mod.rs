//! Agent harnesses: one module per kind of agent CLI, each implementing `ports::AgentHarness`.
//!
//! Shared here: finding an executable (configured path, PATH, well-known locations, cached),
//! the options every real agent harness takes (`AgentOptions`), the hook command line every
//! hook-capable harness installs (`aoctl hook <agent> <event>`).

pub mod claude;
pub mod codex;
pub mod command;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ao::ports::{AgentError, PermissionMode};
use ao_core::domain::HookEvent;

/// Finds an executable: a path containing `/` must itself be executable; a bare name is
/// searched on `path` (a `PATH`-style list), then in `extra` directories.
pub fn find_executable(program: &str, path: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let candidate = PathBuf::from(program);
        return is_executable(&candidate).then_some(candidate);
    }
    std::env::split_paths(path)
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where a harness looks for its CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinarySearch {
    /// The CLI's usual name (`claude`, `codex`).
    pub name: &'static str,
    /// A configured path (or name), tried alone when set.
    pub configured: Option<PathBuf>,
    /// The PATH to search.
    pub search_path: String,
    /// Directories tried after PATH.
    pub well_known: Vec<PathBuf>,
}

/// A found CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    path: PathBuf,
    /// Found by its bare name on the search PATH, so argv may name it by that name.
    on_path: bool,
}

/// Binary resolution, cached after the first success (a failure is tried again next time).
#[derive(Debug)]
pub struct BinaryResolver {
    search: BinarySearch,
    found: Mutex<Option<Found>>,
}

impl BinaryResolver {
    pub fn new(search: BinarySearch) -> Self {
        Self {
            search,
            found: Mutex::new(None),
        }
    }

    fn lookup(&self) -> Option<Found> {
        if let Some(found) = self.cached() {
            return Some(found);
        }
        let search = &self.search;
        let found = match &search.configured {
            Some(configured) => {
                let text = configured.to_string_lossy();
                find_executable(&text, &search.search_path, &[]).map(|path| Found {
                    on_path: !text.contains('/'),
                    path,
                })
            }
            None => find_executable(search.name, &search.search_path, &[])
                .map(|path| Found {
                    path,
                    on_path: true,
                })
                .or_else(|| {
                    find_executable(search.name, "", &search.well_known).map(|path| Found {
                        path,
                        on_path: false,
                    })
                }),
        }?;
        *self.found.lock().unwrap_or_else(|e| e.into_inner()) = Some(found.clone());
        Some(found)
    }

    fn cached(&self) -> Option<Found> {
        self.found.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The executable, or `BinaryNotFound` naming every place looked at.
    pub fn resolve(&self) -> Result<PathBuf, AgentError> {
        self.lookup().map(|f| f.path).ok_or_else(|| {
            let search = &self.search;
            let places = match &search.configured {
                Some(configured) => format!("configured binary {}", configured.display()),
                None => {
                    let dirs: Vec<String> = search
                        .well_known
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect();
                    format!("PATH, {}", dirs.join(", "))
                }
            };
            AgentError::BinaryNotFound(format!("{} (looked in {places})", search.name))
        })
    }

    /// What argv[0] should be: the bare name when the pane's PATH finds it, else the path.
    /// Unresolvable → the bare name (spawn's preflight has already reported the error).
    pub fn program(&self) -> String {
        match self.lookup() {
            Some(Found { on_path: true, .. }) => self
                .search
                .configured
                .as_ref()
                .map_or_else(|| self.search.name.to_owned(), |c| c.display().to_string()),
            Some(Found { path, .. }) => path.display().to_string(),
            None => self.search.name.to_owned(),
        }
    }
}

/// Options every real agent harness takes from `[agents.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentOptions {
    pub model: Option<String>,
    /// Used when the spawn names none.
    pub permission_mode: Option<PermissionMode>,
    /// Appended to the agent's system prompt; wins over `system_prompt_file`.
    pub system_prompt: Option<String>,
    pub system_prompt_file: Option<PathBuf>,
    pub allowed_tools: Vec<String>,
    pub disallowed_tools: Vec<String>,
}

impl AgentOptions {
    /// Checks what can be checked without launching (so the daemon fails at start).
    pub fn validate(&self) -> Result<(), AgentError> {
        for (name, list) in [
            ("allowed_tools", &self.allowed_tools),
            ("disallowed_tools", &self.disallowed_tools),
        ] {
            if list.iter().any(|t| t.trim().is_empty()) {
                return Err(AgentError::InvalidOptions(format!(
                    "{name} contains an empty entry"
                )));
            }
        }
        Ok(())
    }

    /// The spawn's model, else the configured one; blank counts as none.
    pub fn model<'a>(&'a self, spawn: Option<&'a str>) -> Option<&'a str> {
        spawn
            .or(self.model.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty())
    }

    /// The spawn's permission mode, else the configured one.
    pub fn permission_mode(&self, spawn: Option<PermissionMode>) -> Option<PermissionMode> {
        spawn.or(self.permission_mode)
    }

    /// The text to append to the system prompt: inline wins over the file; a file has trailing
    /// newlines trimmed; an unreadable file is an error.
    pub fn system_prompt_text(&self) -> Result<Option<String>, AgentError> {
        if let Some(text) = &self.system_prompt {
            return Ok(Some(text.clone()));
        }
        let Some(file) = &self.system_prompt_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(file).map_err(|e| {
            AgentError::InvalidOptions(format!(
                "system_prompt_file {} cannot be read: {e}",
                file.display()
            ))
        })?;
        Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
    }
}

/// The program word of hook commands: `aoctl` (found through the pane's PATH) or an absolute
/// path to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookProgram(String);

/// The bare `aoctl`, found through the pane's PATH.
impl Default for HookProgram {
    fn default() -> Self {
        Self::new(None)
    }
}

impl HookProgram {
    /// `aoctl` inside `dir`, else the bare name.
    pub fn new(aoctl_dir: Option<&Path>) -> Self {
        Self(aoctl_dir.map_or_else(
            || "aoctl".to_owned(),
            |d| d.join("aoctl").display().to_string(),
        ))
    }

    /// The shell command a hook runner executes: `<aoctl> hook <agent> <event>`. Hook runners
    /// hand this to a shell, so a program path with unusual characters is single-quoted.
    pub fn command(&self, agent: &str, event: HookEvent) -> String {
        let safe = self
            .0
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
        let program = if safe {
            self.0.clone()
        } else {
            format!("'{}'", self.0.replace('\'', r"'\''"))
        };
        format!("{program} hook {agent} {event}")
    }
}

/// True for a command `HookProgram::command` made for `agent`, whatever the program's path:
/// the first word (possibly quoted) names `aoctl`, followed by ` hook <agent> `.
pub fn is_hook_command(command: &str, agent: &str) -> bool {
    let (program, rest) = match command.strip_prefix('\'') {
        Some(quoted) => {
            // The quoted form writes `'` as `'\''`; find the closing quote of the whole word.
            let mut end = None;
            let mut i = 0;
            let bytes = quoted.as_bytes();
            while i < bytes.len() {
                if quoted[i..].starts_with(r"'\''") {
                    i += 4;
                } else if bytes[i] == b'\'' {
                    end = Some(i);
                    break;
                } else {
                    i += 1;
                }
            }
            match end {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => return false,
            }
        }
        None => match command.find(' ') {
            Some(space) => (&command[..space], &command[space..]),
            None => return false,
        },
    };
    let named_aoctl = program == "aoctl" || program.ends_with("/aoctl");
    named_aoctl && rest.starts_with(&format!(" hook {agent} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_on_path_and_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(find_executable("tool", "/nonexistent", &[]), None);
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(find_executable("tool", &path, &[]), Some(tool.clone()));
        assert_eq!(
            find_executable("tool", "", &[dir.path().to_path_buf()]),
            Some(tool.clone())
        );
        assert_eq!(
            find_executable(tool.to_str().unwrap(), "", &[]),
            Some(tool.clone())
        );
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        assert_eq!(find_executable("tool", &path, &[]), None, "not executable");
        assert_eq!(find_executable("", &path, &[]), None);
    }

    fn executable(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn resolver_order_cache_and_program() {
        let dir = tempfile::tempdir().unwrap();
        let on_path = dir.path().join("bin");
        let known = dir.path().join("known");
        let search = |configured: Option<PathBuf>| BinarySearch {
            name: "claude",
            configured,
            search_path: on_path.display().to_string(),
            well_known: vec![known.clone()],
        };
        let missing = BinaryResolver::new(search(None));
        let err = missing.resolve().unwrap_err().to_string();
        assert!(err.contains("claude") && err.contains("known"), "{err}");
        assert_eq!(missing.program(), "claude");

        let in_known = executable(&known, "claude");
        let resolver = BinaryResolver::new(search(None));
        assert_eq!(resolver.resolve().unwrap(), in_known);
        assert_eq!(resolver.program(), in_known.display().to_string());
        let first_on_path = executable(&on_path, "claude");
        assert_eq!(resolver.resolve().unwrap(), in_known, "cached");
        let fresh = BinaryResolver::new(search(None));
        assert_eq!(fresh.resolve().unwrap(), first_on_path, "PATH first");
        assert_eq!(fresh.program(), "claude");

        let custom = executable(dir.path(), "claude-beta");
        let configured = BinaryResolver::new(search(Some(custom.clone())));
        assert_eq!(configured.resolve().unwrap(), custom);
        assert_eq!(configured.program(), custom.display().to_string());
        let absent = BinaryResolver::new(search(Some(dir.path().join("nope"))));
        assert!(matches!(
            absent.resolve(),
            Err(AgentError::BinaryNotFound(m)) if m.contains("configured binary")
        ));
    }

    #[test]
    fn options_precedence_and_system_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.md");
        std::fs::write(&file, "be careful\n\n").unwrap();
        let mut options = AgentOptions {
            model: Some("sonnet".into()),
            permission_mode: Some(PermissionMode::Auto),
            system_prompt_file: Some(file.clone()),
            ..AgentOptions::default()
        };
        assert_eq!(options.model(None), Some("sonnet"));
        assert_eq!(options.model(Some(" opus ")), Some("opus"));
        assert_eq!(options.model(Some("  ")), None);
        assert_eq!(options.permission_mode(None), Some(PermissionMode::Auto));
        assert_eq!(
            options.permission_mode(Some(PermissionMode::Default)),
            Some(PermissionMode::Default)
        );
        assert_eq!(
            options.system_prompt_text().unwrap().as_deref(),
            Some("be careful")
        );
        options.system_prompt = Some("inline".into());
        assert_eq!(
            options.system_prompt_text().unwrap().as_deref(),
            Some("inline")
        );
        options.system_prompt = None;
        options.system_prompt_file = Some(dir.path().join("missing.md"));
        assert!(matches!(
            options.system_prompt_text(),
            Err(AgentError::InvalidOptions(_))
        ));
        options.allowed_tools = vec!["Bash(git *)".into(), " ".into()];
        assert!(options.validate().is_err());
        options.allowed_tools = vec!["Read".into()];
        assert!(options.validate().is_ok());
    }

    #[test]
    fn hook_commands_are_recognised_whatever_the_path() {
        let bare = HookProgram::new(None);
        assert_eq!(
            bare.command("claude-code", HookEvent::Stop),
            "aoctl hook claude-code stop"
        );
        let abs = HookProgram::new(Some(Path::new("/opt/ao/bin")));
        assert_eq!(
            abs.command("codex", HookEvent::SessionStart),
            "/opt/ao/bin/aoctl hook codex session-start"
        );
        let odd = HookProgram::new(Some(Path::new("/home/o'neil/my bin")));
        let command = odd.command("claude-code", HookEvent::Stop);
        assert_eq!(
            command,
            r"'/home/o'\''neil/my bin/aoctl' hook claude-code stop"
        );
        for c in [
            "aoctl hook claude-code stop",
            "/opt/ao/bin/aoctl hook claude-code pre-tool-use",
            command.as_str(),
        ] {
            assert!(is_hook_command(c, "claude-code"), "{c}");
            assert!(!is_hook_command(c, "codex"), "{c}");
        }
        for c in [
            "my-aoctl hook claude-code stop",
            "echo aoctl hook claude-code stop",
            "aoctl hooks claude-code stop",
            "aoctl",
            "'unterminated hook claude-code stop",
        ] {
            assert!(!is_hook_command(c, "claude-code"), "{c}");
        }
    }
}
