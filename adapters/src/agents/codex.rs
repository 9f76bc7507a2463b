//! The `codex` harness: OpenAI's Codex CLI.
//!
//! Everything rides on the command line: codex does not load hook files from linked worktrees,
//! so the four hooks are `-c hooks.<Event>=…` flags (run without persisted trust thanks to
//! `--dangerously-bypass-hook-trust`), and the workspace is trusted for this invocation only
//! with `-c projects={…}`. `install_hooks` therefore writes nothing. Codex reports no tool
//! events, so a permission dialog's `blocked` ends only at a turn boundary or when the terminal
//! heuristic sees the idle composer again; it is hook-capable but not confirm-capable.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{AgentOptions, BinaryResolver, BinarySearch, HookProgram};
use ao::ports::{
    AgentError, AgentHarness, LaunchConfig, PermissionMode, PromptDelivery, RestoreConfig,
};
use ao_core::domain::{ActivityState, HookEvent};
use ao_core::input_line::Composer;

/// The longest wait for a typed message to show in codex's composer before Enter.
pub const ENTER_DELAY: Duration = Duration::from_millis(500);

/// The harness name (the record's `agent`).
pub const NAME: &str = ao_core::decide::hooks::CODEX;

/// Every hook command's timeout, in seconds.
pub const HOOK_TIMEOUT_SECS: u64 = 5;

/// Codex's native event names and the `aoctl hook` events they call.
pub const EVENTS: [(&str, HookEvent); 4] = [
    ("SessionStart", HookEvent::SessionStart),
    ("UserPromptSubmit", HookEvent::UserPromptSubmit),
    ("PermissionRequest", HookEvent::PermissionRequest),
    ("Stop", HookEvent::Stop),
];

/// Lines of pane text the heuristic looks at.
const HEURISTIC_LINES: usize = 12;

/// A TOML basic string: `"…"` with `\`, `"` and control characters escaped.
pub fn toml_basic_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML string for `text`: literal `'…'` when it has no control characters and no `'`,
/// else a basic string.
pub fn toml_string(text: &str) -> String {
    if text.contains('\'') || text.chars().any(char::is_control) {
        toml_basic_string(text)
    } else {
        format!("'{text}'")
    }
}

/// The terminal heuristic: `idle` when the last non-empty lines show the composer (`›`) followed by
/// the footer (` · `) and nothing says `esc to interrupt`.
pub fn terminal_activity(output: &str) -> Option<ActivityState> {
    let clean = ao_core::text::strip_terminal_codes(output);
    let lines: Vec<&str> = clean.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = &lines[lines.len().saturating_sub(HEURISTIC_LINES)..];
    if last.len() < 2 {
        return None;
    }
    if last
        .iter()
        .any(|l| l.to_lowercase().contains("esc to interrupt"))
    {
        return None;
    }
    last.windows(2)
        .any(|pair| pair[0].trim_start().starts_with('›') && pair[1].contains(" · "))
        .then_some(ActivityState::Idle)
}

/// Configuration of the `codex` harness (`[agents.codex]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodexConfig {
    /// A configured `codex` binary (path or name); PATH and the well-known places otherwise.
    pub binary: Option<PathBuf>,
    /// The PATH to search.
    pub search_path: String,
    /// The user's home, for the well-known install places.
    pub home: Option<PathBuf>,
    /// Model, permission mode and instructions (codex takes no tool lists).
    pub options: AgentOptions,
    /// The `aoctl` hooks call.
    pub hook_program: HookProgram,
    /// Extra pane environment.
    pub env: BTreeMap<String, String>,
    /// Extra `-c <key>=<TOML value>` overrides (a model provider, say), in order.
    pub config_overrides: Vec<(String, String)>,
}

/// The `codex` harness.
#[derive(Debug)]
pub struct CodexHarness {
    config: CodexConfig,
    binary: BinaryResolver,
}

