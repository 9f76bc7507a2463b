//! Where the GitHub token comes from: `AO_GITHUB_TOKEN`, then `GITHUB_TOKEN`, then the output of
//! `gh auth token` (5 s timeout; memoised for 5 minutes and dropped on any authentication failure).
//!
//! The environment is read once, when the daemon builds the source; `gh` runs through the shared
//! command runner, so it is bounded in time and tests can fake it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::process::{CommandRunner, CommandSpec};
use ao::ports::ScmError;

/// The environment variables read for a token, in order.
pub const TOKEN_VARS: [&str; 2] = ["AO_GITHUB_TOKEN", "GITHUB_TOKEN"];
/// Deadline of `gh auth token`.
pub const GH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a token from `gh` is reused.
pub const GH_MEMO: Duration = Duration::from_secs(300);

/// A token and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub secret: String,
    /// `AO_GITHUB_TOKEN`, `GITHUB_TOKEN` or `gh auth token`.
    pub source: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(from {})", self.source)
    }
}

/// The token source of the GitHub adapter.
#[derive(Debug)]
pub struct TokenSource {
    env: Option<Token>,
    runner: Arc<dyn CommandRunner>,
    /// `--hostname` for `gh` when the host is not github.com.
    host: String,
    memo: Mutex<Option<(Token, Instant)>>,
}

impl TokenSource {
    /// Reads the variables with `var` (the process environment in the daemon).
    pub fn new(
        var: impl Fn(&str) -> Option<String>,
        runner: Arc<dyn CommandRunner>,
        host: &str,
    ) -> Self {
        let env = TOKEN_VARS.iter().find_map(|name| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|secret| Token {
                    secret,
                    source: (*name).to_owned(),
                })
        });
        Self {
            env,
            runner,
            host: host.to_owned(),
            memo: Mutex::new(None),
        }
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Option<(Token, Instant)>> {
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token to use now.
    pub async fn token(&self) -> Result<Token, ScmError> {
        if let Some(token) = &self.env {
            return Ok(token.clone());
        }
        if let Some((token, at)) = self.memo().as_ref()
            && at.elapsed() < GH_MEMO
        {
            return Ok(token.clone());
        }
        let mut spec = CommandSpec::new("gh", GH_TIMEOUT).args(["auth", "token"]);
        if !self.host.eq_ignore_ascii_case("github.com") {
            spec = spec.args(["--hostname", &self.host]);
        }
        let missing = |why: String| {
            ScmError::NoToken(format!(
                "set AO_GITHUB_TOKEN or GITHUB_TOKEN, or log in with `gh auth login` ({why})"
            ))
        };
        let out = self
            .runner
            .run(&spec)
            .await
            .map_err(|e| missing(e.to_string()))?;
        let secret = out.stdout_text().trim().to_owned();
        if !out.success() || secret.is_empty() {
            let detail = out.combined();
            return Err(missing(format!(
                "`{}` failed: {}",
                spec.display(),
                if detail.is_empty() {
                    "no output"
                } else {
                    &detail
                }
            )));
        }
        let token = Token {
            secret,
            source: "gh auth token".to_owned(),
        };
        *self.memo() = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// Forgets the memoised `gh` token after an authentication failure.
    pub fn invalidate(&self) {
        *self.memo() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{CommandOutput, ProcessError};
    use async_trait::async_trait;

    /// Answers `gh auth token` with a scripted output and counts the calls.
    #[derive(Debug, Default)]
    struct FakeGh {
        answer: Mutex<Option<CommandOutput>>,
        calls: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl CommandRunner for FakeGh {
        async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
            self.calls.lock().unwrap().push(spec.argv());
            assert_eq!(spec.timeout, GH_TIMEOUT);
            self.answer
                .lock()
                .unwrap()
                .clone()
                .ok_or_else(|| ProcessError::Spawn {
                    argv: spec.display(),
                    error: "No such file or directory".to_owned(),
                })
        }
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[tokio::test]
    async fn environment_first_in_order() {
        let gh = Arc::new(FakeGh::default());
        let both = TokenSource::new(
            vars(&[("GITHUB_TOKEN", "b"), ("AO_GITHUB_TOKEN", "a")]),
            gh.clone(),
            "github.com",
        );
        assert_eq!(both.token().await.unwrap().secret, "a");
        let second = TokenSource::new(
            vars(&[("AO_GITHUB_TOKEN", "  "), ("GITHUB_TOKEN", "b")]),
            gh.clone(),
            "github.com",
        );
        let token = second.token().await.unwrap();
        assert_eq!(
            (token.secret.as_str(), token.source.as_str()),
            ("b", "GITHUB_TOKEN")
        );
        assert!(gh.calls.lock().unwrap().is_empty(), "gh is not asked");
    }

    #[tokio::test(start_paused = true)]
    async fn gh_is_memoised_for_five_minutes_and_dropped_on_auth_failure() {
        let gh = Arc::new(FakeGh::default());
        *gh.answer.lock().unwrap() = Some(CommandOutput {
            code: Some(0),
            stdout: b"gho_abc\n".to_vec(),
            stderr: vec![],
        });
        let source = TokenSource::new(vars(&[]), gh.clone(), "github.com");
        assert_eq!(source.token().await.unwrap().secret, "gho_abc");
        assert_eq!(source.token().await.unwrap().source, "gh auth token");
        assert_eq!(gh.calls.lock().unwrap().len(), 1, "memoised");
        tokio::time::advance(GH_MEMO).await;
        source.token().await.unwrap();
        assert_eq!(gh.calls.lock().unwrap().len(), 2, "expired after 5 minutes");
        source.invalidate();
        source.token().await.unwrap();
        assert_eq!(gh.calls.lock().unwrap().len(), 3, "dropped on auth failure");
        assert_eq!(gh.calls.lock().unwrap()[0], vec!["gh", "auth", "token"]);
    }

    #[tokio::test]
    async fn no_token_anywhere_says_how_to_fix_it() {
        let gh = Arc::new(FakeGh::default());
        let source = TokenSource::new(vars(&[]), gh.clone(), "ghe.example.com");
        let err = source.token().await.unwrap_err();
        assert!(
            matches!(&err, ScmError::NoToken(m) if m.contains("AO_GITHUB_TOKEN")),
            "{err}"
        );
        *gh.answer.lock().unwrap() = Some(CommandOutput {
            code: Some(1),
            stdout: vec![],
            stderr: b"not logged in".to_vec(),
        });
        let err = source.token().await.unwrap_err();
        assert!(err.to_string().contains("not logged in"), "{err}");
        assert_eq!(
            gh.calls.lock().unwrap()[0],
            vec!["gh", "auth", "token", "--hostname", "ghe.example.com"]
        );
    }
}
