//! Which GitHub repository a git remote URL names.
//!
//! Accepted forms, with `<host>` the configured host (case-insensitive) and an optional `.git`:
//! `git@<host>:<owner>/<repo>`, `https://<host>/<owner>/<repo>` (credentials in the URL are
//! ignored) and `ssh://git@<host>[:port]/<owner>/<repo>`. Anything else is "not GitHub".

use ao_core::domain::RepoRef;

fn valid_name(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `<owner>/<repo>(.git)(/)` → the repository.
fn owner_repo(path: &str) -> Option<RepoRef> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (valid_name(owner) && valid_name(repo)).then(|| RepoRef::new(owner, repo))
}

fn host_matches(found: &str, host: &str) -> bool {
    found.eq_ignore_ascii_case(host)
}

/// The repository `url` names on `host`, if it is one of the accepted forms.
pub fn parse_remote_url(url: &str, host: &str) -> Option<RepoRef> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("https://") {
        let (authority, path) = rest.split_once('/')?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return host_matches(authority, host)
            .then(|| owner_repo(path))
            .flatten();
    }
    if let Some(rest) = url.strip_prefix("ssh://") {
        let (authority, path) = rest.split_once('/')?;
        let found = authority.strip_prefix("git@")?;
        let found = match found.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
            Some(_) => return None,
            None => found,
        };
        return host_matches(found, host)
            .then(|| owner_repo(path))
            .flatten();
    }
    if let Some(rest) = url.strip_prefix("git@") {
        let (found, path) = rest.split_once(':')?;
        return host_matches(found, host)
            .then(|| owner_repo(path))
            .flatten();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let acme = Some(RepoRef::new("acme", "widgets"));
        for url in [
            "git@github.com:acme/widgets.git",
            "git@github.com:acme/widgets",
            "https://github.com/acme/widgets.git",
            "https://github.com/acme/widgets",
            "https://github.com/acme/widgets/",
            "https://x-access-token:secret@github.com/acme/widgets.git",
            "ssh://git@github.com/acme/widgets.git",
            "ssh://git@github.com:22/acme/widgets",
            "  https://GitHub.com/acme/widgets.git\n",
        ] {
            assert_eq!(parse_remote_url(url, "github.com"), acme, "{url}");
        }
        assert_eq!(
            parse_remote_url("git@github.com:my-org/my.repo_1.git", "github.com"),
            Some(RepoRef::new("my-org", "my.repo_1"))
        );
    }

    #[test]
    fn the_configured_host_only() {
        assert_eq!(
            parse_remote_url("git@ghe.example.com:acme/widgets.git", "ghe.example.com"),
            Some(RepoRef::new("acme", "widgets"))
        );
        for url in [
            "git@gitlab.com:acme/widgets.git",
            "https://gitlab.com/acme/widgets.git",
            "ssh://git@github.com.evil.example/acme/widgets.git",
            "https://github.com.evil.example/acme/widgets",
        ] {
            assert_eq!(parse_remote_url(url, "github.com"), None, "{url}");
        }
    }

    #[test]
    fn other_shapes_are_not_github() {
        for url in [
            "/srv/git/widgets.git",
            "file:///srv/git/widgets.git",
            "http://github.com/acme/widgets.git",
            "git://github.com/acme/widgets.git",
            "https://github.com/acme",
            "https://github.com/acme/widgets/tree/main",
            "git@github.com:acme/.git",
            "git@github.com:../widgets.git",
            "ssh://github.com/acme/widgets.git",
            "ssh://git@github.com:port/acme/widgets.git",
            "",
        ] {
            assert_eq!(parse_remote_url(url, "github.com"), None, "{url}");
        }
    }
}
