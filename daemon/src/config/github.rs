//! `[scm.github]`: where GitHub's APIs are, the host remote URLs must name, and the share of the
//! hourly rate limit ao may spend; checked into the GitHub client's options.

use anyhow::{Result, bail};
use ao::domain::quote;
use ao_adapters::github::GitHubOptions;
use serde::Deserialize;

/// `[scm.github]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubSection {
    pub api_url: Option<String>,
    /// Default: `<api_url>/graphql`.
    pub graphql_url: Option<String>,
    pub host: Option<String>,
    pub max_quota_share: Option<f64>,
}

impl GitHubSection {
    /// The client's options: the defaults for what is not set, URLs without a trailing slash.
    pub fn resolve(&self) -> Result<GitHubOptions> {
        let defaults = GitHubOptions::default();
        let api_url = match &self.api_url {
            Some(url) => base_url("scm.github.api_url", url)?,
            None => defaults.api_url,
        };
        let graphql_url = match &self.graphql_url {
            Some(url) => base_url("scm.github.graphql_url", url)?,
            None => format!("{api_url}/graphql"),
        };
        let host = self.host.clone().unwrap_or(defaults.host);
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        {
            bail!(
                "scm.github.host must be a host name such as github.com, not {}",
                quote(&host)
            );
        }
        let max_quota_share = self.max_quota_share.unwrap_or(defaults.max_quota_share);
        if !(max_quota_share > 0.0 && max_quota_share <= 1.0) {
            bail!("scm.github.max_quota_share must be in (0, 1], not {max_quota_share}");
        }
        Ok(GitHubOptions {
            api_url,
            graphql_url,
            host,
            max_quota_share,
        })
    }
}

/// An http(s) URL without a trailing slash.
fn base_url(setting: &str, url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !trimmed.contains(char::is_whitespace) =>
        {
            Ok(trimmed.to_owned())
        }
        _ => bail!("{setting} must be an http(s) URL, not {}", quote(url)),
    }
}
