//! In-memory doubles of the ports the Session Manager drives besides the runtime: a git
//! worktree manager, a project setup and an agent harness. Each records its calls into a shared
//! [`Journal`] (so tests can assert the order of calls across fakes) and fails on request.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Journal;
use crate::domain::Timestamp;
use crate::domain::{ActivityState, HookEvent, ProjectId, ProjectSettings, SessionId};
use crate::ports::{
    AgentError, AgentHarness, HookInstall, LaunchConfig, ProjectSetup, PromptDelivery,
    RestoreConfig, RetireMode, Retired, SetupError, SetupProgress, TrashEmptied, TrashEntry,
    TrashRepair, TrashState, Workspace, WorkspaceError, WorkspaceInfo, WorkspaceRequest,
    WorktreeStatus,
};

fn note(journal: &Journal, entry: String) {
    journal.lock().unwrap().push(entry);
}

/// An operation of [`FakeWorkspace`], to script a failure of its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkspaceOp {
    CheckBranch,
    Create,
    Retire,
    List,
    Restore,
    PreservedRef,
    ApplyPreserved,
    Status,
    AddExclude,
    TrashList,
    TrashRestore,
    TrashEmpty,
    TrashRepair,
}

#[derive(Debug, Clone)]
struct FakeWorktree {
    info: WorkspaceInfo,
    dirty: bool,
    locked: bool,
}

#[derive(Default)]
struct WorkspaceState {
    worktrees: BTreeMap<SessionId, FakeWorktree>,
    /// Unapplied `refs/ao/preserved/<id>` refs.
    preserved: BTreeMap<SessionId, String>,
    excludes: Vec<String>,
    /// Retired worktrees, oldest first, with the entry that describes each.
    trash: Vec<(TrashEntry, FakeWorktree)>,
    failures: HashMap<WorkspaceOp, VecDeque<WorkspaceError>>,
}

/// A worktree manager in memory, at `/tmp/ws/<session>`, with its trash at `/tmp/ws/.trash`. It
/// keeps the adapter's rules that the SM relies on: `retire` moves a worktree into the trash
/// and deletes nothing (a dirty one stays with `KeepDirty`, a locked one always stays), the
/// stash of `Preserve` happens before the move, a branch is checked out in one worktree at a
/// time, the trash gives a worktree back only to a free path, and a preserved ref is deleted
/// only by a successful apply. A scripted failure is returned before the call changes anything.
pub struct FakeWorkspace {
    pub journal: Journal,
    root: PathBuf,
    state: Mutex<WorkspaceState>,
}

impl FakeWorkspace {
    /// The managed root of the scenario fixture.
    pub const ROOT: &'static str = "/tmp/ws";

    pub fn with_journal(journal: Journal) -> Arc<Self> {
        Arc::new(Self {
            journal,
            root: PathBuf::from(Self::ROOT),
            state: Mutex::default(),
        })
    }

    /// The preserved ref name of a session.
    pub fn preserved_ref_name(session: &SessionId) -> String {
        format!("refs/ao/preserved/{session}")
    }

    /// Makes the next call of `op` fail with `error` (failures queue up per operation).
    pub fn fail_next(&self, op: WorkspaceOp, error: WorkspaceError) {
        self.lock().failures.entry(op).or_default().push_back(error);
    }

    /// Registers an existing, clean worktree for a session (as a former spawn left it).
    pub fn add_worktree(
        &self,
        repo: &Path,
        project: &ProjectId,
        session: &SessionId,
        branch: &str,
    ) {
        let info = WorkspaceInfo {
            repo: repo.to_path_buf(),
            path: self.root.join(session.as_str()),
            branch: branch.to_owned(),
            project_id: project.clone(),
            session_id: session.clone(),
        };
        self.lock().worktrees.insert(
            session.clone(),
            FakeWorktree {
                info,
                dirty: false,
                locked: false,
            },
        );
    }

    /// Gives a worktree uncommitted changes (or takes them away).
    pub fn set_dirty(&self, session: &SessionId, dirty: bool) {
        self.worktree_mut(session, |w| w.dirty = dirty);
    }

