//! A fake GitHub for end-to-end tests, on the loopback [`HttpServer`]: the REST and GraphQL
//! shapes ao uses (open-PR list with paging, check runs, PR details with review threads, job
//! logs behind a redirect), ETags answered with `304`, rate-limit headers, answers scripted to
//! fail, and webhook posts received on `POST /hook`. Every exchange is recorded with its status
//! and arrival time.
//!
//! Tests change PRs with [`FakeGitHub::update`]; `touch` moves `updated_at` as GitHub does for
//! pushes, reviews and state changes (check runs do not move it).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value, json};

use crate::http::{Exchange, HttpServer, Request, Response};
use crate::now_ms;

/// A check run (GitHub Actions when `actions`; its id is the job id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Check {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// `success`, `failure`, …, when completed.
    pub conclusion: Option<String>,
    pub actions: bool,
}

impl Check {
    pub fn running(id: u64, name: &str) -> Self {
        Self {
            id,
            name: name.to_owned(),
            status: "in_progress".to_owned(),
            conclusion: None,
            actions: true,
        }
    }

    pub fn done(id: u64, name: &str, conclusion: &str) -> Self {
        Self {
            status: "completed".to_owned(),
            conclusion: Some(conclusion.to_owned()),
            ..Self::running(id, name)
        }
    }
}

/// An unresolved-or-not review thread with one comment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thread {
    pub id: String,
    pub resolved: bool,
    pub bot: bool,
    pub comment_id: String,
    pub author: String,
    pub body: String,
    pub path: Option<String>,
    pub line: Option<u64>,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pr {
    /// `owner/name` of the base repository.
    pub repo: String,
    pub number: u64,
    pub head_ref: String,
    pub head_repo: String,
    pub head_sha: String,
    pub base_sha: String,
    /// `OPEN`, `CLOSED` or `MERGED`.
    pub state: String,
    pub draft: bool,
    pub updated_at: String,
    pub mergeable: String,
    pub merge_state: String,
    pub review_decision: Option<String>,
    pub checks: Vec<Check>,
    pub threads: Vec<Thread>,
}

/// A scripted answer for requests whose path contains `path_contains`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub path_contains: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// `None` = until cleared.
    pub times: Option<usize>,
}

/// What the fake serves: PRs, job logs, scripted answers and the rate-limit budget.
#[derive(Debug, Default)]
struct State {
    prs: BTreeMap<(String, u64), Pr>,
    job_logs: HashMap<u64, String>,
    scripts: Vec<Scripted>,
    rate_limit: u64,
    rate_used: u64,
    rate_reset: i64,
    tick: u64,
}

/// The fake server; stops when dropped (printing its exchanges when the test is failing).
pub struct FakeGitHub {
    server: HttpServer,
    state: Arc<Mutex<State>>,
}

fn etag<T: Hash>(value: &T) -> String {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    format!("W/\"{:x}\"", h.finish())
}

impl FakeGitHub {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            rate_limit: 5000,
            rate_reset: now_ms() / 1000 + 3600,
            ..State::default()
        }));
        let served = state.clone();
        let server = HttpServer::start(move |request| {
            answer(
                &mut served.lock().unwrap_or_else(PoisonError::into_inner),
                request,
            )
        });
        Self { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens PR `number` in `repo` from `branch` (pushed to `repo` itself).
    pub fn open_pr(&self, repo: &str, number: u64, branch: &str) {
        let mut s = self.lock();
        s.tick += 1;
        let pr = Pr {
            repo: repo.to_owned(),
            number,
            head_ref: branch.to_owned(),
            head_repo: repo.to_owned(),
            head_sha: format!("{:040x}", number * 1000 + s.tick),
            base_sha: format!("{:040x}", 7),
            state: "OPEN".to_owned(),
            draft: false,
            updated_at: format!("2026-05-26T12:00:{:02}Z", s.tick % 60),
            mergeable: "UNKNOWN".to_owned(),
            merge_state: "UNKNOWN".to_owned(),
            review_decision: None,
            checks: vec![],
            threads: vec![],
        };
        s.prs.insert((repo.to_owned(), number), pr);
    }

    /// Changes a PR; `touch` moves its `updated_at`.
    pub fn update(&self, repo: &str, number: u64, touch: bool, f: impl FnOnce(&mut Pr)) {
        let mut s = self.lock();
        s.tick += 1;
        let tick = s.tick;
        let pr = s
            .prs
            .get_mut(&(repo.to_owned(), number))
            .expect("a known PR");
        f(pr);
        if touch {
            pr.updated_at = format!("2026-05-26T12:{:02}:{:02}Z", tick / 60 % 60, tick % 60);
        }
    }

    /// Starts a new rate-limit window: `limit` requests until `reset` (epoch seconds), none used.
    pub fn set_rate_window(&self, limit: u64, reset: i64) {
        let mut s = self.lock();
        s.rate_limit = limit;
        s.rate_used = 0;
        s.rate_reset = reset;
    }

    pub fn set_log(&self, job: u64, text: &str) {
        self.lock().job_logs.insert(job, text.to_owned());
    }

    /// Answers matching requests with `status` (`times` = None: until cleared).
    pub fn script(&self, scripted: Scripted) {
        self.lock().scripts.push(scripted);
    }

    pub fn clear_scripts(&self) {
        self.lock().scripts.clear();
    }

    /// Every request so far, with its status and arrival time.
    pub fn requests(&self) -> Vec<Exchange> {
        self.server.exchanges()
    }

    /// Requests whose path contains `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.path.contains(needle))
            .count()
    }

    /// The webhook events received, in order.
    pub fn hooks(&self) -> Vec<Value> {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/hook")
            .filter_map(Request::json)
            .collect()
    }

    /// Webhook events of `kind`.
    pub fn hooks_of(&self, kind: &str) -> Vec<Value> {
        self.hooks()
            .into_iter()
            .filter(|h| h["type"] == kind)
            .collect()
    }

    /// The exchanges, one line each (for failure messages).
    pub fn dump(&self) -> String {
        self.server.dump()
    }
}

