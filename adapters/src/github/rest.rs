//! The REST shapes ao reads: the open-PR list, a commit's check runs and the `Link` header that
//! pages them. Only the fields ao uses are declared.

use serde::Deserialize;

use ao_core::domain::{CheckRunDigest, OpenPr, RepoRef};

#[derive(Deserialize)]
struct WireRepo {
    full_name: String,
}

#[derive(Deserialize)]
struct WireHead {
    #[serde(rename = "ref")]
    head_ref: String,
    sha: String,
    repo: Option<WireRepo>,
}

#[derive(Deserialize)]
struct WirePull {
    number: u64,
    updated_at: String,
    head: WireHead,
}

/// `GET /repos/{owner}/{repo}/pulls` → the open PRs.
pub fn parse_pulls(body: &[u8]) -> Result<Vec<OpenPr>, serde_json::Error> {
    let pulls: Vec<WirePull> = serde_json::from_slice(body)?;
    Ok(pulls
        .into_iter()
        .map(|p| OpenPr {
            number: p.number,
            head_ref: p.head.head_ref,
            head_repo: p
                .head
                .repo
                .and_then(|r| RepoRef::from_full_name(&r.full_name)),
            head_sha: p.head.sha,
            updated_at: p.updated_at,
        })
        .collect())
}

#[derive(Deserialize)]
struct WireCheckRun {
    id: u64,
    status: String,
    conclusion: Option<String>,
}

#[derive(Deserialize)]
struct WireCheckRuns {
    check_runs: Vec<WireCheckRun>,
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/check-runs` → digests sorted by id.
pub fn parse_check_runs(body: &[u8]) -> Result<Vec<CheckRunDigest>, serde_json::Error> {
    let runs: WireCheckRuns = serde_json::from_slice(body)?;
    let mut digests: Vec<CheckRunDigest> = runs
        .check_runs
        .into_iter()
        .map(|r| CheckRunDigest {
            id: r.id,
            status: r.status,
            conclusion: r.conclusion,
        })
        .collect();
    digests.sort();
    Ok(digests)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulls_with_and_without_head_repository() {
        let body = br#"[
          {"number": 7, "updated_at": "2026-05-26T11:00:00Z", "state": "open",
           "head": {"ref": "feat/x", "sha": "abc", "repo": {"full_name": "acme/app"}}},
          {"number": 8, "updated_at": "2026-05-26T11:01:00Z",
           "head": {"ref": "gone", "sha": "def", "repo": null}}
        ]"#;
        let prs = parse_pulls(body).unwrap();
        assert_eq!(prs.len(), 2);
        assert_eq!(prs[0].head_repo, Some(RepoRef::new("acme", "app")));
        assert_eq!(
            (
                prs[0].number,
                prs[0].head_ref.as_str(),
                prs[0].head_sha.as_str()
            ),
            (7, "feat/x", "abc")
        );
        assert_eq!(prs[1].head_repo, None);
        assert!(parse_pulls(b"{\"message\": \"nope\"}").is_err());
    }

    #[test]
    fn check_runs_sorted_by_id() {
        let body = br#"{"total_count": 2, "check_runs": [
          {"id": 9, "name": "b", "status": "completed", "conclusion": "failure"},
          {"id": 3, "name": "a", "status": "in_progress", "conclusion": null}
        ]}"#;
        let runs = parse_check_runs(body).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 9]);
        assert_eq!(runs[1].conclusion.as_deref(), Some("failure"));
    }

    #[test]
    fn link_header_next() {
        let link = r#"<https://api.github.com/repositories/1/pulls?page=2>; rel="next", <https://api.github.com/repositories/1/pulls?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=2")
        );
        let last_page = r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first""#;
        assert_eq!(next_link(last_page), None);
        assert_eq!(next_link(""), None);
    }
}
