//! Boot reconcile: before the daemon serves, finish trash moves a crash cut short, adopt every
//! live session, finish spawns a crash interrupted (a first spawn's worktree goes to the trash),
//! reap panes of terminal sessions (except the open pane of an agent that exited), and report
//! what no record owns. It writes records only
//! through the LCM and deletes no worktree.

use std::collections::{BTreeMap, BTreeSet};

use tracing::{error, info, warn};

use super::SessionManager;
use crate::domain::{KillKind, KillReason, RuntimeHandle, SessionId, SessionRecord, meta};
use crate::messages::runtime_handle;
use crate::ports::{PaneInfo, TrashRepair, WorkspaceInfo};

/// What boot reconcile found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootReport {
    /// Live sessions whose recorded pane exists: nothing written.
    pub adopted: Vec<SessionId>,
    /// Live sessions whose pane is gone: left to the reaper's first tick.
    pub missing_panes: Vec<SessionId>,
    /// Spawns or restores interrupted by the restart: pane destroyed, record `errored`.
    pub interrupted: Vec<SessionId>,
    /// Terminal sessions whose pane was still there: destroyed.
    pub leaked: Vec<SessionId>,
    /// Panes on ao's tmux server that no record owns (left alone).
    pub unowned_panes: Vec<String>,
    /// Worktrees under the managed root that no record owns (left alone).
    pub unowned_worktrees: Vec<String>,
    /// The pane listing failed (not "no server"): nothing was adopted or destroyed.
    pub listing_error: Option<String>,
    /// Trash moves a crash cut short, finished or rolled back.
    pub trash: TrashRepair,
}

/// The agent pane of a handle in a listing: the recorded pane id, else the session's first row.
fn agent_pane<'a>(panes: &'a [PaneInfo], handle: &RuntimeHandle) -> Option<&'a PaneInfo> {
    let mut rows = panes.iter().filter(|p| p.session_name == handle.id);
    match &handle.pane_id {
        Some(pane) => rows.find(|p| &p.pane_id == pane),
        None => rows.next(),
    }
}

impl SessionManager {
    /// Runs boot reconcile once; errors are logged and reported, never fatal.
    pub async fn reconcile_at_boot(&self) -> BootReport {
        let mut report = BootReport {
            trash: self.repair_trash().await,
            ..BootReport::default()
        };
        let panes = match self.runtime.list_panes().await {
            Ok(panes) => panes,
            Err(e) => {
                error!(error = %e, "boot reconcile: listing panes failed; the reaper will probe sessions normally");
                report.listing_error = Some(e.to_string());
                return report;
            }
        };
        let records = match self.store.list(None).await {
            Ok(records) => records,
            Err(e) => {
                error!(error = %e, "boot reconcile: listing sessions failed");
                report.listing_error = Some(e.to_string());
                return report;
            }
        };
        let mut owned: BTreeSet<String> = BTreeSet::new();
        for record in &records {
            let handle =
                runtime_handle(record).unwrap_or_else(|| self.runtime.handle_for(&record.id));
            owned.insert(handle.id.clone());
            let pane = agent_pane(&panes, &handle);
            match (
                record.is_terminal(),
                record.launch.started_at.is_some(),
                pane,
            ) {
                (false, true, Some(_)) => report.adopted.push(record.id.clone()),
                (false, true, None) => report.missing_panes.push(record.id.clone()),
                (false, false, pane) => {
                    self.finish_interrupted_spawn(record, &handle, pane.is_some())
                        .await;
                    report.interrupted.push(record.id.clone());
                }
                // The agent exited and its pane stays open, with its last output, until a kill
                // or cleanup.
                (true, _, Some(_)) if record.meta(meta::EXIT_CODE).is_some() => {}
                (true, _, Some(_)) => {
                    match self.runtime.destroy(&handle).await {
                        Ok(()) => {
                            info!(session = %record.id, "boot: destroyed the leaked pane of a terminal session")
                        }
                        Err(e) => {
                            warn!(session = %record.id, error = %e, "boot: destroying a leaked pane failed")
                        }
                    }
                    report.leaked.push(record.id.clone());
                }
                (true, _, None) => {}
            }
        }
        let unowned: BTreeSet<&str> = panes
            .iter()
            .map(|p| p.session_name.as_str())
            .filter(|name| !owned.contains(*name))
            .collect();
        for name in unowned {
            warn!(
                tmux_session = name,
                "boot: a tmux session on ao's server matches no record; left alone"
            );
            report.unowned_panes.push(name.to_owned());
        }
        report.unowned_worktrees = self.unowned_worktrees(&records).await;
        info!(
            adopted = report.adopted.len(),
            interrupted = report.interrupted.len(),
            leaked = report.leaked.len(),
            "boot reconcile done"
        );
        report
    }