/// Answers one request: the route's answer with the rate-limit headers GitHub sends on API
/// calls (a `304` costs no quota).
fn answer(s: &mut State, request: &Request) -> Response {
    let mut answer = route(s, request);
    let is_api = !request.path.starts_with("/hook") && !request.path.starts_with("/_blob");
    if is_api {
        if answer.status != 304 {
            s.rate_used += 1;
        }
        let resource = if request.path == "/graphql" {
            "graphql"
        } else {
            "core"
        };
        let has =
            |a: &Response, name: &str| a.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !has(&answer, "x-ratelimit-remaining") {
            let remaining = s.rate_limit.saturating_sub(s.rate_used);
            answer = answer
                .header("x-ratelimit-limit", s.rate_limit.to_string())
                .header("x-ratelimit-remaining", remaining.to_string())
                .header("x-ratelimit-reset", s.rate_reset.to_string())
                .header("x-ratelimit-resource", resource);
        }
    }
    answer
}

fn conditional(request: &Request, body: Value) -> Response {
    let tag = etag(&body.to_string());
    if request.header("if-none-match") == Some(tag.as_str()) {
        return Response::new(304).header("ETag", tag);
    }
    Response::json(200, &body).header("ETag", tag)
}

fn query_param(path: &str, name: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

fn route(s: &mut State, request: &Request) -> Response {
    // Links this server hands out point back at it.
    let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
    if let Some(i) = s
        .scripts
        .iter()
        .position(|sc| request.path.contains(&sc.path_contains))
    {
        let sc = s.scripts[i].clone();
        match sc.times {
            Some(1) => {
                s.scripts.remove(i);
            }
            Some(n) => s.scripts[i].times = Some(n - 1),
            None => {}
        }
        let mut answer = Response::new(sc.status)
            .header("Content-Type", "application/json")
            .body(sc.body);
        answer.headers.extend(sc.headers);
        return answer;
    }
    let path = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("POST", ["hook"]) => Response::json(200, &json!({"ok": true})),
        ("GET", ["repos", owner, name, "pulls"]) => {
            let repo = format!("{owner}/{name}");
            let per_page: usize = query_param(&request.path, "per_page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30);
            let page: usize = query_param(&request.path, "page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let open: Vec<&Pr> = s
                .prs
                .values()
                .filter(|p| p.repo == repo && p.state == "OPEN")
                .collect();
            let items: Vec<Value> = open
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|p| {
                    json!({
                        "number": p.number, "state": "open", "draft": p.draft,
                        "updated_at": p.updated_at,
                        "head": {"ref": p.head_ref, "sha": p.head_sha,
                                 "repo": {"full_name": p.head_repo}},
                    })
                })
                .collect();
            let more = open.len() > page * per_page;
            let answer = conditional(request, Value::Array(items));
            if more {
                let next = format!(
                    "<http://{host}/repos/{repo}/pulls?state=open&per_page={per_page}&page={}>; rel=\"next\"",
                    page + 1
                );
                answer.header("Link", next)
            } else {
                answer
            }
        }
        ("GET", ["repos", owner, name, "commits", sha, "check-runs"]) => {
            let repo = format!("{owner}/{name}");
            let checks: Vec<Value> = s
                .prs
                .values()
                .find(|p| p.repo == repo && p.head_sha == *sha)
                .map(|p| {
                    p.checks
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "name": c.name, "status": c.status,
                                   "conclusion": c.conclusion})
                        })
                        .collect()
                })
                .unwrap_or_default();
            conditional(
                request,
                json!({"total_count": checks.len(), "check_runs": checks}),
            )
        }
        ("GET", ["repos", _, _, "actions", "jobs", id, "logs"]) => {
            Response::new(302).header("Location", format!("/_blob/logs/{id}"))
        }
        ("GET", ["_blob", "logs", id]) => {
            match id.parse::<u64>().ok().and_then(|id| s.job_logs.get(&id)) {
                Some(text) => Response::new(200)
                    .header("Content-Type", "text/plain")
                    .body(text.clone()),
                None => Response::json(404, &json!({"message": "Not Found"})),
            }
        }
        ("POST", ["graphql"]) => graphql(s, request, &host),
        _ => Response::json(404, &json!({"message": "Not Found"})),
    }
}

