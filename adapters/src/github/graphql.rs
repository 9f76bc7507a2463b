//! PR details over GraphQL: one query for up to 25 PRs, aliases `pr0` … `pr24`, every owner, name
//! and number passed as variables (nothing is spliced into the query text), review threads included
//! per alias with `@include(if: $tN)`.
//!
//! A partial answer is normal: an alias that failed (say, a PR deleted) is `null` with an entry
//! in `errors` whose `path` starts with the alias; the other PRs are still good.

use serde::Deserialize;
use serde_json::{Value, json};

use ao::ports::{DetailRequest, ScmError};
use ao_core::domain::{CheckContext, PrDetails, ReviewThread, ThreadComment};

/// Most PRs per request.
pub const BATCH_MAX: usize = 25;

const FRAGMENTS: &str = r#"
fragment prFields on PullRequest {
  number url state isDraft merged mergedAt headRefOid baseRefOid mergeable mergeStateStatus
  reviewDecision
  commits(last: 1) { nodes { commit { statusCheckRollup { contexts(first: 100) { nodes {
    __typename
    ... on CheckRun { name status conclusion databaseId detailsUrl checkSuite { app { slug } } }
    ... on StatusContext { context state targetUrl }
  } } } } } }
}
fragment threadFields on PullRequestReviewThread {
  id isResolved
  first: comments(first: 1) { nodes { author { __typename login } } }
  latest: comments(last: 1) { nodes { id author { __typename login } body url path line originalLine } }
}
"#;

/// The request body for a batch: `{"query": …, "variables": …}`.
pub fn request_body(batch: &[DetailRequest]) -> Value {
    let mut params = vec![];
    let mut fields = String::new();
    let mut variables = serde_json::Map::new();
    for (i, req) in batch.iter().enumerate() {
        params.push(format!(
            "$o{i}: String!, $r{i}: String!, $n{i}: Int!, $t{i}: Boolean!"
        ));
        fields.push_str(&format!(
            "  pr{i}: repository(owner: $o{i}, name: $r{i}) {{ pullRequest(number: $n{i}) {{ \
             ...prFields reviewThreads(first: 100) @include(if: $t{i}) {{ nodes {{ ...threadFields }} }} }} }}\n"
        ));
        variables.insert(format!("o{i}"), json!(req.repo.owner));
        variables.insert(format!("r{i}"), json!(req.repo.name));
        variables.insert(format!("n{i}"), json!(req.number));
        variables.insert(format!("t{i}"), json!(req.with_threads));
    }
    let query = format!("query({}) {{\n{fields}}}\n{FRAGMENTS}", params.join(", "));
    json!({ "query": query, "variables": variables })
}

#[derive(Deserialize)]
struct Author {
    #[serde(rename = "__typename")]
    typename: Option<String>,
    login: Option<String>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<Option<T>>,
}

impl<T> Nodes<T> {
    fn into_vec(self) -> Vec<T> {
        self.nodes.into_iter().flatten().collect()
    }
}