impl CodexHarness {
    /// Fails when the options are invalid (the daemon refuses to start).
    pub fn new(config: CodexConfig) -> Result<Self, AgentError> {
        config.options.validate()?;
        if !config.options.allowed_tools.is_empty() || !config.options.disallowed_tools.is_empty() {
            return Err(AgentError::InvalidOptions(
                "codex takes no allowed_tools or disallowed_tools (use its sandbox and approval settings)"
                    .to_owned(),
            ));
        }
        if let Some((key, _)) = config
            .config_overrides
            .iter()
            .find(|(key, _)| key.trim().is_empty() || key.contains('='))
        {
            return Err(AgentError::InvalidOptions(format!(
                "invalid codex config key {key:?}"
            )));
        }
        let mut well_known: Vec<PathBuf> =
            vec!["/usr/local/bin".into(), "/opt/homebrew/bin".into()];
        if let Some(home) = &config.home {
            for dir in [".npm-global/bin", ".npm/bin", ".local/bin", ".cargo/bin"] {
                well_known.push(home.join(dir));
            }
        }
        let binary = BinaryResolver::new(BinarySearch {
            name: "codex",
            configured: config.binary.clone(),
            search_path: config.search_path.clone(),
            well_known,
        });
        Ok(Self { config, binary })
    }

    /// The flags launch and resume share: update check and nudge off, hook trust bypass,
    /// approval flags, the four hooks, workspace trust, configured overrides.
    fn common_flags(&self, launch: &LaunchConfig) -> Vec<String> {
        let mut argv: Vec<String> = [
            "-c",
            "check_for_update_on_startup=false",
            "-c",
            "notice.hide_rate_limit_model_nudge=true",
            "--dangerously-bypass-hook-trust",
        ]
        .map(str::to_owned)
        .to_vec();
        match self.config.options.permission_mode(launch.permissions) {
            None => {}
            Some(PermissionMode::Default | PermissionMode::AcceptEdits) => argv.extend(
                [
                    "--sandbox",
                    "workspace-write",
                    "--ask-for-approval",
                    "on-request",
                ]
                .map(str::to_owned),
            ),
            Some(PermissionMode::Auto) => argv.push("--approve-for-me".to_owned()),
            Some(PermissionMode::BypassPermissions) => {
                argv.push("--dangerously-bypass-approvals-and-sandbox".to_owned());
            }
        }
        for (native, event) in EVENTS {
            let command = self.config.hook_program.command(NAME, event);
            argv.push("-c".to_owned());
            argv.push(format!(
                "hooks.{native}=[{{hooks=[{{type=\"command\",command={},timeout={HOOK_TIMEOUT_SECS}}}]}}]",
                toml_basic_string(&command)
            ));
        }
        if let Some(path) = &launch.workspace_path {
            let mut keys = vec![path.display().to_string()];
            if let Ok(real) = std::fs::canonicalize(path)
                && real != *path
            {
                keys.push(real.display().to_string());
            }
            let entries: Vec<String> = keys
                .iter()
                .map(|k| format!("{}={{trust_level=\"trusted\"}}", toml_string(k)))
                .collect();
            argv.push("-c".to_owned());
            argv.push(format!("projects={{{}}}", entries.join(",")));
        }
        for (key, value) in &self.config.config_overrides {
            argv.push("-c".to_owned());
            argv.push(format!("{key}={value}"));
        }
        argv
    }

    /// `--model` and the instructions flag.
    fn model_and_instructions(&self, launch: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        let options = &self.config.options;
        let mut argv = vec![];
        if let Some(model) = options.model(launch.model.as_deref()) {
            argv.extend(["--model".to_owned(), model.to_owned()]);
        }
        if let Some(text) = &options.system_prompt {
            argv.extend([
                "-c".to_owned(),
                format!("developer_instructions={}", toml_string(text)),
            ]);
        } else if let Some(file) = &options.system_prompt_file {
            if !file.is_file() {
                return Err(AgentError::InvalidOptions(format!(
                    "system_prompt_file {} cannot be read",
                    file.display()
                )));
            }
            argv.extend([
                "-c".to_owned(),
                format!(
                    "model_instructions_file={}",
                    toml_string(&file.display().to_string())
                ),
            ]);
        }
        Ok(argv)
    }
}

#[async_trait]
impl AgentHarness for CodexHarness {
    fn name(&self) -> &str {
        NAME
    }

    fn resolve_binary(&self, _config: &LaunchConfig) -> Result<PathBuf, AgentError> {
        self.binary.resolve()
    }