    /// Finishes or rolls back trash moves a crash cut short; failures are logged.
    async fn repair_trash(&self) -> TrashRepair {
        match self.workspace.trash_repair().await {
            Ok(repair) => {
                for id in &repair.finished {
                    info!(entry = %id, "boot: finished an interrupted trash operation");
                }
                for id in &repair.rolled_back {
                    info!(entry = %id, "boot: rolled back an interrupted move to the trash");
                }
                for failure in &repair.failed {
                    warn!(entry = %failure, "boot: an interrupted trash operation could not be repaired");
                }
                repair
            }
            Err(e) => {
                warn!(error = %e, "boot: reading the trash failed");
                TrashRepair::default()
            }
        }
    }

    /// An interrupted spawn or restore: its pane (if any) is destroyed and the record becomes
    /// `errored` with its worktree recorded. The worktree of a first spawn (nothing recorded
    /// as launched yet) goes to the trash, with its branch when unused; a restore's is kept.
    async fn finish_interrupted_spawn(
        &self,
        record: &SessionRecord,
        handle: &RuntimeHandle,
        has_pane: bool,
    ) {
        if has_pane && let Err(e) = self.runtime.destroy(handle).await {
            warn!(session = %record.id, error = %e, "boot: destroying an interrupted spawn's pane failed");
        }
        let mut reason = KillReason::new(KillKind::Error);
        reason.detail = Some("spawn interrupted by daemon restart".to_owned());
        if let Ok(path) = self.workspace.path_for(&record.project_id, &record.id) {
            reason
                .metadata
                .insert(meta::WORKSPACE_PATH.to_owned(), path.display().to_string());
        }
        let branch = record
            .meta(meta::BRANCH)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("ao/{}", record.id));
        reason
            .metadata
            .insert(meta::BRANCH.to_owned(), branch.clone());
        let first_spawn = record.meta(meta::WORKSPACE_PATH).is_none();
        if let Err(e) = self.lcm.on_kill_requested(&record.id, &reason).await {
            warn!(session = %record.id, error = %e, "boot: recording an interrupted spawn failed");
            return;
        }
        if !first_spawn {
            return;
        }
        let project = match self.store.project(&record.project_id).await {
            Ok(Some(project)) => project,
            Ok(None) => return,
            Err(e) => {
                warn!(session = %record.id, error = %e, "boot: loading the project of an interrupted spawn failed");
                return;
            }
        };
        if let Ok(path) = self.workspace.path_for(&record.project_id, &record.id) {
            let info = WorkspaceInfo {
                repo: project.repo_path,
                path,
                branch,
                project_id: record.project_id.clone(),
                session_id: record.id.clone(),
            };
            self.discard_workspace(&info).await;
        }
    }

    /// Worktrees under the managed root of every project that no record owns (logged only).
    async fn unowned_worktrees(&self, records: &[SessionRecord]) -> Vec<String> {
        let projects = match self.store.projects().await {
            Ok(projects) => projects,
            Err(e) => {
                warn!(error = %e, "boot: listing projects failed");
                return vec![];
            }
        };
        let known: BTreeMap<&SessionId, ()> = records.iter().map(|r| (&r.id, ())).collect();
        let mut unowned = vec![];
        for project in projects {
            match self.workspace.list(&project.repo_path, &project.id).await {
                Ok(worktrees) => {
                    for wt in worktrees
                        .into_iter()
                        .filter(|w| !known.contains_key(&w.session_id))
                    {
                        warn!(path = %wt.path.display(), "boot: a worktree under the managed root matches no record; left alone");
                        unowned.push(wt.session_id.to_string());
                    }
                }
                Err(e) => {
                    warn!(project = %project.id, error = %e, "boot: listing worktrees failed")
                }
            }
        }
        unowned
    }
}
