//! The process reap after `kill-session`, so background processes do not outlive their session.
//!
//! `kill-session` only hangs up the pane's foreground process; a dev server the agent started
//! in the background would keep its port. Each pane process leads its own process session, so
//! every process whose session id is a pane pid is sent TERM, polled every 50 ms, and sent KILL
//! once the grace has passed. The spec does this with `pkill -s`/`pgrep -s`; procps is often
//! missing from minimal images, so this reads `/proc` and signals with `kill(2)` instead.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::procfs::ProcFs;

/// How often the reap looks for survivors.
const POLL: Duration = Duration::from_millis(50);

/// Finding and signalling processes; a trait so the reap's timing can be tested without
/// signalling anything real.
pub trait ProcessControl: Send + Sync + fmt::Debug {
    /// Running processes whose session id is one of `sessions`.
    fn session_members(&self, sessions: &[u32]) -> io::Result<Vec<u32>>;

    /// Sends `signal` to `pid`; a process that is already gone is not an error.
    fn signal(&self, pid: u32, signal: Signal) -> io::Result<()>;
}

/// The real processes of this machine, seen through a `/proc` tree.
#[derive(Debug, Clone)]
pub struct SystemProcesses {
    proc: ProcFs,
}

impl SystemProcesses {
    pub fn new(proc: ProcFs) -> Self {
        Self { proc }
    }
}

impl ProcessControl for SystemProcesses {
    fn session_members(&self, sessions: &[u32]) -> io::Result<Vec<u32>> {
        self.proc.session_members(sessions)
    }

    fn signal(&self, pid: u32, signal: Signal) -> io::Result<()> {
        let pid = i32::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(errno) => Err(io::Error::from(errno)),
        }
    }
}

/// Pane pids from `list-panes -F #{pane_pid}` output: empty lines, unparsable values and
/// pids ≤ 1 are dropped.
pub fn parse_pane_pids(text: &str) -> Vec<u32> {
    text.lines()
        .filter_map(|line| line.trim().parse::<u32>().ok())
        .filter(|pid| *pid > 1)
        .collect()
}

async fn members(control: &Arc<dyn ProcessControl>, sessions: &[u32]) -> io::Result<Vec<u32>> {
    let control = Arc::clone(control);
    let sessions = sessions.to_vec();
    tokio::task::spawn_blocking(move || control.session_members(&sessions))
        .await
        .map_err(io::Error::other)?
}

fn signal_all(control: &Arc<dyn ProcessControl>, pids: &[u32], signal: Signal) {
    for pid in pids {
        if let Err(e) = control.signal(*pid, signal) {
            tracing::warn!(pid, ?signal, error = %e, "reap: cannot signal");
        }
    }
}

