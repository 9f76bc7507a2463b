//! The GitHub adapter against a loopback HTTP server: request headers, conditional requests,
//! paging, error classes, the rate-limit pause and the quota share, GraphQL batches, job logs,
//! and remote URLs read from a real git repository.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;
use crate::clock::SystemClock;
use crate::process::SystemRunner;
use ao_testkit::http::{HttpServer, Response};

fn client_for(server: &HttpServer, share: f64, token: Option<&'static str>) -> GitHubClient {
    let runner: Arc<dyn CommandRunner> = Arc::new(SystemRunner);
    let tokens = TokenSource::new(
        move |name| {
            (name == "AO_GITHUB_TOKEN")
                .then(|| token.map(str::to_owned))
                .flatten()
        },
        runner.clone(),
        "github.com",
    );
    GitHubClient::new(
        GitHubOptions {
            api_url: server.url(),
            graphql_url: format!("{}/graphql", server.url()),
            host: "github.com".to_owned(),
            max_quota_share: share,
        },
        tokens,
        runner,
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn repo() -> RepoRef {
    RepoRef::new("acme", "app")
}

fn now_secs() -> i64 {
    SystemClock.now().as_millis() / 1000
}

fn pulls_body() -> serde_json::Value {
    json!([{"number": 7, "updated_at": "2026-05-26T11:00:00Z",
            "head": {"ref": "feat/x", "sha": "abc", "repo": {"full_name": "acme/app"}}}])
}

#[tokio::test]
async fn requests_carry_the_documented_headers_and_etags_are_reused() {
    let server = HttpServer::start(|req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            Response::new(304)
        } else {
            Response::json(200, &pulls_body()).header("ETag", "\"v1\"")
        }
    });
    let client = client_for(&server, 0.5, Some("secret-token"));
    let first = client.open_prs(&repo(), None, None).await.unwrap();
    let Conditional::Modified { etag, value } = first else {
        panic!("expected a body, got {first:?}");
    };
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    assert_eq!(value.prs[0].number, 7);
    assert_eq!(value.next, None);
    let again = client
        .open_prs(&repo(), None, etag.as_deref())
        .await
        .unwrap();
    assert_eq!(again, Conditional::NotModified);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/repos/acme/app/pulls?state=open&per_page=100");
    assert_eq!(r.header("authorization"), Some("Bearer secret-token"));
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("ao/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(r.header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[tokio::test]
async fn next_pages_come_from_the_link_header_and_stay_on_the_api() {
    let base = Arc::new(Mutex::new(String::new()));
    let link_base = base.clone();
    let server = HttpServer::start(move |req| {
        if req.path.contains("page=2") {
            Response::json(200, &json!([]))
        } else {
            let next = format!(
                "<{}/repositories/1/pulls?state=open&per_page=100&page=2>; rel=\"next\"",
                link_base.lock().unwrap()
            );
            Response::json(200, &pulls_body()).header("Link", next)
        }
    });
    *base.lock().unwrap() = server.url();
    let client = client_for(&server, 0.5, Some("t"));
    let Conditional::Modified { value, .. } = client.open_prs(&repo(), None, None).await.unwrap()
    else {
        panic!("expected a body");
    };
    let next = value.next.expect("a next page");
    let page2 = client.open_prs(&repo(), Some(&next), None).await.unwrap();
    assert!(matches!(page2, Conditional::Modified { value, .. } if value.prs.is_empty()));
    let foreign = client
        .open_prs(
            &repo(),
            Some("https://elsewhere.example/pulls?page=2"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(foreign, ScmError::Failed(_)), "{foreign}");
    assert_eq!(
        server.requests().len(),
        2,
        "the foreign URL was never requested"
    );
}

#[tokio::test]
async fn error_classes() {
    let server = HttpServer::start(|req| match req.path.split('/').nth(3).unwrap_or("") {
        "missing" => Response::json(404, &json!({"message": "Not Found"})),
        "denied" => Response::json(401, &json!({"message": "Bad credentials"})),
        "forbidden" => Response::json(403, &json!({"message": "Resource not accessible"})),
        "broken" => Response::json(502, &json!({"message": "Bad Gateway"})),
        "weird" => Response::json(422, &json!({"message": "Validation Failed"})),
        _ => Response::json(200, &json!("not a list")),
    });
    let client = client_for(&server, 0.5, Some("t"));
    let err = |name: &'static str| {
        let client = &client;
        async move {
            client
                .open_prs(&RepoRef::new("acme", name), None, None)
                .await
                .unwrap_err()
        }
    };
    assert!(matches!(err("missing").await, ScmError::NotFound(_)));
    let denied = err("denied").await;
    assert!(
        matches!(&denied, ScmError::Auth(m) if m.contains("Bad credentials") && m.contains("AO_GITHUB_TOKEN")),
        "{denied}"
    );
    assert!(matches!(err("forbidden").await, ScmError::Auth(_)));
    assert!(matches!(err("broken").await, ScmError::Transient(_)));
    assert!(matches!(err("weird").await, ScmError::Failed(m) if m.contains("422")));
    assert!(matches!(err("garbage").await, ScmError::Failed(m) if m.contains("unreadable")));
    assert_eq!(client.pacing(SystemClock.now()), Pacing::default());
}

#[tokio::test]
async fn a_transport_error_is_transient() {
    let server = HttpServer::start(|_| Response::new(200));
    let client = client_for(&server, 0.5, Some("t"));
    drop(server);
    let err = client.open_prs(&repo(), None, None).await.unwrap_err();
    assert!(matches!(err, ScmError::Transient(_)), "{err}");
}

#[tokio::test]
async fn rate_limited_answers_pause_every_request_until_the_reset() {
    let reset = now_secs() + 120;
    let server = HttpServer::start(move |_| {
        Response::json(403, &json!({"message": "API rate limit exceeded"}))
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
    });
    let client = client_for(&server, 0.5, Some("t"));
    let err = client.open_prs(&repo(), None, None).await.unwrap_err();
    let until = Timestamp::from_millis(reset * 1000);
    assert!(
        matches!(&err, ScmError::RateLimited { until: u, .. } if *u == until),
        "{err}"
    );
    assert_eq!(client.pacing(SystemClock.now()).paused_until, Some(until));
    // Paused: nothing more is sent, GraphQL included.
    let again = client.check_runs(&repo(), "abc", None).await.unwrap_err();
    assert!(matches!(again, ScmError::RateLimited { .. }));
    let batch = [DetailRequest {
        repo: repo(),
        number: 1,
        with_threads: false,
    }];
    assert!(matches!(
        client.pr_details(&batch).await.unwrap_err(),
        ScmError::RateLimited { .. }
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn secondary_limits_and_429_honour_retry_after() {
    let server = HttpServer::start(|req| {
        if req.path.contains("/pulls") {
            Response::json(
                403,
                &json!({"message": "You have exceeded a secondary rate limit."}),
            )
            .header("retry-after", "30")
        } else {
            Response::new(429)
        }
    });
    let client = client_for(&server, 0.5, Some("t"));
    let before = SystemClock.now();
    let ScmError::RateLimited { until, .. } =
        client.open_prs(&repo(), None, None).await.unwrap_err()
    else {
        panic!("rate limited expected");
    };
    let waited = until.millis_since(before);
    assert!((29_000..=31_000).contains(&waited), "paused {waited} ms");
}

#[tokio::test]
async fn the_daemon_spends_at_most_its_share_of_the_quota() {
    let reset = now_secs() + 3600;
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = HttpServer::start(move |req| {
        let n = count.fetch_add(1, Ordering::SeqCst) as u64;
        let limit = |r: Response| {
            r.header("x-ratelimit-limit", "10")
                .header("x-ratelimit-remaining", (10 - n.min(10)).to_string())
                .header("x-ratelimit-reset", reset.to_string())
                .header("x-ratelimit-resource", "core")
                .header("ETag", "\"e\"")
        };
        if req.header("if-none-match").is_some() {
            limit(Response::new(304))
        } else {
            limit(Response::json(200, &pulls_body()))
        }
    });
    let client = client_for(&server, 0.5, Some("t"));
    // 304s are free: any number of them.
    for _ in 0..8 {
        assert_eq!(
            client.open_prs(&repo(), None, Some("\"e\"")).await.unwrap(),
            Conditional::NotModified
        );
    }
    // A share of 0.5 of a limit of 10 is 5 charged requests.
    for i in 0..5 {
        assert!(
            client.open_prs(&repo(), None, None).await.is_ok(),
            "request {i}"
        );
    }
    let err = client.open_prs(&repo(), None, None).await.unwrap_err();
    let until = Timestamp::from_millis(reset * 1000);
    assert!(
        matches!(err, ScmError::RateLimited { until: u, .. } if u == until),
        "{err}"
    );
    assert_eq!(
        server.requests().len(),
        13,
        "the sixth charged request was never sent"
    );
    assert_eq!(client.pacing(SystemClock.now()).paused_until, Some(until));
}

/// A request that never got an answer was never charged: it stops counting against the share.
#[tokio::test]
async fn requests_without_an_answer_give_their_share_back() {
    let reset = now_secs() + 3600;
    let server = HttpServer::start(move |_| {
        Response::json(200, &pulls_body())
            .header("x-ratelimit-limit", "10")
            .header("x-ratelimit-remaining", "9")
            .header("x-ratelimit-reset", reset.to_string())
            .header("x-ratelimit-resource", "core")
    });
    let client = client_for(&server, 0.5, Some("t"));
    client.open_prs(&repo(), None, None).await.unwrap();
    drop(server);
    for _ in 0..10 {
        let err = client.open_prs(&repo(), None, None).await.unwrap_err();
        assert!(matches!(err, ScmError::Transient(_)), "{err}");
    }
    // One of the 5 requests the share allows is spent; 4 remain.
    let now = SystemClock.now();
    for i in 0..4 {
        assert!(client.rate().admit("core", now).is_ok(), "request {i}");
    }
    assert!(client.rate().admit("core", now).is_err());
}

#[tokio::test]
async fn low_quota_is_reported_for_slow_polling() {
    let reset = now_secs() + 600;
    let server = HttpServer::start(move |_| {
        Response::json(200, &pulls_body())
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "100")
            .header("x-ratelimit-reset", reset.to_string())
    });
    let client = client_for(&server, 1.0, Some("t"));
    client.open_prs(&repo(), None, None).await.unwrap();
    let pacing = client.pacing(SystemClock.now());
    assert_eq!(
        pacing.low_quota_until,
        Some(Timestamp::from_millis(reset * 1000))
    );
    assert_eq!(pacing.paused_until, None);
}

#[tokio::test]
async fn check_runs_conditional_and_sha_validated() {
    let server = HttpServer::start(|req| {
        if req.header("if-none-match") == Some("W/\"c1\"") {
            return Response::new(304);
        }
        Response::json(
            200,
            &json!({"total_count": 1, "check_runs": [
                {"id": 5, "name": "build", "status": "completed", "conclusion": "success"}]}),
        )
        .header("ETag", "W/\"c1\"")
    });
    let client = client_for(&server, 0.5, Some("t"));
    let Conditional::Modified { etag, value } =
        client.check_runs(&repo(), "abc123", None).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(value.len(), 1);
    assert_eq!(
        client
            .check_runs(&repo(), "abc123", etag.as_deref())
            .await
            .unwrap(),
        Conditional::NotModified
    );
    assert_eq!(
        server.requests()[0].path,
        "/repos/acme/app/commits/abc123/check-runs?per_page=100"
    );
    assert!(client.check_runs(&repo(), "../x", None).await.is_err());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn graphql_batches_post_one_query() {
    let server = HttpServer::start(|req| {
        assert_eq!(req.path, "/graphql");
        let vars = &req.json().expect("a JSON body")["variables"];
        let pr = |n: u64| {
            json!({"pullRequest": {
                "number": n, "url": format!("https://github.com/acme/app/pull/{n}"),
                "state": "OPEN", "isDraft": false, "merged": false, "mergedAt": null,
                "headRefOid": "h", "baseRefOid": "b", "mergeable": "UNKNOWN",
                "mergeStateStatus": "UNKNOWN", "reviewDecision": null,
                "commits": {"nodes": [{"commit": {"statusCheckRollup": null}}]}}})
        };
        Response::json(
            200,
            &json!({"data": {
                "pr0": pr(vars["n0"].as_u64().unwrap()),
                "pr1": pr(vars["n1"].as_u64().unwrap())}}),
        )
        .header("x-ratelimit-resource", "graphql")
    });
    let client = client_for(&server, 0.5, Some("t"));
    let batch: Vec<DetailRequest> = [3, 4]
        .map(|n| DetailRequest {
            repo: repo(),
            number: n,
            with_threads: false,
        })
        .to_vec();
    let got = client.pr_details(&batch).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|r| r.as_ref().unwrap().number)
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    let too_many = vec![batch[0].clone(); BATCH_MAX + 1];
    assert!(client.pr_details(&too_many).await.is_err());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn job_logs_follow_the_redirect() {
    let server = HttpServer::start(|req| {
        if req.path == "/repos/acme/app/actions/jobs/42/logs" {
            Response::new(302).header("Location", "/blob/42")
        } else if req.path == "/blob/42" {
            Response::new(200).body("line 1\nline 2\n")
        } else {
            Response::new(404)
        }
    });
    let client = client_for(&server, 0.5, Some("t"));
    assert_eq!(
        client.job_log(&repo(), 42).await.unwrap(),
        "line 1\nline 2\n"
    );
    assert!(matches!(
        client.job_log(&repo(), 43).await.unwrap_err(),
        ScmError::NotFound(_)
    ));
}

#[tokio::test]
async fn without_a_token_nothing_is_sent() {
    let server = HttpServer::start(|_| Response::json(200, &pulls_body()));
    // No variables, and a `gh` that cannot exist.
    let client = GitHubClient::new(
        GitHubOptions {
            api_url: server.url(),
            ..GitHubOptions::default()
        },
        TokenSource::new(|_| None, Arc::new(NoGh), "github.com"),
        Arc::new(NoGh),
        Arc::new(SystemClock),
    )
    .unwrap();
    assert!(matches!(
        client.credentials().await,
        Err(ScmError::NoToken(_))
    ));
    let err = client.open_prs(&repo(), None, None).await.unwrap_err();
    assert!(matches!(err, ScmError::NoToken(_)), "{err}");
    assert!(server.requests().is_empty());
    let env_client = client_for(&server, 0.5, Some("t"));
    assert_eq!(env_client.credentials().await.unwrap(), "AO_GITHUB_TOKEN");
}

/// A runner on which no program exists.
#[derive(Debug)]
struct NoGh;

#[async_trait]
impl CommandRunner for NoGh {
    async fn run(
        &self,
        spec: &CommandSpec,
    ) -> Result<crate::process::CommandOutput, crate::process::ProcessError> {
        Err(crate::process::ProcessError::Spawn {
            argv: spec.display(),
            error: "No such file or directory".to_owned(),
        })
    }
}

#[tokio::test]
async fn remote_urls_come_from_git_config() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "--quiet"]);
    git(&["remote", "add", "origin", "git@github.com:acme/app.git"]);
    git(&["remote", "add", "fork", "https://github.com/me/app"]);
    git(&["remote", "add", "other", "https://gitlab.com/acme/app.git"]);
    let server = HttpServer::start(|_| Response::new(500));
    let client = client_for(&server, 0.5, Some("t"));
    let path = dir.path();
    assert_eq!(
        client.remote_repository(path, "origin").await.unwrap(),
        Some(RepoRef::new("acme", "app"))
    );
    assert_eq!(
        client.remote_repository(path, "fork").await.unwrap(),
        Some(RepoRef::new("me", "app"))
    );
    assert_eq!(client.remote_repository(path, "other").await.unwrap(), None);
    assert_eq!(
        client.remote_repository(path, "absent").await.unwrap(),
        None
    );
    assert!(client.remote_repository(path, "a b").await.is_err());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_token() {
    let storage = HttpServer::start(|_| Response::new(200).body("from storage\n"));
    let blob = format!("{}/blob/7", storage.url());
    let api = HttpServer::start(move |_| Response::new(302).header("Location", blob.clone()));
    let client = client_for(&api, 0.5, Some("secret-token"));
    assert_eq!(client.job_log(&repo(), 7).await.unwrap(), "from storage\n");
    assert_eq!(
        api.requests()[0].header("authorization"),
        Some("Bearer secret-token")
    );
    assert_eq!(storage.requests()[0].header("authorization"), None);
}
