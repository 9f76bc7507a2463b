//! Identity newtypes: `SessionId`, `ProjectId`, `IssueId`.
//!
//! They are distinct types so one can never be passed where another is expected, and each is
//! validated once at the edge (CLI argument, socket request, hook environment) so the rest of
//! the system can put it into a path, a tmux name or an environment variable without re-checking.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::quote;

/// Why an identifier was rejected. `shown` is the rejected text as errors show it
/// ([`quote`]: quoted and bounded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} {shown} is longer than {max} characters")]
    TooLong {
        kind: &'static str,
        shown: String,
        max: usize,
    },
    #[error("{kind} {shown} may only contain letters, digits, '_' and '-'{extra}")]
    BadCharacters {
        kind: &'static str,
        shown: String,
        extra: &'static str,
    },
    #[error("issue id {shown} must be one line without control characters")]
    BadIssue { shown: String },
}

/// Longest project id: long enough for any repository name, short enough that
/// `<project>-<n>` stays a readable tmux session name.
pub const PROJECT_ID_MAX: usize = 64;
/// Longest session id accepted from outside.
pub const SESSION_ID_MAX: usize = 128;
/// Longest issue id.
pub const ISSUE_ID_MAX: usize = 256;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A project id: `[A-Za-z0-9_-]`, starting with a letter or digit, at most 64 characters.
///
/// The spec only requires a valid path component; we are stricter on purpose: the id becomes part
/// of every session id, and session ids travel through tmux names and the hook environment, where
/// only `[A-Za-z0-9_-]` is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectId(String);

impl ProjectId {
    /// Validates `value` as a project id.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        const KIND: &str = "project id";
        if value.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        if value.chars().count() > PROJECT_ID_MAX {
            return Err(IdError::TooLong {
                kind: KIND,
                shown: quote(value),
                max: PROJECT_ID_MAX,
            });
        }
        let starts_well = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if !starts_well || !value.chars().all(is_id_char) {
            return Err(IdError::BadCharacters {
                kind: KIND,
                shown: quote(value),
                extra: ", and must start with a letter or digit",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// Turns any name (a repository directory, say) into a valid project id: runs of other
    /// characters become one `-`, leading/trailing `-` are trimmed, and the result is capped.
    /// Returns `None` when nothing usable is left.
    pub fn sanitize(name: &str) -> Option<Self> {
        let mut out = String::new();
        for c in name.chars() {
            if is_id_char(c) {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out
            .trim_matches(|c| c == '-' || c == '_')
            .chars()
            .take(PROJECT_ID_MAX)
            .collect();
        Self::parse(trimmed.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A session id, `<projectId>-<n>` when allocated by the store.
///
/// Ids read from outside are validated only for their character set and length, so old or
/// hand-made ids (`s1`, `done-1`) still parse; allocation always produces `<project>-<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// Validates `value` as a session id: `[A-Za-z0-9_-]`, 1 to 128 characters.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        const KIND: &str = "session id";
        if value.is_empty() {
            return Err(IdError::Empty { kind: KIND });
        }
        if value.chars().count() > SESSION_ID_MAX {
            return Err(IdError::TooLong {
                kind: KIND,
                shown: quote(value),
                max: SESSION_ID_MAX,
            });
        }
        if !value.chars().all(is_id_char) {
            return Err(IdError::BadCharacters {
                kind: KIND,
                shown: quote(value),
                extra: "",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The id the store allocates for the `num`-th session of `project`.
    pub fn allocated(project: &ProjectId, num: u64) -> Self {
        Self(format!("{}-{num}", project.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional, free-text issue reference (`42`, `GH-17`, a URL). One line, no control
/// characters, at most 256 characters: it is exported into the agent's environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IssueId(String);

impl IssueId {
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.is_empty() {
            return Err(IdError::Empty { kind: "issue id" });
        }
        if value.chars().count() > ISSUE_ID_MAX {
            return Err(IdError::TooLong {
                kind: "issue id",
                shown: quote(value),
                max: ISSUE_ID_MAX,
            });
        }
        if value.chars().any(char::is_control) {
            return Err(IdError::BadIssue {
                shown: quote(value),
            });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($name:ident),+) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )+};
}

string_newtype_impls!(ProjectId, SessionId, IssueId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids() {
        for good in ["proj", "p", "my-repo_2", "A1"] {
            assert!(ProjectId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "-x",
            "_x",
            "a.b",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(ProjectId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn project_id_sanitize() {
        let cases = [
            ("my.repo", Some("my-repo")),
            ("--x--", Some("x")),
            ("a  b", Some("a-b")),
            ("...", None),
            ("ünï", Some("n")),
            ("ü", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                ProjectId::sanitize(input).map(|p| p.as_str().to_owned()),
                want.map(str::to_owned),
                "{input}"
            );
        }
        let long = ProjectId::sanitize(&"r".repeat(200)).unwrap();
        assert_eq!(long.as_str().len(), PROJECT_ID_MAX);
    }

    #[test]
    fn session_ids() {
        let p = ProjectId::parse("proj").unwrap();
        assert_eq!(SessionId::allocated(&p, 12).as_str(), "proj-12");
        for good in ["proj-1", "s1", "S_2"] {
            assert!(SessionId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", "a b", "$(boom)", "a.1", &"x".repeat(129)] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn issue_ids() {
        assert!(IssueId::parse("GH-42 https://x/y").is_ok());
        assert!(IssueId::parse("").is_err());
        assert!(IssueId::parse("a\nb").is_err());
        assert!(IssueId::parse(&"9".repeat(257)).is_err());
    }

    #[test]
    fn serde_validates() {
        let ok: SessionId = serde_json::from_str("\"proj-1\"").unwrap();
        assert_eq!(ok.as_str(), "proj-1");
        assert!(serde_json::from_str::<SessionId>("\"../x\"").is_err());
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"proj-1\"");
    }
}