fn check_node(c: &Check, host: &str) -> Value {
    json!({
        "__typename": "CheckRun",
        "name": c.name,
        "status": c.status.to_uppercase(),
        "conclusion": c.conclusion.as_ref().map(|v| v.to_uppercase()),
        "databaseId": c.id,
        "detailsUrl": format!("http://{host}/acme/job/{}", c.id),
        "checkSuite": {"app": {"slug": if c.actions { "github-actions" } else { "other-ci" }}},
    })
}

fn thread_node(t: &Thread, repo: &str, number: u64) -> Value {
    let author = |bot: bool, login: &str| json!({"__typename": if bot { "Bot" } else { "User" }, "login": login});
    json!({
        "id": t.id,
        "isResolved": t.resolved,
        "first": {"nodes": [{"author": author(t.bot, &t.author)}]},
        "latest": {"nodes": [{
            "id": t.comment_id, "author": author(t.bot, &t.author), "body": t.body,
            "url": format!("https://github.com/{repo}/pull/{number}#discussion_{}", t.comment_id),
            "path": t.path, "line": t.line, "originalLine": t.line,
        }]},
    })
}

fn graphql(s: &State, request: &Request, host: &str) -> Response {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let vars = &body["variables"];
    let mut data = serde_json::Map::new();
    let mut errors = vec![];
    let mut i = 0;
    while let Some(number) = vars[format!("n{i}")].as_u64() {
        let repo = format!(
            "{}/{}",
            vars[format!("o{i}")].as_str().unwrap_or_default(),
            vars[format!("r{i}")].as_str().unwrap_or_default()
        );
        let with_threads = vars[format!("t{i}")].as_bool().unwrap_or(false);
        let alias = format!("pr{i}");
        match s.prs.get(&(repo.clone(), number)) {
            Some(p) => {
                let mut pr = json!({
                    "number": p.number,
                    "url": format!("https://github.com/{repo}/pull/{}", p.number),
                    "state": p.state, "isDraft": p.draft, "merged": p.state == "MERGED",
                    "mergedAt": if p.state == "MERGED" { json!("2026-05-26T13:00:00Z") } else { Value::Null },
                    "headRefOid": p.head_sha, "baseRefOid": p.base_sha,
                    "mergeable": p.mergeable, "mergeStateStatus": p.merge_state,
                    "reviewDecision": p.review_decision,
                    "commits": {"nodes": [{"commit": {"statusCheckRollup":
                        if p.checks.is_empty() { Value::Null } else {
                            json!({"contexts": {"nodes":
                                p.checks.iter().map(|c| check_node(c, host)).collect::<Vec<_>>()}})
                        }}}]},
                });
                if with_threads {
                    pr["reviewThreads"] = json!({"nodes": p.threads.iter()
                        .map(|t| thread_node(t, &repo, p.number)).collect::<Vec<_>>()});
                }
                data.insert(alias, json!({"pullRequest": pr}));
            }
            None => {
                data.insert(alias.clone(), json!({"pullRequest": null}));
                errors.push(json!({"type": "NOT_FOUND", "path": [alias, "pullRequest"],
                                   "message": "Could not resolve to a PullRequest"}));
            }
        }
        i += 1;
    }
    let mut answer = json!({"data": data});
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    Response::json(200, &answer)
}