    /// `git worktree lock` / `unlock`.
    pub fn set_locked(&self, session: &SessionId, locked: bool) {
        self.worktree_mut(session, |w| w.locked = locked);
    }

    /// Creates `refs/ao/preserved/<session>` (as an earlier `--preserve` kill did).
    pub fn set_preserved(&self, session: &SessionId) {
        self.lock()
            .preserved
            .insert(session.clone(), Self::preserved_ref_name(session));
    }

    pub fn exists(&self, session: &SessionId) -> bool {
        self.lock().worktrees.contains_key(session)
    }

    pub fn is_dirty(&self, session: &SessionId) -> bool {
        self.lock().worktrees.get(session).is_some_and(|w| w.dirty)
    }

    /// The trash entries of a session, oldest first.
    pub fn trashed(&self, session: &SessionId) -> Vec<TrashEntry> {
        self.lock()
            .trash
            .iter()
            .filter(|(e, _)| e.session_id.as_ref() == Some(session))
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// The session's unapplied preserved ref, if any.
    pub fn preserved(&self, session: &SessionId) -> Option<String> {
        self.lock().preserved.get(session).cloned()
    }

    /// Every pattern added to the shared `info/exclude`, in order.
    pub fn excludes(&self) -> Vec<String> {
        self.lock().excludes.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WorkspaceState> {
        self.state.lock().unwrap()
    }

    fn worktree_mut(&self, session: &SessionId, change: impl FnOnce(&mut FakeWorktree)) {
        let mut st = self.lock();
        let worktree = st
            .worktrees
            .get_mut(session)
            .unwrap_or_else(|| panic!("no fake worktree for {session}"));
        change(worktree);
    }

    /// Journals the call, then returns its scripted failure, if one is queued.
    fn call(&self, op: WorkspaceOp, entry: String) -> Result<(), WorkspaceError> {
        note(&self.journal, entry);
        match self
            .lock()
            .failures
            .get_mut(&op)
            .and_then(VecDeque::pop_front)
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn new_info(&self, request: &WorkspaceRequest) -> WorkspaceInfo {
        WorkspaceInfo {
            repo: request.repo.clone(),
            path: self.root.join(request.session_id.as_str()),
            branch: request.branch.clone(),
            project_id: request.project_id.clone(),
            session_id: request.session_id.clone(),
        }
    }

    /// Adds a clean worktree for `request` unless its branch is checked out elsewhere.
    fn add(st: &mut WorkspaceState, info: WorkspaceInfo) -> Result<WorkspaceInfo, WorkspaceError> {
        if let Some(other) = st
            .worktrees
            .values()
            .find(|w| w.info.branch == info.branch && w.info.session_id != info.session_id)
        {
            return Err(WorkspaceError::BranchCheckedOutElsewhere {
                branch: info.branch.clone(),
                path: other.info.path.display().to_string(),
            });
        }
        st.worktrees.insert(
            info.session_id.clone(),
            FakeWorktree {
                info: info.clone(),
                dirty: false,
                locked: false,
            },
        );
        Ok(info)
    }
}

/// A subset of `git check-ref-format --branch`: enough to tell a good name from a bad one.
fn branch_is_valid(branch: &str) -> bool {
    !branch.is_empty()
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && !branch
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
}

#[async_trait]
impl Workspace for FakeWorkspace {
    /// Every path is its own repository's root.
    async fn repo_root(&self, path: &Path) -> Result<PathBuf, WorkspaceError> {
        Ok(path.to_path_buf())
    }

    async fn check_branch(&self, _repo: &Path, branch: &str) -> Result<(), WorkspaceError> {
        self.call(
            WorkspaceOp::CheckBranch,
            format!("workspace.check_branch {branch}"),
        )?;
        if branch_is_valid(branch) {
            Ok(())
        } else {
            Err(WorkspaceError::BranchInvalid {
                branch: branch.to_owned(),
                output: format!("fatal: '{branch}' is not a valid branch name"),
            })
        }
    }

    fn path_for(
        &self,
        _project: &ProjectId,
        session: &SessionId,
    ) -> Result<PathBuf, WorkspaceError> {
        Ok(self.root.join(session.as_str()))
    }

    async fn create(&self, request: &WorkspaceRequest) -> Result<WorkspaceInfo, WorkspaceError> {
        self.call(
            WorkspaceOp::Create,
            format!("workspace.create {} {}", request.session_id, request.branch),
        )?;
        let mut st = self.lock();
        if let Some(existing) = st.worktrees.get(&request.session_id) {
            return Ok(existing.info.clone());
        }
        Self::add(&mut st, self.new_info(request))
    }

    async fn retire(
        &self,
        info: &WorkspaceInfo,
        mode: RetireMode,
        now: Timestamp,
    ) -> Result<Retired, WorkspaceError> {
        let mode_name = match mode {
            RetireMode::KeepDirty => "keep-dirty",
            RetireMode::Preserve => "preserve",
            RetireMode::Discard => "discard",
        };
        self.call(
            WorkspaceOp::Retire,
            format!("workspace.retire {} {mode_name}", info.session_id),
        )?;
        let mut st = self.lock();
        let Some(worktree) = st.worktrees.get(&info.session_id).cloned() else {
            return Ok(Retired::default());
        };
        if worktree.locked {
            return Err(WorkspaceError::Locked);
        }
        if worktree.dirty && mode == RetireMode::KeepDirty {
            return Err(WorkspaceError::Dirty {
                paths: vec!["notes.txt".to_owned()],
            });
        }
        let preserved_ref = (worktree.dirty && mode == RetireMode::Preserve).then(|| {
            let reference = Self::preserved_ref_name(&info.session_id);
            st.preserved
                .insert(info.session_id.clone(), reference.clone());
            reference
        });
        let id = format!("{}-{}", info.session_id, st.trash.len() + 1);
        let entry = TrashEntry {
            path: self.root.join(".trash").join(&id),
            id,
            state: TrashState::Trashed,
            session_id: Some(info.session_id.clone()),
            project_id: Some(info.project_id.clone()),
            repo: Some(info.repo.clone()),
            branch: Some(worktree.info.branch.clone()),
            original_path: Some(worktree.info.path.clone()),
            trashed_at: now,
            registered: true,
            detached_ref: None,
            preserved_ref: preserved_ref.clone(),
            nested_repos: vec![],
        };
        st.worktrees.remove(&info.session_id);
        st.trash.push((entry.clone(), worktree));
        Ok(Retired {
            trash: Some(entry),
            preserved_ref,
            ..Retired::default()
        })
    }

    async fn list(
        &self,
        _repo: &Path,
        project: &ProjectId,
    ) -> Result<Vec<WorkspaceInfo>, WorkspaceError> {
        self.call(WorkspaceOp::List, format!("workspace.list {project}"))?;
        Ok(self
            .lock()
            .worktrees
            .values()
            .filter(|w| &w.info.project_id == project)
            .map(|w| w.info.clone())
            .collect())
    }

    async fn restore(
        &self,
        request: &WorkspaceRequest,
    ) -> Result<(WorkspaceInfo, bool), WorkspaceError> {
        self.call(
            WorkspaceOp::Restore,
            format!("workspace.restore {}", request.session_id),
        )?;
        let mut st = self.lock();
        if let Some(existing) = st.worktrees.get(&request.session_id) {
            return Ok((existing.info.clone(), false));
        }
        if let Some(at) = st
            .trash
            .iter()
            .rposition(|(e, _)| e.session_id.as_ref() == Some(&request.session_id))
        {
            let (_, worktree) = st.trash.remove(at);
            let info = worktree.info.clone();
            st.worktrees.insert(request.session_id.clone(), worktree);
            return Ok((info, false));
        }
        Ok((Self::add(&mut st, self.new_info(request))?, true))
    }

    async fn preserved_ref(&self, info: &WorkspaceInfo) -> Result<Option<String>, WorkspaceError> {
        self.call(
            WorkspaceOp::PreservedRef,
            format!("workspace.preserved_ref {}", info.session_id),
        )?;
        Ok(self.preserved(&info.session_id))
    }

    async fn apply_preserved(
        &self,
        info: &WorkspaceInfo,
        reference: &str,
    ) -> Result<(), WorkspaceError> {
        self.call(
            WorkspaceOp::ApplyPreserved,
            format!("workspace.apply_preserved {} {reference}", info.session_id),
        )?;
        let mut st = self.lock();
        if st.preserved.get(&info.session_id).map(String::as_str) != Some(reference) {
            return Err(WorkspaceError::Git {
                argv: format!("git cherry-pick --no-commit {reference}"),
                output: "bad revision".to_owned(),
            });
        }
        st.preserved.remove(&info.session_id);
        // The preserved changes are back as uncommitted work.
        if let Some(worktree) = st.worktrees.get_mut(&info.session_id) {
            worktree.dirty = true;
        }
        Ok(())
    }

    /// Every repository exists and has the base branch.
    async fn check_base(&self, _repo: &Path, _base: Option<&str>) -> Result<(), WorkspaceError> {
        Ok(())
    }

    /// No branches to prune: the fake keeps none.
    async fn prune_branches(
        &self,
        repo: &Path,
        base: Option<&str>,
        _dry_run: bool,
    ) -> Result<crate::ports::BranchPrune, WorkspaceError> {
        note(
            &self.journal,
            format!("workspace.prune_branches {}", repo.display()),
        );
        Ok(crate::ports::BranchPrune {
            base: base.unwrap_or("main").to_owned(),
            ..Default::default()
        })
    }

    async fn status(&self, info: &WorkspaceInfo) -> Result<WorktreeStatus, WorkspaceError> {
        self.call(
            WorkspaceOp::Status,
            format!("workspace.status {}", info.session_id),
        )?;
        Ok(match self.lock().worktrees.get(&info.session_id) {
            None => WorktreeStatus::Missing,
            Some(w) if w.locked => WorktreeStatus::Locked,
            Some(w) if w.dirty => WorktreeStatus::Dirty,
            Some(_) => WorktreeStatus::Clean,
        })
    }

    async fn add_exclude(
        &self,
        info: &WorkspaceInfo,
        patterns: &[String],
    ) -> Result<(), WorkspaceError> {
        self.call(
            WorkspaceOp::AddExclude,
            format!(
                "workspace.add_exclude {} {}",
                info.session_id,
                patterns.join(",")
            ),
        )?;
        let mut st = self.lock();
        for pattern in patterns {
            if !st.excludes.contains(pattern) {
                st.excludes.push(pattern.clone());
            }
        }
        Ok(())
    }

    async fn trash_list(&self) -> Result<Vec<TrashEntry>, WorkspaceError> {
        self.call(WorkspaceOp::TrashList, "workspace.trash_list".to_owned())?;
        Ok(self.lock().trash.iter().map(|(e, _)| e.clone()).collect())
    }

    async fn trash_restore(&self, id: &str) -> Result<TrashEntry, WorkspaceError> {
        self.call(
            WorkspaceOp::TrashRestore,
            format!("workspace.trash_restore {id}"),
        )?;
        let mut st = self.lock();
        let Some(at) = st.trash.iter().position(|(e, _)| e.id == id) else {
            return Err(WorkspaceError::NotInTrash(id.to_owned()));
        };
        let session = st.trash[at].1.info.session_id.clone();
        if let Some(occupant) = st.worktrees.get(&session) {
            return Err(WorkspaceError::RestoreBlocked {
                path: occupant.info.path.display().to_string(),
                why: "something is already there".to_owned(),
            });
        }
        let (mut entry, worktree) = st.trash.remove(at);
        entry.path = worktree.info.path.clone();
        st.worktrees.insert(session, worktree);
        Ok(entry)
    }

    async fn trash_empty(&self, cutoff: Option<Timestamp>) -> Result<TrashEmptied, WorkspaceError> {
        self.call(WorkspaceOp::TrashEmpty, "workspace.trash_empty".to_owned())?;
        let mut st = self.lock();
        let (removed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut st.trash)
            .into_iter()
            .partition(|(e, _)| cutoff.is_none_or(|c| e.trashed_at < c));
        st.trash = kept;
        Ok(TrashEmptied {
            removed: removed.into_iter().map(|(e, _)| e).collect(),
            failed: vec![],
        })
    }

    async fn trash_repair(&self) -> Result<TrashRepair, WorkspaceError> {
        self.call(
            WorkspaceOp::TrashRepair,
            "workspace.trash_repair".to_owned(),
        )?;
        Ok(TrashRepair::default())
    }
}

/// A project setup that places nothing: it journals `setup.prepare <session>`, returns the
/// configured exclude patterns, and fails once on request.
#[derive(Default)]
pub struct FakeSetup {
    pub journal: Journal,
    excludes: Mutex<Vec<String>>,
    fail: Mutex<Option<SetupError>>,
    hold: AtomicBool,
    /// Notified when a held `prepare` has started waiting.
    pub held: tokio::sync::Notify,
}

impl FakeSetup {
    pub fn with_journal(journal: Journal) -> Arc<Self> {
        Arc::new(Self {
            journal,
            ..Self::default()
        })
    }

    /// The patterns `prepare` reports as placed (and to be excluded).
    pub fn set_excludes(&self, patterns: &[&str]) {
        *self.excludes.lock().unwrap() = patterns.iter().map(|p| (*p).to_owned()).collect();
    }

    pub fn fail_next(&self, error: SetupError) {
        *self.fail.lock().unwrap() = Some(error);
    }

    /// The next `prepare` never finishes (like a post-create command that hangs) until its
    /// future is dropped; `held` is notified once it waits.
    pub fn hold_next(&self) {
        self.hold.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl ProjectSetup for FakeSetup {
    async fn prepare(
        &self,
        info: &WorkspaceInfo,
        _settings: &ProjectSettings,
        progress: &(dyn for<'a> Fn(SetupProgress<'a>) + Send + Sync),
    ) -> Result<Vec<String>, SetupError> {
        note(&self.journal, format!("setup.prepare {}", info.session_id));
        progress(SetupProgress::PlacingFiles);
        if let Some(e) = self.fail.lock().unwrap().take() {
            return Err(e);
        }
        if self.hold.swap(false, Ordering::SeqCst) {
            self.held.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(self.excludes.lock().unwrap().clone())
    }
}

/// The scenario harness (`fake` unless named otherwise):
///
/// - launch argv `[<name>, (--model M), (-- <prompt>)]`; environment `{BASE: 1}`;
/// - restore argv `[<name>, --resume, <id>]` when an agent id is recorded, else (when told to
///   derive ids, like `claude-code`) with the derived id `<name>-<session>`, else `None`;
/// - hooks: one file, `.<name>/hooks.json`, reported for `info/exclude`;
/// - binary at `/usr/bin/<name>` unless moved or made unresolvable; prompt delivery in the
///   command unless changed; not hook-capable unless told.
pub struct FakeHarness {
    pub journal: Journal,
    name: String,
    binary: Mutex<Option<PathBuf>>,
    delivery: Mutex<PromptDelivery>,
    ready_patterns: Mutex<Vec<String>>,
    hook_capable: AtomicBool,
    derives_agent_ids: AtomicBool,
    invalid_options: Mutex<Option<String>>,
    fail_hooks: Mutex<Option<AgentError>>,
}

impl FakeHarness {
    pub const NAME: &'static str = "fake";

    pub fn with_journal(journal: Journal) -> Arc<Self> {
        Self::named(Self::NAME, journal)
    }

    pub fn named(name: &str, journal: Journal) -> Arc<Self> {
        Arc::new(Self {
            journal,
            name: name.to_owned(),
            binary: Mutex::new(Some(PathBuf::from(format!("/usr/bin/{name}")))),
            delivery: Mutex::new(PromptDelivery::InCommand),
            ready_patterns: Mutex::default(),
            hook_capable: AtomicBool::new(false),
            derives_agent_ids: AtomicBool::new(false),
            invalid_options: Mutex::default(),
            fail_hooks: Mutex::default(),
        })
    }

    /// Where the binary resolves; `None` → `BinaryNotFound`.
    pub fn set_binary(&self, path: Option<&str>) {
        *self.binary.lock().unwrap() = path.map(PathBuf::from);
    }

    pub fn set_prompt_delivery(&self, delivery: PromptDelivery) {
        *self.delivery.lock().unwrap() = delivery;
    }

    pub fn set_ready_patterns(&self, patterns: &[&str]) {
        *self.ready_patterns.lock().unwrap() = patterns.iter().map(|p| (*p).to_owned()).collect();
    }

    pub fn set_hook_capable(&self, capable: bool) {
        self.hook_capable.store(capable, Ordering::SeqCst);
    }

    /// Assign an agent id before launch and resume by it even when none was recorded.
    pub fn set_derives_agent_ids(&self, derives: bool) {
        self.derives_agent_ids.store(derives, Ordering::SeqCst);
    }

    /// The id a deriving harness assigns to a session.
    pub fn derived_agent_id(&self, session: &SessionId) -> String {
        format!("{}-{session}", self.name)
    }

    /// `Some(reason)`: every argv request fails with `InvalidOptions(reason)`.
    pub fn set_invalid_options(&self, reason: Option<&str>) {
        *self.invalid_options.lock().unwrap() = reason.map(str::to_owned);
    }

    pub fn fail_next_hooks(&self, error: AgentError) {
        *self.fail_hooks.lock().unwrap() = Some(error);
    }

    fn check_options(&self) -> Result<(), AgentError> {
        match self.invalid_options.lock().unwrap().clone() {
            Some(reason) => Err(AgentError::InvalidOptions(reason)),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl AgentHarness for FakeHarness {
    fn name(&self) -> &str {
        &self.name
    }

    fn resolve_binary(&self, _config: &LaunchConfig) -> Result<PathBuf, AgentError> {
        self.binary
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| AgentError::BinaryNotFound(format!("{} (not on PATH)", self.name)))
    }

    fn launch_argv(&self, config: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        self.check_options()?;
        let mut argv = vec![self.name.clone()];
        if let Some(model) = &config.model {
            argv.extend(["--model".to_owned(), model.clone()]);
        }
        if let Some(prompt) = &config.prompt {
            argv.extend(["--".to_owned(), prompt.clone()]);
        }
        Ok(argv)
    }

    fn restore_argv(&self, config: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError> {
        self.check_options()?;
        let derived = self.derives_agent_ids.load(Ordering::SeqCst);
        let id = match (&config.agent_session_id, &config.launch.session_id) {
            (Some(id), _) => id.clone(),
            (None, Some(session)) if derived => self.derived_agent_id(session),
            _ => return Ok(None),
        };
        Ok(Some(vec![self.name.clone(), "--resume".to_owned(), id]))
    }

    fn environment(&self, _config: &LaunchConfig) -> BTreeMap<String, String> {
        BTreeMap::from([("BASE".to_owned(), "1".to_owned())])
    }

    fn prompt_delivery(&self) -> PromptDelivery {
        *self.delivery.lock().unwrap()
    }

    fn ready_patterns(&self) -> Vec<String> {
        self.ready_patterns.lock().unwrap().clone()
    }

    async fn install_hooks(&self, worktree: &Path) -> Result<HookInstall, AgentError> {
        note(
            &self.journal,
            format!("agent.install_hooks {}", worktree.display()),
        );
        if let Some(e) = self.fail_hooks.lock().unwrap().take() {
            return Err(e);
        }
        Ok(HookInstall {
            exclude: vec![format!(".{}/hooks.json", self.name)],
        })
    }

    async fn pre_launch(&self, worktree: &Path) -> Result<(), AgentError> {
        note(
            &self.journal,
            format!("agent.pre_launch {}", worktree.display()),
        );
        Ok(())
    }

    fn initial_agent_session_id(&self, session: &SessionId) -> Option<String> {
        self.derives_agent_ids
            .load(Ordering::SeqCst)
            .then(|| self.derived_agent_id(session))
    }

    fn hook_capable(&self) -> bool {
        self.hook_capable.load(Ordering::SeqCst)
    }

    fn confirm_capable(&self) -> bool {
        false
    }

    fn derive_activity(
        &self,
        _event: HookEvent,
        _payload: &serde_json::Value,
    ) -> Option<ActivityState> {
        None
    }

    fn terminal_activity(&self, _output: &str) -> Option<ActivityState> {
        None
    }
}
