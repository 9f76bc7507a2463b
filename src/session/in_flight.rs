//! Spawns in flight, by their request id: the step each is at (a client shows it while it
//! waits) and the cancellation a client may ask for. Nothing here is persisted; an entry lives
//! exactly as long as the call that runs the spawn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::domain::SessionId;
use crate::ports::SetupProgress;

/// The longest step text kept (a post-create command line is cut to it).
const MAX_STEP_CHARS: usize = 200;

/// What a client sees of a spawn in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnProgress {
    /// The session's id, once its record exists.
    pub session: Option<SessionId>,
    /// What the spawn is doing now, in plain words ("creating the worktree").
    pub step: String,
    /// A cancellation was asked for and the spawn is rolling back.
    pub cancelling: bool,
}

/// The spawns in flight.
#[derive(Debug, Default)]
pub struct SpawnsInFlight {
    by_request: Mutex<HashMap<String, Arc<SpawnInFlight>>>,
}

/// One spawn in flight.
#[derive(Debug)]
pub struct SpawnInFlight {
    state: Mutex<(Option<SessionId>, String)>,
    cancel: CancellationToken,
}

/// Removes its spawn's entry when the spawn's call ends, however it ends.
#[derive(Debug)]
pub struct InFlightGuard {
    spawns: Arc<SpawnsInFlight>,
    request_id: String,
    pub spawn: Arc<SpawnInFlight>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut map = self.spawns.by_request.lock().expect("in-flight spawns");
        if map
            .get(&self.request_id)
            .is_some_and(|s| Arc::ptr_eq(s, &self.spawn))
        {
            map.remove(&self.request_id);
        }
    }
}

impl SpawnsInFlight {
    /// Registers the spawn of `request_id`; `None` when a call with that id is already in
    /// flight (a retry, which waits for the first call's session and tracks nothing itself).
    pub fn register(self: &Arc<Self>, request_id: &str) -> Option<InFlightGuard> {
        let mut map = self.by_request.lock().expect("in-flight spawns");
        if map.contains_key(request_id) {
            return None;
        }
        let spawn = Arc::new(SpawnInFlight {
            state: Mutex::new((None, "checking the request".to_owned())),
            cancel: CancellationToken::new(),
        });
        map.insert(request_id.to_owned(), Arc::clone(&spawn));
        Some(InFlightGuard {
            spawns: Arc::clone(self),
            request_id: request_id.to_owned(),
            spawn,
        })
    }

    /// Where the spawn of `request_id` is; `None` when no such spawn is in flight.
    pub fn progress(&self, request_id: &str) -> Option<SpawnProgress> {
        let map = self.by_request.lock().expect("in-flight spawns");
        map.get(request_id).map(|spawn| spawn.progress())
    }

    /// Asks the spawn of `request_id` to stop and roll back. False when no such spawn is in
    /// flight (it finished, or never began).
    pub fn cancel(&self, request_id: &str) -> bool {
        let map = self.by_request.lock().expect("in-flight spawns");
        map.get(request_id).is_some_and(|spawn| {
            spawn.cancel.cancel();
            true
        })
    }
}

impl SpawnInFlight {
    fn progress(&self) -> SpawnProgress {
        let (session, step) = self.state.lock().expect("spawn state").clone();
        SpawnProgress {
            session,
            step,
            cancelling: self.cancel.is_cancelled(),
        }
    }

    pub fn set_session(&self, id: &SessionId) {
        self.state.lock().expect("spawn state").0 = Some(id.clone());
    }

    pub fn set_step(&self, step: impl Into<String>) {
        let mut step: String = step.into();
        if let Some((cut, _)) = step.char_indices().nth(MAX_STEP_CHARS) {
            step.truncate(cut);
            step.push('…');
        }
        self.state.lock().expect("spawn state").1 = step;
    }

    /// A project setup step in plain words.
    pub fn set_setup_step(&self, progress: SetupProgress<'_>) {
        match progress {
            SetupProgress::PlacingFiles => self.set_step("placing the project's files"),
            SetupProgress::PostCreate { index, total, argv } => {
                let command = argv.join(" ");
                self.set_step(format!("post-create {index}/{total}: {command}"));
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes once a cancellation is asked for.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawn_is_tracked_while_its_guard_lives() {
        let spawns = Arc::new(SpawnsInFlight::default());
        let guard = spawns.register("r1").expect("first registration");
        assert!(spawns.register("r1").is_none(), "a retry tracks nothing");
        let id = SessionId::parse("web-1").unwrap();
        guard.spawn.set_session(&id);
        guard.spawn.set_setup_step(SetupProgress::PostCreate {
            index: 1,
            total: 2,
            argv: &["npm".into(), "ci".into()],
        });
        assert_eq!(
            spawns.progress("r1"),
            Some(SpawnProgress {
                session: Some(id),
                step: "post-create 1/2: npm ci".into(),
                cancelling: false,
            })
        );
        assert!(!spawns.cancel("other"));
        assert!(spawns.cancel("r1"));
        assert!(guard.spawn.is_cancelled());
        assert!(spawns.progress("r1").unwrap().cancelling);
        drop(guard);
        assert_eq!(spawns.progress("r1"), None);
        assert!(!spawns.cancel("r1"), "nothing left to cancel");
    }

    #[test]
    fn a_long_step_is_cut() {
        let spawns = Arc::new(SpawnsInFlight::default());
        let guard = spawns.register("r").unwrap();
        guard.spawn.set_step("é".repeat(500));
        let step = spawns.progress("r").unwrap().step;
        assert_eq!(step.chars().count(), MAX_STEP_CHARS + 1);
        assert!(step.ends_with('…'));
    }
}