#[derive(Deserialize)]
struct FirstComment {
    author: Option<Author>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LatestComment {
    id: String,
    author: Option<Author>,
    body: String,
    url: String,
    path: Option<String>,
    line: Option<u64>,
    original_line: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireThread {
    id: String,
    is_resolved: bool,
    first: Nodes<FirstComment>,
    latest: Nodes<LatestComment>,
}

#[derive(Deserialize)]
struct App {
    slug: Option<String>,
}

#[derive(Deserialize)]
struct CheckSuite {
    app: Option<App>,
}

#[derive(Deserialize)]
#[serde(tag = "__typename")]
enum WireContext {
    #[serde(rename_all = "camelCase")]
    CheckRun {
        name: String,
        status: String,
        conclusion: Option<String>,
        database_id: Option<u64>,
        details_url: Option<String>,
        check_suite: Option<CheckSuite>,
    },
    #[serde(rename_all = "camelCase")]
    StatusContext {
        context: String,
        state: String,
        target_url: Option<String>,
    },
}

#[derive(Deserialize)]
struct Rollup {
    contexts: Nodes<WireContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commit {
    status_check_rollup: Option<Rollup>,
}

#[derive(Deserialize)]
struct CommitNode {
    commit: Commit,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePr {
    number: u64,
    url: String,
    state: String,
    is_draft: bool,
    merged: bool,
    merged_at: Option<String>,
    head_ref_oid: String,
    base_ref_oid: String,
    mergeable: String,
    merge_state_status: String,
    review_decision: Option<String>,
    commits: Nodes<CommitNode>,
    review_threads: Option<Nodes<WireThread>>,
}

fn is_bot(author: Option<&Author>) -> bool {
    author.and_then(|a| a.typename.as_deref()) == Some("Bot")
}

fn login(author: Option<&Author>) -> String {
    author
        .and_then(|a| a.login.clone())
        .unwrap_or_else(|| "ghost".to_owned())
}

fn thread(t: WireThread) -> ReviewThread {
    let first_author_is_bot = t
        .first
        .into_vec()
        .first()
        .is_some_and(|c| is_bot(c.author.as_ref()));
    ReviewThread {
        id: t.id,
        is_resolved: t.is_resolved,
        first_author_is_bot,
        latest: t.latest.into_vec().pop().map(|c| ThreadComment {
            author: login(c.author.as_ref()),
            id: c.id,
            body: c.body,
            url: c.url,
            path: c.path,
            line: c.line.or(c.original_line),
        }),
    }
}

fn context(c: WireContext) -> CheckContext {
    match c {
        WireContext::CheckRun {
            name,
            status,
            conclusion,
            database_id,
            details_url,
            check_suite,
        } => CheckContext::Run {
            name,
            status,
            conclusion,
            database_id,
            details_url,
            app_slug: check_suite.and_then(|s| s.app).and_then(|a| a.slug),
        },
        WireContext::StatusContext {
            context,
            state,
            target_url,
        } => CheckContext::Status {
            context,
            state,
            target_url,
        },
    }
}

fn details(pr: WirePr) -> PrDetails {
    let contexts = pr
        .commits
        .into_vec()
        .pop()
        .and_then(|c| c.commit.status_check_rollup)
        .map(|r| r.contexts.into_vec().into_iter().map(context).collect())
        .unwrap_or_default();
    PrDetails {
        number: pr.number,
        url: pr.url,
        state: pr.state,
        is_draft: pr.is_draft,
        merged: pr.merged,
        merged_at: pr.merged_at,
        head_sha: pr.head_ref_oid,
        base_sha: pr.base_ref_oid,
        mergeable: pr.mergeable,
        merge_state_status: pr.merge_state_status,
        review_decision: pr.review_decision,
        contexts,
        threads: pr
            .review_threads
            .map(|t| t.into_vec().into_iter().map(thread).collect()),
    }
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    #[serde(default)]
    path: Vec<Value>,
}

#[derive(Deserialize)]
struct WireResponse {
    data: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    errors: Vec<WireError>,
}

/// What a GraphQL answer says beyond the PRs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// An error of type `RATE_LIMITED`.
    RateLimited(String),
    Failed(String),
}

/// Reads a batch answer: one result per request, in order.
pub fn parse_response(
    body: &[u8],
    batch: &[DetailRequest],
) -> Result<Vec<Result<PrDetails, ScmError>>, BatchError> {
    let response: WireResponse = serde_json::from_slice(body)
        .map_err(|e| BatchError::Failed(format!("unreadable GraphQL answer: {e}")))?;
    if let Some(e) = response
        .errors
        .iter()
        .find(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
    {
        return Err(BatchError::RateLimited(
            e.message.clone().unwrap_or_default(),
        ));
    }
    let Some(mut data) = response.data else {
        let messages: Vec<String> = response
            .errors
            .iter()
            .filter_map(|e| e.message.clone())
            .collect();
        return Err(BatchError::Failed(format!(
            "GraphQL answered no data: {}",
            messages.join("; ")
        )));
    };
    let alias_error = |alias: &str| {
        response
            .errors
            .iter()
            .find(|e| e.path.first().and_then(Value::as_str) == Some(alias))
    };
    Ok(batch
        .iter()
        .enumerate()
        .map(|(i, req)| {
            let alias = format!("pr{i}");
            let what = format!("{}#{}", req.repo, req.number);
            let pr = data
                .remove(&alias)
                .and_then(|repo| repo.get("pullRequest").cloned())
                .filter(|pr| !pr.is_null());
            match (pr, alias_error(&alias)) {
                (Some(pr), _) => serde_json::from_value::<WirePr>(pr)
                    .map(details)
                    .map_err(|e| ScmError::Failed(format!("{what}: unreadable PR details: {e}"))),
                (None, Some(e)) if e.kind.as_deref() == Some("NOT_FOUND") => {
                    Err(ScmError::NotFound(what))
                }
                (None, Some(e)) => Err(ScmError::Failed(format!(
                    "{what}: {}",
                    e.message.clone().unwrap_or_default()
                ))),
                (None, None) => Err(ScmError::NotFound(what)),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ao_core::domain::RepoRef;

    fn req(n: u64, threads: bool) -> DetailRequest {
        DetailRequest {
            repo: RepoRef::new("acme", "app"),
            number: n,
            with_threads: threads,
        }
    }

    #[test]
    fn aliases_and_variables() {
        let body = request_body(&[req(7, true), req(9, false)]);
        let query = body["query"].as_str().unwrap();
        assert!(query.contains("pr0: repository(owner: $o0, name: $r0)"));
        assert!(query.contains("pr1: repository(owner: $o1, name: $r1)"));
        assert!(!query.contains("pr2:"));
        assert!(query.contains("@include(if: $t1)"));
        assert!(!query.contains("acme"), "values travel as variables");
        let vars = &body["variables"];
        assert_eq!(
            (
                vars["o0"].as_str(),
                vars["r0"].as_str(),
                vars["n0"].as_u64()
            ),
            (Some("acme"), Some("app"), Some(7))
        );
        assert_eq!(
            (vars["t0"].as_bool(), vars["t1"].as_bool()),
            (Some(true), Some(false))
        );
    }

    fn pr_json(number: u64) -> Value {
        json!({
            "number": number, "url": format!("https://github.com/acme/app/pull/{number}"),
            "state": "OPEN", "isDraft": false, "merged": false, "mergedAt": null,
            "headRefOid": "h", "baseRefOid": "b", "mergeable": "MERGEABLE",
            "mergeStateStatus": "CLEAN", "reviewDecision": "CHANGES_REQUESTED",
            "commits": {"nodes": [{"commit": {"statusCheckRollup": {"contexts": {"nodes": [
                {"__typename": "CheckRun", "name": "build", "status": "COMPLETED",
                 "conclusion": "FAILURE", "databaseId": 42, "detailsUrl": "https://x/42",
                 "checkSuite": {"app": {"slug": "github-actions"}}},
                {"__typename": "StatusContext", "context": "ci/ext", "state": "SUCCESS",
                 "targetUrl": null}
            ]}}}}]},
            "reviewThreads": {"nodes": [
                {"id": "T1", "isResolved": false,
                 "first": {"nodes": [{"author": {"__typename": "Bot", "login": "lint-bot"}}]},
                 "latest": {"nodes": [{"id": "C2", "author": {"__typename": "User", "login": "ann"},
                   "body": "fix", "url": "https://x/c2", "path": "a.rs", "line": null,
                   "originalLine": 4}]}}
            ]}
        })
    }

    #[test]
    fn parses_details_threads_and_contexts() {
        let body = json!({"data": {"pr0": {"pullRequest": pr_json(7)}}});
        let got = parse_response(body.to_string().as_bytes(), &[req(7, true)]).unwrap();
        let d = got[0].as_ref().unwrap();
        assert_eq!(d.number, 7);
        assert_eq!(d.review_decision.as_deref(), Some("CHANGES_REQUESTED"));
        assert_eq!(d.contexts.len(), 2);
        assert_eq!(d.contexts[0].actions_job_id(), Some(42));
        assert_eq!(d.contexts[1].actions_job_id(), None);
        let threads = d.threads.as_ref().unwrap();
        assert!(
            threads[0].first_author_is_bot,
            "decided by the first comment"
        );
        let latest = threads[0].latest.as_ref().unwrap();
        assert_eq!((latest.author.as_str(), latest.line), ("ann", Some(4)));
    }

    #[test]
    fn a_failed_alias_fails_only_its_pr() {
        let mut without_threads = pr_json(9);
        without_threads
            .as_object_mut()
            .unwrap()
            .remove("reviewThreads");
        let body = json!({
            "data": {"pr0": {"pullRequest": null}, "pr1": {"pullRequest": without_threads},
                     "pr2": null},
            "errors": [
                {"type": "NOT_FOUND", "path": ["pr0", "pullRequest"], "message": "gone"},
                {"type": "FORBIDDEN", "path": ["pr2"], "message": "no access"}
            ]
        });
        let batch = [req(7, false), req(9, false), req(11, false)];
        let got = parse_response(body.to_string().as_bytes(), &batch).unwrap();
        assert!(matches!(got[0], Err(ScmError::NotFound(_))));
        assert!(got[1].as_ref().is_ok_and(|d| d.threads.is_none()));
        assert!(matches!(&got[2], Err(ScmError::Failed(m)) if m.contains("no access")));
    }

    #[test]
    fn rate_limited_and_empty_answers() {
        let limited =
            json!({"data": null, "errors": [{"type": "RATE_LIMITED", "message": "slow down"}]});
        assert_eq!(
            parse_response(limited.to_string().as_bytes(), &[req(1, false)]).unwrap_err(),
            BatchError::RateLimited("slow down".into())
        );
        let empty = json!({"errors": [{"message": "Something went wrong"}]});
        assert!(matches!(
            parse_response(empty.to_string().as_bytes(), &[req(1, false)]),
            Err(BatchError::Failed(m)) if m.contains("Something went wrong")
        ));
        assert!(parse_response(b"<html>", &[req(1, false)]).is_err());
    }
}
