//! End-to-end: the real `aod` polling a fake GitHub on 127.0.0.1 for the PR of a `command`
//! agent whose pane records what is typed into it, with a webhook sink received by the same fake
//! server. Everything is observed through `aoctl`, the pane's record and the fake's request log.

use std::path::PathBuf;

use ao_testkit::github::{Check, FakeGitHub, Scripted, Thread};
use ao_testkit::now_ms;
use ao_testkit::{GitRepo, SLOW, TestEnv, git, wait_for};

const REPO: &str = "acme/widgets";
const BRANCH: &str = "ao/demo-1";
const ID: &str = "demo-1";

/// A daemon configured against the fake GitHub, with project `demo` on `acme/widgets` and one
/// session `demo-1` whose agent writes whatever it is sent to `pane`.
struct World {
    // Dropped in this order: the daemon before the server it talks to.
    env: TestEnv,
    gh: FakeGitHub,
    _repo: GitRepo,
    pane: PathBuf,
}

fn config(gh: &FakeGitHub) -> String {
    let url = gh.url();
    format!(
        r#"
[observer]
tick = "1s"
[scm]
poll_interval = "1s"
[scm.github]
api_url = "{url}"
graphql_url = "{url}/graphql"
[[notify.sink]]
kind = "webhook"
url = "{url}/hook"
headers = {{ Authorization = "Bearer hook-secret" }}
"#
    )
}

fn github_repo() -> GitRepo {
    let repo = GitRepo::new();
    git(
        &repo.path,
        &[
            "remote",
            "set-url",
            "origin",
            "git@github.com:acme/widgets.git",
        ],
    );
    repo
}

fn world() -> World {
    let gh = FakeGitHub::start();
    let mut env = TestEnv::with_config(&config(&gh));
    env.env_remove.push("GITHUB_TOKEN".into());
    env.env
        .push(("AO_GITHUB_TOKEN".into(), "test-token".into()));
    let repo = github_repo();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let pane = env.root().join("pane.txt");
    // Prints for a few seconds (the terminal observer sees it working), then records input.
    let cmd = format!(
        "sh -c 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done; stty raw -echo; exec cat > {}'",
        pane.display()
    );
    env.json(&["spawn", "-p", "demo", "--cmd", &cmd]);
    env.wait_status(ID, &["working", "idle"]);
    World {
        env,
        gh,
        _repo: repo,
        pane,
    }
}

impl World {
    fn pane_text(&self) -> String {
        std::fs::read_to_string(&self.pane).unwrap_or_default()
    }

    fn sends(&self, needle: &str) -> usize {
        self.pane_text().matches(needle).count()
    }

    fn wait_pane(&self, what: &str, check: impl Fn(&str) -> bool) {
        wait_for(what, SLOW, || {
            let text = self.pane_text();
            if check(&text) {
                Ok(())
            } else {
                Err(format!("pane record:\n{text}"))
            }
        });
    }

    /// Waits until the daemon has polled the check runs `n` more times.
    fn wait_polls(&self, n: usize) {
        let start = self.gh.count("/check-runs");
        wait_for(&format!("{n} more polls"), SLOW, || {
            let now = self.gh.count("/check-runs");
            if now >= start + n {
                Ok(())
            } else {
                Err(format!("{now} check-runs requests"))
            }
        });
    }

    fn wait_hook(&self, kind: &str, count: usize) -> Vec<serde_json::Value> {
        wait_for(&format!("{count} {kind} webhook(s)"), SLOW, || {
            let hooks = self.gh.hooks_of(kind);
            if hooks.len() >= count {
                Ok(hooks)
            } else {
                Err(format!("hooks: {:?}", self.gh.hooks()))
            }
        })
    }

    fn set_checks(&self, checks: Vec<Check>) {
        self.gh.update(REPO, 12, false, |p| p.checks = checks);
    }

    /// A new CI run starts (the PR shows `pr_open` again), then fails with `tail`.
    fn fail_ci(&self, job: u64, tail: &str) {
        self.set_checks(vec![Check::running(job, "build")]);
        self.env.wait_status(ID, &["pr_open"]);
        self.gh.set_log(
            job,
            &format!("2026-05-26T12:00:00.0000000Z compiling widgets\n2026-05-26T12:00:01.0000000Z {tail}\n"),
        );
        self.set_checks(vec![Check::done(job, "build", "failure")]);
        self.env.wait_status(ID, &["ci_failed"]);
    }
}

/// The value of `key` in `aoctl get`'s key/value output.
fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .filter(|rest| rest.starts_with("  "))
                .map(|rest| rest.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {key:?} in:\n{text}"))
}