/// TERM every process of the given process sessions, wait up to `grace` for them to exit
/// (polling every 50 ms), then KILL the survivors. Best effort: when processes cannot be
/// listed (no `/proc`) it logs and returns at once.
pub async fn reap_sessions(control: &Arc<dyn ProcessControl>, sessions: &[u32], grace: Duration) {
    if sessions.is_empty() {
        return;
    }
    let mut left = match members(control, sessions).await {
        Ok(left) => left,
        Err(e) => {
            tracing::warn!(?sessions, error = %e, "reap: cannot list processes; skipped");
            return;
        }
    };
    if left.is_empty() {
        return;
    }
    signal_all(control, &left, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        tokio::time::sleep(POLL).await;
        match members(control, sessions).await {
            Ok(now) if now.is_empty() => return,
            Ok(now) => left = now,
            // A passing failure must not spare the survivors: the last listing gets the KILL.
            Err(e) => tracing::warn!(?sessions, error = %e, "reap: cannot list processes"),
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
    }
    tracing::info!(?sessions, survivors = ?left, "reap: grace passed, sending KILL");
    signal_all(control, &left, Signal::SIGKILL);
}

#[cfg(test)]
pub(crate) mod fake {
    //! A recording process table for reap tests.

    use std::sync::Mutex;

    use super::*;

    /// Answers `session_members` with `script(call_number)` and records every call.
    pub struct FakeProcesses {
        script: Box<dyn Fn(usize) -> io::Result<Vec<u32>> + Send + Sync>,
        pub lookups: Mutex<Vec<Vec<u32>>>,
        pub signals: Mutex<Vec<(u32, Signal)>>,
    }

    impl fmt::Debug for FakeProcesses {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("FakeProcesses").finish_non_exhaustive()
        }
    }

    impl FakeProcesses {
        pub fn new(script: impl Fn(usize) -> io::Result<Vec<u32>> + Send + Sync + 'static) -> Self {
            Self {
                script: Box::new(script),
                lookups: Mutex::default(),
                signals: Mutex::default(),
            }
        }

        pub fn signal_names(&self) -> Vec<Signal> {
            self.signals
                .lock()
                .unwrap()
                .iter()
                .map(|(_, s)| *s)
                .collect()
        }
    }

    impl ProcessControl for FakeProcesses {
        fn session_members(&self, sessions: &[u32]) -> io::Result<Vec<u32>> {
            let mut lookups = self.lookups.lock().unwrap();
            lookups.push(sessions.to_vec());
            (self.script)(lookups.len() - 1)
        }

        fn signal(&self, pid: u32, signal: Signal) -> io::Result<()> {
            self.signals.lock().unwrap().push((pid, signal));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeProcesses;
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    fn control(fake: &Arc<FakeProcesses>) -> Arc<dyn ProcessControl> {
        Arc::clone(fake) as Arc<dyn ProcessControl>
    }

    #[test]
    fn o16_pane_pid_parsing() {
        assert_eq!(parse_pane_pids("4242\n4243\n\n1\n"), vec![4242, 4243]);
        assert_eq!(parse_pane_pids("x\n0\n 17 \n"), vec![17]);
    }

    #[tokio::test(start_paused = true)]
    async fn o29_exits_after_term_without_waiting_the_grace() {
        let fake = Arc::new(FakeProcesses::new(|n| {
            Ok(if n == 0 { vec![4242, 4250] } else { vec![] })
        }));
        let started = tokio::time::Instant::now();
        reap_sessions(&control(&fake), &[4242], GRACE).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            *fake.signals.lock().unwrap(),
            vec![(4242, Signal::SIGTERM), (4250, Signal::SIGTERM)]
        );
        assert_eq!(fake.lookups.lock().unwrap()[0], vec![4242]);
    }

    #[tokio::test(start_paused = true)]
    async fn o29_survivors_get_kill_after_the_grace() {
        let fake = Arc::new(FakeProcesses::new(|_| Ok(vec![4250])));
        let started = tokio::time::Instant::now();
        reap_sessions(&control(&fake), &[4242], GRACE).await;
        assert!(started.elapsed() >= GRACE);
        assert!(started.elapsed() < GRACE + Duration::from_secs(1));
        assert_eq!(fake.signal_names(), vec![Signal::SIGTERM, Signal::SIGKILL]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_listing_failure_after_term_still_ends_in_kill() {
        let fake = Arc::new(FakeProcesses::new(|n| match n {
            0 => Ok(vec![4250]),
            _ => Err(io::ErrorKind::Other.into()),
        }));
        reap_sessions(&control(&fake), &[4242], GRACE).await;
        assert_eq!(
            *fake.signals.lock().unwrap(),
            vec![(4250, Signal::SIGTERM), (4250, Signal::SIGKILL)]
        );
    }

    /// With nothing to do the reap returns at once (no time passes on the paused clock) and
    /// signals nothing: no pane pids (no lookup), nothing left in the sessions (one lookup),
    /// processes that cannot be listed, e.g. without `/proc` (one lookup, no retry, and a
    /// warning that the reap was skipped).
    #[tokio::test(start_paused = true)]
    async fn o29_nothing_to_do() {
        type Script = fn(usize) -> io::Result<Vec<u32>>;
        let cases: [(&str, &[u32], Script, usize, bool); 3] = [
            ("no pane pids", &[], |_| Ok(vec![1234]), 0, false),
            ("nothing left", &[4242], |_| Ok(vec![]), 1, false),
            (
                "cannot list",
                &[4242],
                |_| Err(io::ErrorKind::NotFound.into()),
                1,
                true,
            ),
        ];
        for (case, sessions, script, lookups, skipped) in cases {
            let (logs, _guard) = ao::testing::LogCapture::install();
            let fake = Arc::new(FakeProcesses::new(script));
            let started = tokio::time::Instant::now();
            reap_sessions(&control(&fake), sessions, GRACE).await;
            assert_eq!(started.elapsed(), Duration::ZERO, "{case}: returns at once");
            assert_eq!(fake.lookups.lock().unwrap().len(), lookups, "{case}");
            assert!(fake.signals.lock().unwrap().is_empty(), "{case}");
            let warned = logs.matching(tracing::Level::WARN, "cannot list processes; skipped");
            assert_eq!(!warned.is_empty(), skipped, "{case}: {:?}", logs.lines());
        }
    }

    #[tokio::test]
    async fn real_reap_kills_a_term_ignoring_process_session() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        // A new process session whose leader ignores TERM, with a background child.
        let mut leader = std::process::Command::new("setsid")
            .args(["sh", "-c", "trap '' TERM; sleep 1000 & wait"])
            .spawn()
            .unwrap();
        let sid = leader.id();
        let proc = ProcFs::new("/proc");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while proc.session_members(&[sid]).unwrap().len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "session never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let control: Arc<dyn ProcessControl> = Arc::new(SystemProcesses::new(proc.clone()));
        reap_sessions(&control, &[sid], Duration::from_millis(300)).await;
        leader.wait().unwrap();
        // KILL is delivered asynchronously: poll until the session is empty.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = proc.session_members(&[sid]).unwrap();
            if left.is_empty() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "survivors: {left:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