    fn launch_argv(&self, config: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        let mut argv = vec![self.binary.program()];
        argv.extend(self.common_flags(config));
        argv.extend(self.model_and_instructions(config)?);
        if let Some(prompt) = config.prompt.as_deref().filter(|p| !p.is_empty()) {
            argv.extend(["--".to_owned(), prompt.to_owned()]);
        }
        Ok(argv)
    }

    /// `codex resume <launch flags> [--model <m>] [instructions] <id>`; `None` without a
    /// captured conversation id (the caller falls back to the saved prompt).
    fn restore_argv(&self, config: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError> {
        let Some(id) = config
            .agent_session_id
            .clone()
            .filter(|id| !id.trim().is_empty())
        else {
            return Ok(None);
        };
        let mut argv = vec![self.binary.program(), "resume".to_owned()];
        argv.extend(self.common_flags(&config.launch));
        argv.extend(self.model_and_instructions(&config.launch)?);
        argv.push(id);
        Ok(Some(argv))
    }

    fn environment(&self, _config: &LaunchConfig) -> BTreeMap<String, String> {
        self.config.env.clone()
    }

    fn prompt_delivery(&self) -> PromptDelivery {
        PromptDelivery::InCommand
    }

    fn hook_capable(&self) -> bool {
        true
    }

    /// Its `blocked` ends only at turn boundaries, so re-sent Enters are never used.
    fn confirm_capable(&self) -> bool {
        false
    }

    fn composer(&self) -> Composer {
        Composer::Codex
    }

    /// An Enter that arrives while codex still takes typed text as a paste burst becomes a
    /// newline; the burst is drawn only once it ends, so Enter waits until the text shows.
    fn enter_delay(&self) -> Duration {
        ENTER_DELAY
    }

    fn derive_activity(&self, event: HookEvent, payload: &Value) -> Option<ActivityState> {
        ao_core::decide::hooks::codex_activity(event, payload)
    }

    fn terminal_activity(&self, output: &str) -> Option<ActivityState> {
        terminal_activity(output)
    }

    fn has_terminal_heuristic(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use ao::ports::HookInstall;
    use ao_core::domain::SessionId;

    fn harness(options: AgentOptions) -> CodexHarness {
        CodexHarness::new(CodexConfig {
            options,
            ..CodexConfig::default()
        })
        .unwrap()
    }

    fn hook_flags() -> Vec<String> {
        [
            ("SessionStart", "session-start"),
            ("UserPromptSubmit", "user-prompt-submit"),
            ("PermissionRequest", "permission-request"),
            ("Stop", "stop"),
        ]
        .iter()
        .flat_map(|(native, sub)| {
            [
                "-c".to_owned(),
                format!(
                    "hooks.{native}=[{{hooks=[{{type=\"command\",command=\"aoctl hook codex {sub}\",timeout=5}}]}}]"
                ),
            ]
        })
        .collect()
    }

    /// Q7: the exact vector.
    #[test]
    fn launch_argv_exact_vector() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().canonicalize().unwrap().join("proj-1");
        std::fs::create_dir(&workspace).unwrap();
        let rules = dir.path().join("rules.md");
        std::fs::write(&rules, "x").unwrap();
        let h = harness(AgentOptions {
            system_prompt: Some("be brief".into()),
            system_prompt_file: Some(rules),
            ..AgentOptions::default()
        });
        let launch = LaunchConfig {
            workspace_path: Some(workspace.clone()),
            prompt: Some("-fix this".into()),
            permissions: Some(PermissionMode::BypassPermissions),
            ..LaunchConfig::default()
        };
        let mut want: Vec<String> = [
            "codex",
            "-c",
            "check_for_update_on_startup=false",
            "-c",
            "notice.hide_rate_limit_model_nudge=true",
            "--dangerously-bypass-hook-trust",
            "--dangerously-bypass-approvals-and-sandbox",
        ]
        .map(str::to_owned)
        .to_vec();
        want.extend(hook_flags());
        want.extend([
            "-c".to_owned(),
            format!(
                "projects={{'{}'={{trust_level=\"trusted\"}}}}",
                workspace.display()
            ),
            "-c".to_owned(),
            "developer_instructions='be brief'".to_owned(),
            "--".to_owned(),
            "-fix this".to_owned(),
        ]);
        assert_eq!(h.launch_argv(&launch).unwrap(), want);

        // A symlinked workspace gets a second entry for its real path.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&workspace, &link).unwrap();
        let linked = LaunchConfig {
            workspace_path: Some(link.clone()),
            ..LaunchConfig::default()
        };
        let argv = h.launch_argv(&linked).unwrap();
        let projects = argv.iter().find(|a| a.starts_with("projects=")).unwrap();
        assert_eq!(
            *projects,
            format!(
                "projects={{'{}'={{trust_level=\"trusted\"}},'{}'={{trust_level=\"trusted\"}}}}",
                link.display(),
                workspace.display()
            )
        );

        let bare = h.launch_argv(&LaunchConfig::default()).unwrap();
        assert!(
            !bare.iter().any(|a| a.starts_with("projects=")),
            "no workspace, no projects"
        );
        assert!(!bare.contains(&"--model".to_owned()));
        let blank_model = LaunchConfig {
            model: Some("  ".into()),
            ..LaunchConfig::default()
        };
        assert!(
            !h.launch_argv(&blank_model)
                .unwrap()
                .contains(&"--model".to_owned())
        );
        let model = LaunchConfig {
            model: Some("gpt-x".into()),
            ..LaunchConfig::default()
        };
        let argv = h.launch_argv(&model).unwrap();
        assert!(argv.windows(2).any(|w| w == ["--model", "gpt-x"]));

        let file_only = harness(AgentOptions {
            system_prompt_file: Some(dir.path().join("rules.md")),
            ..AgentOptions::default()
        });
        let argv = file_only.launch_argv(&LaunchConfig::default()).unwrap();
        assert_eq!(
            argv[argv.len() - 2..],
            [
                "-c".to_owned(),
                format!(
                    "model_instructions_file='{}'",
                    dir.path().join("rules.md").display()
                )
            ]
        );
        let missing = harness(AgentOptions {
            system_prompt_file: Some(dir.path().join("absent.md")),
            ..AgentOptions::default()
        });
        assert!(missing.launch_argv(&LaunchConfig::default()).is_err());
    }

    /// Q8.
    #[test]
    fn approval_mapping_and_toml_strings() {
        let h = harness(AgentOptions::default());
        let flags = |mode: Option<PermissionMode>| {
            let argv = h
                .launch_argv(&LaunchConfig {
                    permissions: mode,
                    ..LaunchConfig::default()
                })
                .unwrap();
            let start = argv
                .iter()
                .position(|a| a == "--dangerously-bypass-hook-trust")
                .unwrap()
                + 1;
            let end = argv.iter().position(|a| a.starts_with("hooks.")).unwrap() - 1;
            argv[start..end].to_vec()
        };
        assert!(flags(None).is_empty());
        let ask = [
            "--sandbox",
            "workspace-write",
            "--ask-for-approval",
            "on-request",
        ];
        assert_eq!(flags(Some(PermissionMode::Default)), ask);
        assert_eq!(flags(Some(PermissionMode::AcceptEdits)), ask);
        assert_eq!(flags(Some(PermissionMode::Auto)), ["--approve-for-me"]);
        assert_eq!(
            flags(Some(PermissionMode::BypassPermissions)),
            ["--dangerously-bypass-approvals-and-sandbox"]
        );
        let configured = harness(AgentOptions {
            permission_mode: Some(PermissionMode::Auto),
            ..AgentOptions::default()
        });
        let argv = configured.launch_argv(&LaunchConfig::default()).unwrap();
        assert!(argv.contains(&"--approve-for-me".to_owned()));

        assert_eq!(toml_string("plain"), "'plain'");
        assert_eq!(toml_string("it's"), "\"it's\"");
        assert_eq!(toml_string("a\u{1}b"), "\"a\\u0001b\"");
        assert_eq!(toml_string("line\nbreak"), "\"line\\u000Abreak\"");
        assert_eq!(
            toml_basic_string(r#"say "hi" \ now"#),
            r#""say \"hi\" \\ now""#
        );
    }

    #[test]
    fn config_overrides_and_invalid_options() {
        let h = CodexHarness::new(CodexConfig {
            config_overrides: vec![("model_provider".into(), "'mock'".into())],
            hook_program: HookProgram::new(Some(Path::new("/opt/ao bin"))),
            ..CodexConfig::default()
        })
        .unwrap();
        let argv = h.launch_argv(&LaunchConfig::default()).unwrap();
        assert!(
            argv.windows(2)
                .any(|w| w == ["-c", "model_provider='mock'"])
        );
        assert!(
            argv.iter()
                .any(|a| a.contains(r#"command="'/opt/ao bin/aoctl' hook codex stop""#)),
            "{argv:?}"
        );
        let tools = CodexHarness::new(CodexConfig {
            options: AgentOptions {
                allowed_tools: vec!["Read".into()],
                ..AgentOptions::default()
            },
            ..CodexConfig::default()
        });
        assert!(matches!(tools, Err(AgentError::InvalidOptions(_))));
        let key = CodexHarness::new(CodexConfig {
            config_overrides: vec![("a=b".into(), "1".into())],
            ..CodexConfig::default()
        });
        assert!(key.is_err());
    }

    /// Q9.
    #[tokio::test]
    async fn install_hooks_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let h = harness(AgentOptions::default());
        assert_eq!(
            h.install_hooks(dir.path()).await.unwrap(),
            HookInstall::default()
        );
        h.pre_launch(dir.path()).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Q10, M27 (harness part).
    #[test]
    fn restore_resumes_a_captured_conversation_only() {
        let h = harness(AgentOptions::default());
        let launch = LaunchConfig {
            model: Some("gpt-x".into()),
            prompt: Some("not replayed".into()),
            permissions: Some(PermissionMode::Default),
            ..LaunchConfig::default()
        };
        let restore = RestoreConfig {
            launch: launch.clone(),
            agent_session_id: Some("0199-abc".into()),
        };
        let argv = h.restore_argv(&restore).unwrap().unwrap();
        assert_eq!(argv[..2], ["codex", "resume"]);
        assert_eq!(argv[argv.len() - 3..], ["--model", "gpt-x", "0199-abc"]);
        assert!(argv.contains(&"--ask-for-approval".to_owned()));
        assert!(!argv.contains(&"not replayed".to_owned()));
        let none = RestoreConfig {
            launch,
            agent_session_id: None,
        };
        assert_eq!(h.restore_argv(&none).unwrap(), None);
        assert!(
            h.initial_agent_session_id(&SessionId::parse("p-1").unwrap())
                .is_none()
        );
    }

    /// Q11 (codex rows).
    #[test]
    fn event_table() {
        let p = json!({"session_id": "x"});
        let h = harness(AgentOptions::default());
        assert_eq!(
            h.derive_activity(HookEvent::UserPromptSubmit, &p),
            Some(ActivityState::Active)
        );
        assert_eq!(
            h.derive_activity(HookEvent::PermissionRequest, &p),
            Some(ActivityState::Blocked)
        );
        assert_eq!(
            h.derive_activity(HookEvent::Stop, &p),
            Some(ActivityState::Idle)
        );
        assert_eq!(h.derive_activity(HookEvent::SessionStart, &p), None);
        assert!(h.hook_capable() && !h.confirm_capable() && h.has_terminal_heuristic());
    }

    /// Q12.
    #[test]
    fn terminal_heuristic() {
        let idle = "  >_ OpenAI Codex (v0.169.0)\n\n› say hi\n\n• Hello\n\n› Ask Codex to do anything\n\n  gpt-5 default · /w/proj-1\n";
        assert_eq!(terminal_activity(idle), Some(ActivityState::Idle));
        let busy = format!("{idle}• Working (3s • Esc to interrupt)\n");
        assert_eq!(terminal_activity(&busy), None);
        let coloured =
            "\u{1b}[1m›\u{1b}[0m Ask Codex\r\n\u{1b}]0;title\u{7}\u{1b}[2m  gpt-5 · ~/w\u{1b}[0m\n";
        assert_eq!(terminal_activity(coloured), Some(ActivityState::Idle));
        assert_eq!(terminal_activity("› only one line"), None);
        let dialog = "Would you like to run the following command?\n  $ touch x\n› 1. Yes, proceed (y)\n  2. No (esc)\n";
        assert_eq!(
            terminal_activity(dialog),
            None,
            "the approval dialog is not the composer"
        );
        // The composer must be among the last 12 non-empty lines.
        let scrolled = format!("› old\n  a · b\n{}", "output\n".repeat(12));
        assert_eq!(terminal_activity(&scrolled), None);
    }
}