#[test]
fn a_pr_from_open_through_failing_ci_and_review_to_merge() {
    let w = world();
    let (gh, env) = (&w.gh, &w.env);

    // A PR appears: the session shows it.
    gh.open_pr(REPO, 12, BRANCH);
    w.set_checks(vec![Check::running(101, "build")]);
    let session = env.wait_status(ID, &["pr_open"]);
    assert_eq!(session["pr"]["number"], 12);
    assert_eq!(session["pr"]["state"], "open");
    assert!(env.ok(&["ls"]).contains("#12 open"), "{}", env.ok(&["ls"]));
    let get = env.ok(&["get", ID]);
    assert_eq!(field(&get, "ci"), "pending");
    assert_eq!(field(&get, "review"), "none");
    assert_eq!(field(&get, "mergeable"), "false");
    assert_eq!(
        field(&get, "pr url"),
        "https://github.com/acme/widgets/pull/12"
    );

    // CI fails: the agent gets the failing output, once for this run.
    gh.set_log(
        101,
        "2026-05-26T12:00:00.0000000Z compiling widgets\n2026-05-26T12:00:01.0000000Z error: undefined: foo (round 1)\n",
    );
    w.set_checks(vec![Check::done(101, "build", "failure")]);
    env.wait_status(ID, &["ci_failed"]);
    w.wait_pane("the CI nudge", |t| {
        t.contains("error: undefined: foo (round 1)")
    });
    let text = w.pane_text();
    assert!(text.contains("CI is failing on PR #12"), "{text}");
    assert!(text.contains("Failed: build (failure)"), "{text}");
    assert!(
        text.contains("compiling widgets"),
        "timestamps stripped, tail kept: {text}"
    );
    w.wait_polls(3);
    assert_eq!(
        w.sends("CI is failing"),
        1,
        "same facts again: no second send"
    );
    let get = env.ok(&["get", ID]);
    assert_eq!(field(&get, "ci"), "failing");
    assert_eq!(field(&get, "failed checks"), "build");

    // Second failing run: second send. Third: escalation instead of a third send.
    w.fail_ci(102, "error: undefined: foo (round 2)");
    w.wait_pane("the second CI nudge", |t| t.contains("(round 2)"));
    assert_eq!(w.sends("CI is failing"), 2);
    w.fail_ci(103, "error: undefined: foo (round 3)");
    let escalated = w.wait_hook("reaction.escalated", 1);
    assert_eq!(escalated[0]["data"]["reaction"], "ci-failed");
    assert_eq!(escalated[0]["priority"], "urgent");
    assert_eq!(escalated[0]["session_id"], ID);
    assert_eq!(escalated[0]["project_id"], "demo");
    w.wait_polls(3);
    assert_eq!(w.sends("CI is failing"), 2, "{}", w.pane_text());
    assert!(!w.pane_text().contains("(round 3)"));

    // CI passes; a reviewer requests changes: the agent gets the comment.
    gh.update(REPO, 12, true, |p| {
        p.checks = vec![Check::done(104, "build", "success")];
        p.review_decision = Some("CHANGES_REQUESTED".into());
        p.threads = vec![Thread {
            id: "T1".into(),
            resolved: false,
            bot: false,
            comment_id: "C1".into(),
            author: "reviewer-ann".into(),
            body: "Please rename foo to bar.".into(),
            path: Some("src/lib.rs".into()),
            line: Some(42),
        }];
    });
    env.wait_status(ID, &["changes_requested"]);
    w.wait_pane("the review nudge", |t| {
        t.contains("Please rename foo to bar.")
    });
    let text = w.pane_text();
    assert!(
        text.contains("reviewer requested changes on PR #12"),
        "{text}"
    );
    assert!(text.contains("src/lib.rs:42 (@reviewer-ann)"), "{text}");
    let get = env.ok(&["get", ID]);
    assert_eq!(field(&get, "ci"), "passing");
    assert_eq!(field(&get, "review"), "changes_requested");
    assert_eq!(field(&get, "blockers"), "changes requested");
    assert_eq!(field(&get, "open comments"), "1");

    // Merged (it leaves the open list and is fetched by number): a notification.
    gh.update(REPO, 12, true, |p| {
        p.state = "MERGED".into();
        p.review_decision = Some("APPROVED".into());
        p.threads.clear();
    });
    env.wait_status(ID, &["merged"]);
    let merged = w.wait_hook("reaction.all-complete", 1);
    assert_eq!(merged[0]["priority"], "info");
    assert!(
        merged[0]["message"].as_str().unwrap().contains("PR #12"),
        "{merged:?}"
    );
    assert!(env.ok(&["ls"]).contains("#12 merged"));
    let session = env.json(&["get", ID]);
    assert_eq!(session["session_state"], "idle");
    assert_eq!(session["session_reason"], "merged_waiting_decision");
}

