//! What GitHub polling costs, with the real SCM observer and the real GitHub adapter against
//! the fake GitHub, the clock moved by hand:
//!
//! - the guarantee (a test): however much changes, ao spends at most `max_quota_share` of each
//!   rate-limit window, then pauses until the window resets and polls again;
//! - a measurement (not a pass/fail test): GitHub requests per hour for 50 sessions with open
//!   PRs whose state does not change, one simulated hour (120 polls at the default 30 s
//!   interval), printed by kind:
//!   `cargo test --release --test scm_cost -- --ignored --nocapture`

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use ao::decide::reactions::ReactionPolicies;
use ao::domain::{Metadata, Project, ProjectId, ProjectSettings, SessionKind, Timestamp};
use ao::lifecycle::{Lcm, NewSessionSpec, SpawnInitiation, Wakeups};
use ao::ports::{Backend, Clock};
use ao::scm_observer::{PollOutcome, SCM_POLL_INTERVAL, ScmObserver};
use ao_adapters::github::{GitHubClient, GitHubOptions, TokenSource};
use ao_adapters::process::SystemRunner;
use ao_testkit::fakes::MemoryStore;
use ao_testkit::github::{Check, FakeGitHub};
use ao_testkit::http::Exchange;
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

impl SteppedClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

/// The rate-limit resource a request to the fake counts against.
fn resource(l: &Exchange) -> &'static str {
    if l.request.path == "/graphql" {
        "graphql"
    } else {
        "core"
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

/// The real observer over the real GitHub adapter, pointed at `gh`, with `sessions` running
/// sessions on branches `ao/demo-1…` of a repository whose origin is `acme/widgets`.
struct Poller {
    observer: ScmObserver,
    clock: Arc<SteppedClock>,
    _repo: tempfile::TempDir,
}

impl Poller {
    async fn start(gh: &FakeGitHub, sessions: u64, max_quota_share: f64, start_ms: i64) -> Self {
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
        let clock = Arc::new(SteppedClock(AtomicI64::new(start_ms)));
        let store: Arc<dyn Backend> = Arc::new(MemoryStore::new());
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
        for n in 1..=sessions {
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
                    max_quota_share,
                    ..GitHubOptions::default()
                },
                TokenSource::new(|_| Some("test-token".into()), runner.clone(), "github.com"),
                runner,
                clock.clone(),
            )
            .unwrap(),
        );
        let observer = ScmObserver::new(lcm, store, github, clock.clone(), SCM_POLL_INTERVAL);
        Self {
            observer,
            clock,
            _repo: repo,
        }
    }
}

/// Worst case for the quota: every PR changes before every poll (new check runs, a push), so
/// no answer is a free `304`. With a window of 40 requests per resource and the default share
/// of one half, ao spends exactly 20 core requests in each window (the last poll stops part
/// way, several check-runs requests in flight at once), sends nothing more until the reset,
/// and polls again in the next window.
#[test]
fn ao_spends_at_most_its_share_of_each_rate_limit_window() {
    const PRS: u64 = 10;
    const LIMIT: u64 = 40;
    const SHARE: f64 = 0.5;
    const WINDOW: Duration = Duration::from_secs(600);
    const WINDOWS: usize = 3;
    let budget = (SHARE * LIMIT as f64).ceil() as u64;
    let gh = FakeGitHub::start();
    for n in 1..=PRS {
        gh.open_pr("acme/widgets", n, &format!("ao/demo-{n}"));
    }
    // Windows start on a whole second: GitHub names their ends in epoch seconds.
    let start = now_ms() / 1000 * 1000;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let poller = Poller::start(&gh, PRS, SHARE, start).await;
        let mut change = 0;
        for window in 0..WINDOWS {
            let ends = start + (window as i64 + 1) * WINDOW.as_millis() as i64;
            gh.set_rate_window(LIMIT, ends / 1000);
            let first_request = gh.requests().len();
            let mut outcomes = vec![];
            for _ in 0..WINDOW.as_secs() / SCM_POLL_INTERVAL.as_secs() {
                change += 1;
                for n in 1..=PRS {
                    gh.update("acme/widgets", n, true, |p| {
                        p.checks = vec![Check::done(change * 1000 + n, "build", "success")];
                    });
                }
                outcomes.push(poller.observer.poll_once().await);
                poller.clock.advance(SCM_POLL_INTERVAL);
            }
            let mut charged: BTreeMap<&str, u64> = BTreeMap::new();
            for l in &gh.requests()[first_request..] {
                if l.status != 304 {
                    *charged.entry(resource(l)).or_default() += 1;
                }
            }
            for (resource, spent) in &charged {
                assert!(
                    *spent <= budget,
                    "window {window}: {spent} {resource} requests charged, more than {SHARE} of \
                     {LIMIT}:\n{}",
                    gh.dump()
                );
            }
            assert_eq!(
                charged.get("core"),
                Some(&budget),
                "window {window}: the share is spent in full (the test pushes that far)"
            );
            let polled = outcomes
                .iter()
                .take_while(|o| matches!(o, PollOutcome::Polled(_)))
                .count();
            assert!(
                polled >= 1,
                "window {window} starts with a poll: {outcomes:?}"
            );
            let until = Timestamp::from_millis(ends);
            assert!(
                outcomes[polled..]
                    .iter()
                    .all(|o| *o == PollOutcome::Paused(until)),
                "window {window}: paused until its reset once the share is spent: {outcomes:?}"
            );
            assert!(polled < outcomes.len(), "window {window} ends paused");
        }
    });
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
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let share = GitHubOptions::default().max_quota_share;
        let poller = Poller::start(&gh, SESSIONS, share, now_ms()).await;
        let (observer, clock) = (&poller.observer, &poller.clock);

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
            clock.advance(SCM_POLL_INTERVAL);
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
