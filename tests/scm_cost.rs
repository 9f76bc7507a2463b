//! Measurement (not a pass/fail test): GitHub requests per hour for 50 sessions with open PRs
//! whose state does not change. Runs the real SCM observer and the real GitHub adapter against
//! the fake GitHub for one simulated hour (120 polls at the default 30 s interval, the clock
//! advanced by hand) and prints the request count by kind.
//!
//! `cargo test --release --test scm_cost -- --ignored --nocapture`

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use ao::decide::reactions::ReactionPolicies;
use ao::domain::{Metadata, Project, ProjectId, ProjectSettings, SessionKind, Timestamp};
use ao::lifecycle::{Lcm, NewSessionSpec, SpawnInitiation, Wakeups};
use ao::ports::{Clock, Store};
use ao::scm::{PollOutcome, SCM_POLL_INTERVAL, ScmObserver};
use ao_adapters::github::{GitHubClient, GitHubOptions, TokenSource};
use ao_adapters::process::SystemRunner;
use ao_testkit::fakes::MemoryStore;
use ao_testkit::github::{Check, FakeGitHub};
use ao_testkit::now_ms;

const SESSIONS: u64 = 50;
const POLLS_PER_HOUR: u64 = 3600 / SCM_POLL_INTERVAL.as_secs();

/// A clock moved by the test.
struct SteppedClock(AtomicI64);

impl Clock for SteppedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// Requests of the fake's log from `from` on, by kind: (fresh, 304).
fn tally(gh: &FakeGitHub, from: usize) -> BTreeMap<&'static str, (u64, u64)> {
    let mut kinds: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for l in &gh.requests()[from..] {
        let kind = if l.request.path.contains("/pulls") {
            "open-PR list"
        } else if l.request.path.contains("/check-runs") {
            "check runs"
        } else if l.request.path == "/graphql" {
            "GraphQL details"
        } else {
            "job logs"
        };
        let entry = kinds.entry(kind).or_default();
        if l.status == 304 {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    kinds
}

#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn github_requests_per_hour_for_50_unchanged_prs() {
    let gh = FakeGitHub::start();
    for n in 1..=SESSIONS {
        gh.open_pr("acme/widgets", n, &format!("ao/demo-{n}"));
        gh.update("acme/widgets", n, false, |p| {
            p.checks = vec![Check::done(1000 + n, "build", "success")];
        });
    }
    let repo = tempfile::tempdir().unwrap();
    for args in [
        vec!["init", "--quiet"],
        vec!["remote", "add", "origin", "git@github.com:acme/widgets.git"],
    ] {
        let ok = Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(&args)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clock = Arc::new(SteppedClock(AtomicI64::new(now_ms())));
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let lcm = Arc::new(Lcm::new(
            store.clone(),
            store.clone(),
            clock.clone(),
            ReactionPolicies::default(),
            Arc::new(Wakeups::default()),
        ));
        let project = ProjectId::parse("demo").unwrap();
        store
            .add_project(&Project {
                id: project.clone(),
                repo_path: repo.path().to_path_buf(),
                default_agent: None,
                base_branch: None,
                settings: ProjectSettings::default(),
                created_at: clock.now(),
            })
            .await
            .unwrap();
        for n in 1..=SESSIONS {
            lcm.on_spawn_initiated(SpawnInitiation::Create(NewSessionSpec {
                project_id: project.clone(),
                issue_id: None,
                kind: SessionKind::Worker,
                agent: "command".into(),
                branch: format!("ao/demo-{n}"),
                prompt: String::new(),
                spawn_request_id: None,
                extra_metadata: Metadata::new(),
            }))
            .await
            .unwrap();
        }
        let runner = Arc::new(SystemRunner);
        let github = Arc::new(
            GitHubClient::new(
                GitHubOptions {
                    api_url: gh.url(),
                    graphql_url: format!("{}/graphql", gh.url()),
                    ..GitHubOptions::default()
                },
                TokenSource::new(|_| Some("test-token".into()), runner.clone(), "github.com"),
                runner,
                clock.clone(),
            )
            .unwrap(),
        );
        let observer = ScmObserver::new(lcm, store, github, clock.clone(), SCM_POLL_INTERVAL);

        let cold = Instant::now();
        let first = observer.poll_once().await;
        let cold = cold.elapsed();
        let PollOutcome::Polled(report) = first else {
            panic!("first poll: {first:?}");
        };
        assert_eq!(report.applied.len(), SESSIONS as usize);
        let cold_requests = gh.requests().len();

        let start = gh.requests().len();
        let warm = Instant::now();
        for _ in 0..POLLS_PER_HOUR {
            clock
                .0
                .fetch_add(SCM_POLL_INTERVAL.as_millis() as i64, Ordering::SeqCst);
            let outcome = observer.poll_once().await;
            assert!(
                matches!(&outcome, PollOutcome::Polled(r) if r.applied.is_empty()),
                "{outcome:?}"
            );
        }
        let warm = warm.elapsed();
        let kinds = tally(&gh, start);
        let total: u64 = kinds.values().map(|(a, b)| a + b).sum();
        let charged: u64 = kinds.values().map(|(a, _)| a).sum();
        println!(
            "\n{SESSIONS} sessions with unchanged open PRs, one simulated hour ({POLLS_PER_HOUR} polls every {}s)",
            SCM_POLL_INTERVAL.as_secs()
        );
        println!(
            "first (cold) poll: {cold_requests} requests, {:.0} ms",
            cold.as_secs_f64() * 1000.0
        );
        println!("{:<16} {:>8} {:>8}", "kind", "fresh", "304");
        for (kind, (fresh, not_modified)) in &kinds {
            println!("{kind:<16} {fresh:>8} {not_modified:>8}");
        }
        println!(
            "total {total} HTTP requests/hour; {charged} count against the quota (304s are free)"
        );
        println!(
            "mean poll: {:.1} ms of wall time against the loopback fake",
            warm.as_secs_f64() * 1000.0 / POLLS_PER_HOUR as f64
        );
        assert!(
            charged < 1000,
            "quota cost per hour should be well under 1000"
        );
    });
}
