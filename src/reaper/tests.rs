//! Reaper scenarios (N1–N10, V1, V5, V8) with a fake runtime and the real LCM over the in-memory
//! store.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tracing::Level;

use super::*;
use crate::decide::reactions::ReactionPolicies;
use crate::domain::{
    ProbeResult, ReactionKey, RuntimeState, SessionReason, SessionRecord, SessionState, Tracker,
};
use crate::fixtures::{detecting_lc, lc, mins, secs, stuck_lc, t0, with_handle};
use crate::lifecycle::Wakeups;
use crate::ports::Backend;
use crate::testing::MemoryStore;
use crate::testing::{FakeRuntime, Journal, ManualClock, ScriptedRecords};

struct Setup {
    store: Arc<dyn Backend>,
    records: Arc<ScriptedRecords>,
    runtime: Arc<FakeRuntime>,
    journal: Journal,
    reaper: Arc<Reaper>,
}

fn setup(interval: Duration) -> Setup {
    let store: Arc<dyn Backend> = Arc::new(MemoryStore::new());
    let journal = Journal::default();
    let records = ScriptedRecords::new(store.clone());
    *records.journal.lock().unwrap() = Some(journal.clone());
    let clock = ManualClock::new(t0());
    let lcm = Arc::new(Lcm::new(
        records.clone(),
        store.clone(),
        clock.clone(),
        ReactionPolicies::default(),
        Arc::new(Wakeups::default()),
    ));
    let runtime = FakeRuntime::with_journal(journal.clone());
    let reaper = Arc::new(Reaper::new(lcm, runtime.clone(), clock, interval));
    Setup {
        store,
        records,
        runtime,
        journal,
        reaper,
    }
}

fn numbered(mut r: SessionRecord, n: u64) -> SessionRecord {
    r.num = n;
    r.id = SessionId::parse(&format!("proj-{n}")).unwrap();
    with_handle(r)
}

fn working(n: u64) -> SessionRecord {
    numbered(
        lc(
            SessionState::Working,
            SessionReason::TaskInProgress,
            RuntimeState::Alive,
        ),
        n,
    )
}

fn sid(n: u64) -> SessionId {
    SessionId::parse(&format!("proj-{n}")).unwrap()
}

/// N1, V8: escalations, then the listing, then one probe, then the observations.
#[tokio::test]
async fn n1_one_tick_in_order() {
    let s = setup(REAPER_TICK);
    let mut rec = numbered(detecting_lc(), 1);
    rec.lifecycle.detecting = None;
    rec.lifecycle.session.state = SessionState::Detecting;
    s.store.seed(rec).await.unwrap();
    s.runtime
        .set_probe("proj-1", ProbeResult::Alive, ProbeResult::Alive);
    let due = Tracker {
        session_id: sid(1),
        key: ReactionKey::ChangesRequested,
        project_id: crate::domain::ProjectId::parse("proj").unwrap(),
        attempts: 1,
        first_attempt_at: Some(t0().minus(mins(31))),
        escalated: false,
        last_signature: None,
    };
    s.store.save_tracker(&due).await.unwrap();
    let report = s.reaper.tick(t0()).await;
    assert_eq!(report.escalated, 1, "escalations run first in the tick");
    assert_eq!(report.probed, [sid(1)]);
    let journal = s.journal.lock().unwrap().clone();
    assert_eq!(
        journal,
        ["list_running", "runtime.probe_all 1", "commit proj-1"]
    );
    // N2: the live pane recovered the detecting session.
    let r = s.store.load(&sid(1)).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.session.state, SessionState::Working);
}

/// N3, N5, V1: one probe for all sessions; facts in id order; absent panes are dead.
#[tokio::test]
async fn n3_n5_v1_one_probe_for_many_sessions() {
    let s = setup(REAPER_TICK);
    for n in 1..=50 {
        s.store.seed(working(n)).await.unwrap();
        if n != 1 {
            s.runtime
                .set_probe(&format!("proj-{n}"), ProbeResult::Alive, ProbeResult::Alive);
        }
    }
    let report = s.reaper.tick(t0()).await;
    assert_eq!(
        s.runtime.probe_calls.load(Ordering::SeqCst),
        1,
        "exactly one runtime call"
    );
    assert_eq!(report.probed.len(), 50);
    let mut sorted = report.probed.clone();
    sorted.sort();
    assert_eq!(report.probed, sorted, "id order");
    let dead = s.store.load(&sid(1)).await.unwrap().unwrap();
    assert_eq!(
        dead.lifecycle.runtime.state,
        RuntimeState::Exited,
        "absent pane → dead"
    );
    assert_eq!(
        s.runtime
            .journal
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.starts_with("runtime."))
            .count(),
        1
    );
}