#[test]
fn a_rate_limited_poller_waits_for_the_reset() {
    let w = world();
    let (gh, env) = (&w.gh, &w.env);
    gh.open_pr(REPO, 12, BRANCH);
    env.wait_status(ID, &["pr_open"]);

    let reset = now_ms() / 1000 + 4;
    gh.script(Scripted {
        path_contains: "/pulls".into(),
        status: 403,
        headers: vec![
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
        ],
        body: r#"{"message": "API rate limit exceeded"}"#.into(),
        times: Some(1),
    });
    let limited_at = wait_for("the 403", SLOW, || {
        gh.requests()
            .iter()
            .find(|l| l.status == 403)
            .map(|l| l.at_ms)
            .ok_or_else(|| gh.dump())
    });
    let resumed = wait_for("polling to resume", SLOW, || {
        gh.requests()
            .into_iter()
            .find(|l| l.at_ms > limited_at)
            .ok_or_else(|| "no request yet".to_owned())
    });
    assert!(
        resumed.at_ms >= reset * 1000 - 100,
        "a request at {} ms, before the reset at {} s:\n{}",
        resumed.at_ms,
        reset,
        gh.dump()
    );
    let log = std::fs::read_to_string(env.log_path()).unwrap();
    assert!(
        log.contains("GitHub rate limit: SCM requests paused"),
        "{}",
        env.log_tail(40)
    );
    // And it goes on polling normally.
    w.wait_polls(2);
    assert_eq!(env.status(ID), "pr_open");
}

#[test]
fn a_server_error_keeps_the_previous_pr_state() {
    let w = world();
    let (gh, env) = (&w.gh, &w.env);
    gh.open_pr(REPO, 12, BRANCH);
    w.set_checks(vec![Check::running(101, "build")]);
    let before = env.wait_status(ID, &["pr_open"]);
    let observed = before["scm"]["observed_at"].clone();
    assert!(observed.is_string(), "{before}");

    // While listing fails with 500, CI turns red: nothing changes for ao.
    gh.script(Scripted {
        path_contains: "/pulls".into(),
        status: 500,
        headers: vec![],
        body: r#"{"message": "Server Error"}"#.into(),
        times: None,
    });
    gh.set_log(101, "error: hidden\n");
    w.set_checks(vec![Check::done(101, "build", "failure")]);
    let failures = |gh: &FakeGitHub| gh.requests().iter().filter(|l| l.status == 500).count();
    wait_for("three failed polls", SLOW, || {
        if failures(gh) >= 3 {
            Ok(())
        } else {
            Err(gh.dump())
        }
    });
    let during = env.json(&["get", ID]);
    assert_eq!(during["status"], "pr_open");
    assert_eq!(during["pr"]["state"], "open");
    assert_eq!(during["scm"]["observed_at"], observed, "snapshot untouched");

    // The same with failing PR details (GraphQL).
    gh.clear_scripts();
    gh.script(Scripted {
        path_contains: "/graphql".into(),
        status: 502,
        headers: vec![],
        body: "bad gateway".into(),
        times: None,
    });
    gh.update(REPO, 12, true, |_| {});
    let start = gh.count("/graphql");
    wait_for("three failed detail requests", SLOW, || {
        if gh.count("/graphql") >= start + 3 {
            Ok(())
        } else {
            Err(gh.dump())
        }
    });
    assert_eq!(env.status(ID), "pr_open");
    let log = std::fs::read_to_string(env.log_path()).unwrap();
    assert!(
        log.contains("keeping the previous PR state"),
        "{}",
        env.log_tail(40)
    );

    gh.clear_scripts();
    env.wait_status(ID, &["ci_failed"]);
    w.wait_pane("the CI nudge", |t| t.contains("error: hidden"));
}

#[test]
fn doctor_reports_a_missing_github_token() {
    let gh = FakeGitHub::start();
    let mut env = TestEnv::with_config(&config(&gh));
    // No token variables, and a `gh` that is not logged in.
    let bin = env.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake_gh = bin.join("gh");
    std::fs::write(
        &fake_gh,
        "#!/bin/sh\necho 'not logged in to any hosts' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.env_remove = vec!["AO_GITHUB_TOKEN".into(), "GITHUB_TOKEN".into()];
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.env.push(("PATH".into(), path));
    let repo = github_repo();
    env.start_daemon();
    wait_for("the disabled line", SLOW, || {
        let log = std::fs::read_to_string(env.log_path()).unwrap_or_default();
        if log.contains("SCM observer disabled") {
            Ok(())
        } else {
            Err(env.log_tail(20))
        }
    });
    // Without a GitHub project the token is not needed.
    let out = env.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("github token"))
        .unwrap_or_else(|| panic!("no github token line:\n{text}"));
    assert!(line.trim_start().starts_with("ok"), "{line}");
    assert!(line.contains("no project has a GitHub origin"), "{line}");

    env.add_project("demo", &repo.path);
    let out = env.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("github token"))
        .unwrap_or_else(|| panic!("no github token line:\n{text}"));
    assert!(line.trim_start().starts_with("FAIL"), "{line}");
    assert!(line.contains("AO_GITHUB_TOKEN"), "{line}");
    assert!(line.contains("not logged in to any hosts"), "{line}");
    assert!(
        line.contains("PR tracking is disabled for demo (acme/widgets)"),
        "{line}"
    );
    assert!(!out.status.success());
    let log = std::fs::read_to_string(env.log_path()).unwrap();
    assert_eq!(log.matches("SCM observer disabled").count(), 1);
    assert!(gh.requests().is_empty(), "{}", gh.dump());
}
