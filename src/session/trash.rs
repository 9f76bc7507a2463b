//! The trash as an operator sees it: list the worktrees ended sessions left there, bring one
//! back, or empty it (by hand, or by age from the daemon's loop).

use std::time::Duration;

use super::{SessionManager, SmError};
use crate::domain::SessionId;
use crate::ports::{TrashEmptied, TrashEntry, TrashState, WorkspaceError};

impl SessionManager {
    /// Every trash entry, oldest first.
    pub async fn trash_list(&self) -> Result<Vec<TrashEntry>, SmError> {
        Ok(self.workspace.trash_list().await?)
    }

    /// Moves an entry back to its original path as a registered worktree on its branch. `name`
    /// is an entry id, or a session id standing for that session's newest entry.
    pub async fn trash_restore(&self, name: &str) -> Result<TrashEntry, SmError> {
        let entries = self.workspace.trash_list().await?;
        let id = if entries.iter().any(|e| e.id == name) {
            name.to_owned()
        } else {
            let session =
                SessionId::parse(name).map_err(|_| WorkspaceError::NotInTrash(name.to_owned()))?;
            entries
                .into_iter()
                .filter(|e| {
                    e.state == TrashState::Trashed && e.session_id.as_ref() == Some(&session)
                })
                .max_by_key(|e| e.trashed_at)
                .map(|e| e.id)
                .ok_or_else(|| WorkspaceError::NotInTrash(name.to_owned()))?
        };
        Ok(self.workspace.trash_restore(&id).await?)
    }

    /// Deletes the entries trashed more than `older_than` ago (all of them with `None`).
    pub async fn trash_empty(&self, older_than: Option<Duration>) -> Result<TrashEmptied, SmError> {
        let cutoff = older_than.map(|age| self.clock.now().minus(age));
        Ok(self.workspace.trash_empty(cutoff).await?)
    }
}