/// N4, V5: a hanging probe is `failed` for everyone; three ticks → stuck; never more than one
/// `agent-stuck` reaction (checked through the queued reaction rows).
#[tokio::test]
async fn n4_v5_hanging_probe_is_failed_not_dead() {
    let s = setup(REAPER_TICK);
    for n in 1..=3 {
        s.store.seed(working(n)).await.unwrap();
    }
    s.runtime.hang_probes(Duration::from_millis(1));
    for tick in 0..13 {
        s.reaper.tick(t0().plus(secs(5 * tick))).await;
        if tick == 2 {
            for n in 1..=3 {
                let r = s.store.load(&sid(n)).await.unwrap().unwrap();
                assert_eq!(
                    (r.lifecycle.session.state, r.lifecycle.session.reason),
                    (SessionState::Stuck, SessionReason::ProbeFailure)
                );
            }
        }
    }
    for n in 1..=3 {
        let r = s.store.load(&sid(n)).await.unwrap().unwrap();
        assert_eq!(r.lifecycle.session.state, SessionState::Stuck, "never dead");
        let mut stuck_rows = 0;
        while let Some(row) = s.store.next_reaction(&sid(n)).await.unwrap() {
            if row.key == ReactionKey::AgentStuck {
                stuck_rows += 1;
            }
            s.store.delete_reaction(row.seq).await.unwrap();
        }
        assert_eq!(stuck_rows, 1, "exactly one agent-stuck per session");
    }
}

/// N6, R10: a fast loop ticks repeatedly and stops promptly on cancellation.
#[tokio::test]
async fn n6_loop_ticks_and_stops() {
    let s = setup(Duration::from_millis(5));
    s.store.seed(working(1)).await.unwrap();
    s.runtime
        .set_probe("proj-1", ProbeResult::Alive, ProbeResult::Alive);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(s.reaper.clone().run(cancel.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.runtime.probe_calls.load(Ordering::SeqCst) < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loop did not tick twice"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("the loop exits within 1s of cancellation")
        .unwrap();
}

/// N7, N8, N9: unsupported runtime, missing handle, spawn in progress → no fact.
#[tokio::test]
async fn n7_n8_n9_sessions_that_are_not_probed() {
    let s = setup(REAPER_TICK);
    let mut zellij = working(1);
    zellij
        .metadata
        .insert(crate::domain::meta::RUNTIME_NAME.into(), "zellij".into());
    s.store.seed(zellij).await.unwrap();
    let mut no_handle = working(2);
    no_handle.metadata.clear();
    s.store.seed(no_handle).await.unwrap();
    let mut restoring = working(3);
    restoring.launch.started_at = None;
    s.store.seed(restoring).await.unwrap();
    let report = s.reaper.tick(t0()).await;
    assert!(report.probed.is_empty());
    assert_eq!(
        s.runtime.probe_calls.load(Ordering::SeqCst),
        0,
        "N10: no runtime call"
    );
    assert_eq!(s.records.commits.load(Ordering::SeqCst), 0);
}

/// N10: no running sessions → no runtime process at all.
#[tokio::test]
async fn n10_nothing_running() {
    let s = setup(REAPER_TICK);
    let mut done = working(1);
    done.lifecycle.session.state = SessionState::Terminated;
    s.store.seed(done).await.unwrap();
    s.reaper.tick(t0()).await;
    assert_eq!(s.runtime.probe_calls.load(Ordering::SeqCst), 0);
    assert_eq!(s.journal.lock().unwrap().clone(), ["list_running"]);
}

/// One failing session never stops the tick.
#[tokio::test]
async fn a_failing_session_does_not_stop_the_tick() {
    let s = setup(REAPER_TICK);
    for n in 1..=3 {
        s.store.seed(working(n)).await.unwrap();
        s.runtime
            .set_probe(&format!("proj-{n}"), ProbeResult::Alive, ProbeResult::Dead);
    }
    s.records.always_conflict.store(true, Ordering::SeqCst);
    let report = s.reaper.tick(t0()).await;
    assert_eq!(report.failed.len(), 3, "every session was attempted");
}

/// Steady state costs no per-session store read: the plan on the listed snapshot is a no-op.
/// A change still goes through the full pipeline (load + compare-and-swap).
#[tokio::test]
async fn steady_state_ticks_do_not_reload_records() {
    let s = setup(REAPER_TICK);
    for n in 1..=50 {
        s.store.seed(working(n)).await.unwrap();
        s.runtime
            .set_probe(&format!("proj-{n}"), ProbeResult::Alive, ProbeResult::Alive);
    }
    let report = s.reaper.tick(t0()).await;
    assert_eq!(report.probed.len(), 50);
    assert_eq!(
        s.records.loads.load(Ordering::SeqCst),
        0,
        "no record was reloaded"
    );
    assert_eq!(s.records.commits.load(Ordering::SeqCst), 0);

    s.runtime
        .set_probe("proj-7", ProbeResult::Alive, ProbeResult::Dead);
    s.reaper.tick(t0().plus(secs(5))).await;
    assert_eq!(
        s.records.loads.load(Ordering::SeqCst),
        1,
        "only the changed session"
    );
    assert_eq!(s.records.commits.load(Ordering::SeqCst), 1);
    let r = s.store.load(&sid(7)).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.session.state, SessionState::Detecting);
}

/// A store that cannot be read stretches the tick (1, 2, 4, … s, at most 30 s) and is logged
/// once, not once per tick; the first good tick says so and restores the tick.
#[tokio::test(start_paused = true)]
async fn a_failing_store_stretches_the_tick_and_is_logged_once() {
    let (logs, _guard) = crate::testing::LogCapture::install();
    let s = setup(Duration::from_secs(1));
    s.store.seed(working(1)).await.unwrap();
    s.runtime
        .set_probe("proj-1", ProbeResult::Alive, ProbeResult::Alive);
    s.records.fail_reads.store(true, Ordering::SeqCst);
    let start = tokio::time::Instant::now();
    let ticks = Arc::new(std::sync::Mutex::new(vec![]));
    let cancel = CancellationToken::new();
    let task = tokio::spawn(s.reaper.clone().run(cancel.clone()));
    let listed = || {
        s.journal
            .lock()
            .unwrap()
            .iter()
            .filter(|e| *e == "list_running")
            .count()
    };
    // Note when each tick listed the sessions, for 61.5 s of failures, then heal the store.
    while start.elapsed() < Duration::from_millis(61_500) {
        let before = listed();
        tokio::time::sleep(Duration::from_millis(100)).await;
        if listed() > before {
            ticks.lock().unwrap().push(start.elapsed().as_secs());
        }
    }
    s.records.fail_reads.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    cancel.cancel();
    task.await.unwrap();
    assert_eq!(
        *ticks.lock().unwrap(),
        [1, 2, 4, 8, 16, 32],
        "the waits double while the store fails"
    );
    assert_eq!(
        listed(),
        9,
        "after the good tick at 62 s, ticks every second again"
    );
    let failed = logs.matching(Level::WARN, "reaper: listing running sessions failed");
    assert_eq!(failed.len(), 1, "{:?}", logs.lines());
    assert!(failed[0].contains("injected read failure"), "{}", failed[0]);
    assert_eq!(
        logs.matching(Level::INFO, "reaper: the store works again")
            .len(),
        1
    );
}

/// The whole tmux server gone (killed under the daemon): every session's runtime is lost in
/// one tick, however recent its activity and whatever quarantine it was in; it shows
/// `terminated` (nobody killed it) and can be restored.
#[tokio::test]
async fn a_gone_server_ends_every_session_in_one_tick() {
    let s = setup(REAPER_TICK);
    let mut active = working(1);
    active.lifecycle.activity = crate::domain::ActivityAxis {
        state: Some(crate::domain::ActivityState::Active),
        last_activity_at: Some(t0()),
        source: crate::domain::ActivitySource::Terminal,
    };
    let mut detecting = numbered(detecting_lc(), 2);
    detecting.lifecycle.activity = active.lifecycle.activity;
    let stuck = numbered(stuck_lc(SessionReason::ProbeFailure), 3);
    let gone = crate::ports::PaneProbe {
        runtime: ProbeResult::Dead,
        process: ProbeResult::Indeterminate,
        pane_exit_status: None,
        agent_exit: None,
        server_gone: true,
    };
    for record in [active, detecting, stuck] {
        let handle = record.id.to_string();
        s.store.seed(record).await.unwrap();
        s.runtime.set_pane_probe(&handle, gone);
    }
    let report = s.reaper.tick(t0()).await;
    assert_eq!(report.probed, [sid(1), sid(2), sid(3)]);
    for n in 1..=3 {
        let r = s.store.load(&sid(n)).await.unwrap().unwrap();
        assert_eq!(
            (r.lifecycle.session.state, r.lifecycle.session.reason),
            (SessionState::Terminated, SessionReason::RuntimeLost),
            "proj-{n}"
        );
        assert_eq!(r.lifecycle.detecting, None);
        assert!(r.is_terminal(), "restore takes terminal sessions");
        assert_eq!(
            crate::domain::derive_status_static(&r.lifecycle),
            crate::domain::Status::Terminated,
            "proj-{n} was not killed by anyone"
        );
    }
}
