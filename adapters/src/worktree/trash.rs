//! The trash: where retired worktrees go instead of being deleted.
//!
//! An entry is the worktree's directory itself, renamed to `<managed root>/.trash/<id>/` (same
//! filesystem, so the move is instant whatever the size, and at the same depth as
//! `<root>/<project>/<session>`, so relative paths inside it keep working), plus a manifest
//! `<root>/.trash/<id>.json` saying whose it was and where it goes back. A registered worktree
//! stays registered while in the trash, locked with the reason `ao trash <id>`, so git neither
//! prunes it nor lets its branch be checked out elsewhere, and `git worktree list` says why.
//!
//! Every move writes the manifest first and runs lock → rename → `worktree repair`; the manifest's
//! phase tells [`GitWorktree::repair_trash`] how to finish or roll back a move a crash cut short.
//! Only emptying deletes files, and only inside the trash.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{GitWorktree, WorktreeRecord, find_registration, io_error};
use ao::ports::{TrashEmptied, TrashEntry, TrashRepair, TrashState, WorkspaceError};
use ao_core::domain::{ProjectId, SessionId, Timestamp};

/// The trash directory's name under the managed root (project ids cannot start with a dot).
pub const TRASH_DIR: &str = ".trash";
/// The lock reason of a worktree in the trash is this prefix and the entry id.
pub(super) const LOCK_REASON_PREFIX: &str = "ao trash ";
const MANIFEST_VERSION: u32 = 1;

/// Where an entry's move stands, as its manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Manifest written; the worktree may still be at its original path.
    MovingIn,
    /// The worktree is in the trash.
    Trashed,
    /// A restore started; the worktree may already be back.
    MovingOut,
    /// Emptying started; the directory may be partly deleted.
    Emptying,
}

/// The manifest beside each entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    phase: Phase,
    session: SessionId,
    project: ProjectId,
    repo: PathBuf,
    branch: Option<String>,
    original_path: PathBuf,
    trashed_at: Timestamp,
    registered: bool,
    #[serde(default)]
    detached_ref: Option<String>,
    /// The preserved ref and the commit it held when the worktree was trashed: a restore that
    /// brings the same work back deletes the ref only while it still names that commit.
    #[serde(default)]
    preserved: Option<(String, String)>,
    #[serde(default)]
    nested_repos: Vec<String>,
}

/// What a worktree carries into the trash besides its files.
#[derive(Debug, Clone, Default)]
pub(super) struct TrashNotes {
    pub(super) detached_ref: Option<String>,
    /// `(ref, commit)`.
    pub(super) preserved: Option<(String, String)>,
    pub(super) nested_repos: Vec<String>,
}

/// The worktree being moved in.
pub(super) struct Departing<'a> {
    pub(super) session: &'a SessionId,
    pub(super) project: &'a ProjectId,
    pub(super) repo: &'a Path,
    pub(super) path: &'a Path,
    /// `None` for a directory git does not know (moved as plain files).
    pub(super) registration: Option<&'a WorktreeRecord>,
}

/// The UTC time as it appears in entry ids: `20261203T081502Z`.
fn id_time(at: Timestamp) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at.as_millis())
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| at.as_millis().to_string())
}

fn lock_reason(id: &str) -> String {
    format!("{LOCK_REASON_PREFIX}{id}")
}

fn is_ours(lock: Option<&str>, id: &str) -> bool {
    lock == Some(lock_reason(id).as_str())
}

fn manifest_error(path: &Path, e: impl std::fmt::Display) -> WorkspaceError {
    WorkspaceError::Io(format!("trash manifest {}: {e}", path.display()))
}

impl Manifest {
    fn entry(&self, id: &str, dir: PathBuf) -> TrashEntry {
        TrashEntry {
            id: id.to_owned(),
            path: dir,
            state: if self.phase == Phase::Trashed {
                TrashState::Trashed
            } else {
                TrashState::Interrupted
            },
            session_id: Some(self.session.clone()),
            project_id: Some(self.project.clone()),
            repo: Some(self.repo.clone()),
            branch: self.branch.clone(),
            original_path: Some(self.original_path.clone()),
            trashed_at: self.trashed_at,
            registered: self.registered,
            detached_ref: self.detached_ref.clone(),
            preserved_ref: self.preserved.as_ref().map(|(r, _)| r.clone()),
            nested_repos: self.nested_repos.clone(),
        }
    }
}

/// Syncs a directory so a rename into or out of it survives a crash (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

async fn exists(path: &Path) -> Result<bool, WorkspaceError> {
    match tokio::fs::symlink_metadata(path).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("inspecting", path, &e)),
    }
}

impl GitWorktree {
    pub(super) fn trash_dir(&self) -> PathBuf {
        self.root.path().join(TRASH_DIR)
    }

    fn entry_dir(&self, id: &str) -> PathBuf {
        self.trash_dir().join(id)
    }

    fn manifest_path(&self, id: &str) -> PathBuf {
        self.trash_dir().join(format!("{id}.json"))
    }

    /// Writes a manifest atomically (temp file, fsync, rename), mode 0600.
    async fn write_manifest(&self, id: &str, manifest: &Manifest) -> Result<(), WorkspaceError> {
        let path = self.manifest_path(id);
        let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| manifest_error(&path, e))?;
        let target = path.clone();
        tokio::task::spawn_blocking(move || crate::files::write_atomically(&target, &bytes, 0o600))
            .await
            .map_err(|e| manifest_error(&path, e))?
            .map_err(|e| manifest_error(&path, e))
    }

    async fn read_manifest(&self, id: &str) -> Result<Option<Manifest>, WorkspaceError> {
        let path = self.manifest_path(id);
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| manifest_error(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("reading", &path, &e)),
        }
    }

    async fn remove_manifest(&self, id: &str) -> Result<(), WorkspaceError> {
        let path = self.manifest_path(id);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("removing", &path, &e)),
        }
    }

    /// Creates the trash directory (0700) when missing.
    async fn ensure_trash_dir(&self) -> Result<(), WorkspaceError> {
        let dir = self.trash_dir();
        let builder_dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&builder_dir)
        })
        .await
        .map_err(|e| WorkspaceError::Io(format!("creating {}: {e}", dir.display())))?
        .map_err(|e| io_error("creating", &dir, &e))
    }

    /// A fresh entry id for `session` at `now`: `<session>-<time>`, then `.2`, `.3`, … on a clash.
    async fn fresh_id(
        &self,
        session: &SessionId,
        now: Timestamp,
    ) -> Result<String, WorkspaceError> {
        let base = format!("{session}-{}", id_time(now));
        for n in 1.. {
            let id = if n == 1 {
                base.clone()
            } else {
                format!("{base}.{n}")
            };
            if !exists(&self.entry_dir(&id)).await? && !exists(&self.manifest_path(&id)).await? {
                return Ok(id);
            }
        }
        unreachable!("the loop returns or fails")
    }

    /// `git -C <repo> worktree <verb> …`, requiring success.
    async fn worktree_call(
        &self,
        repo: &Path,
        args: &[&std::ffi::OsStr],
    ) -> Result<String, WorkspaceError> {
        let spec = self.git.at(repo).arg("worktree").args(args);
        self.git.ok(&spec).await
    }

    async fn lock_in_trash(
        &self,
        repo: &Path,
        path: &Path,
        id: &str,
    ) -> Result<(), WorkspaceError> {
        let reason = lock_reason(id);
        self.worktree_call(
            repo,
            &[
                "lock".as_ref(),
                "--reason".as_ref(),
                reason.as_ref(),
                path.as_ref(),
            ],
        )
        .await
        .map(drop)
    }

    async fn unlock(&self, repo: &Path, path: &Path) -> Result<(), WorkspaceError> {
        self.worktree_call(repo, &["unlock".as_ref(), path.as_ref()])
            .await
            .map(drop)
    }

    /// Points git's record of a moved worktree at its new place.
    async fn repair_registration(&self, repo: &Path, path: &Path) -> Result<(), WorkspaceError> {
        self.worktree_call(repo, &["repair".as_ref(), path.as_ref()])
            .await
            .map(drop)
    }

    /// Moves a worktree into the trash: manifest, lock, rename, repair, manifest. When the rename
    /// is impossible (another filesystem, permissions), everything is undone and the worktree
    /// stays where it was.
    pub(super) async fn move_into_trash(
        &self,
        departing: Departing<'_>,
        notes: TrashNotes,
        now: Timestamp,
    ) -> Result<TrashEntry, WorkspaceError> {
        self.root.check(departing.path)?;
        // Until the rename, every failure leaves the worktree where it is.
        let unavailable = |e: WorkspaceError| WorkspaceError::TrashUnavailable(e.to_string());
        self.ensure_trash_dir().await.map_err(unavailable)?;
        let id = self.fresh_id(departing.session, now).await?;
        let dir = self.entry_dir(&id);
        let registered = departing.registration.is_some();
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            phase: Phase::MovingIn,
            session: departing.session.clone(),
            project: departing.project.clone(),
            repo: departing.repo.to_path_buf(),
            branch: departing.registration.and_then(|r| r.branch.clone()),
            original_path: departing.path.to_path_buf(),
            trashed_at: now,
            registered,
            detached_ref: notes.detached_ref,
            preserved: notes.preserved,
            nested_repos: notes.nested_repos,
        };
        self.write_manifest(&id, &manifest)
            .await
            .map_err(unavailable)?;
        if registered
            && let Err(e) = self
                .lock_in_trash(departing.repo, departing.path, &id)
                .await
        {
            self.remove_manifest(&id).await?;
            return Err(e);
        }
        if let Err(e) = tokio::fs::rename(departing.path, &dir).await {
            let why = format!(
                "moving {} to {}: {e}",
                departing.path.display(),
                dir.display()
            );
            if registered && let Err(unlock) = self.unlock(departing.repo, departing.path).await {
                tracing::warn!(path = %departing.path.display(), error = %unlock, "trash: unlocking after a failed move failed");
            }
            self.remove_manifest(&id).await?;
            return Err(WorkspaceError::TrashUnavailable(why));
        }
        if let Some(parent) = departing.path.parent() {
            sync_dir(parent);
        }
        sync_dir(&self.trash_dir());
        if registered && let Err(e) = self.repair_registration(departing.repo, &dir).await {
            // The files are safe in the trash and the registration is locked; the start-up
            // repair retries.
            tracing::warn!(entry = %id, error = %e, "trash: git worktree repair failed; finished at the next daemon start");
            return Ok(manifest.entry(&id, dir));
        }
        manifest.phase = Phase::Trashed;
        self.write_manifest(&id, &manifest).await?;
        Ok(manifest.entry(&id, dir))
    }

    /// Every entry: manifests first, then directories without one; oldest first.
    pub(super) async fn list_trash(&self) -> Result<Vec<TrashEntry>, WorkspaceError> {
        let dir = self.trash_dir();
        let mut reader = match tokio::fs::read_dir(&dir).await {
            Ok(reader) => reader,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io_error("reading", &dir, &e)),
        };
        let mut names = vec![];
        while let Some(item) = reader
            .next_entry()
            .await
            .map_err(|e| io_error("reading", &dir, &e))?
        {
            names.push(item.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        let mut entries = vec![];
        for name in &names {
            if let Some(id) = name.strip_suffix(".json") {
                match self.read_manifest(id).await {
                    Ok(Some(manifest)) => entries.push(manifest.entry(id, self.entry_dir(id))),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(entry = id, error = %e, "trash: unreadable manifest; entry left alone")
                    }
                }
            } else if name.starts_with(".ao-write-") {
                // A manifest write that never finished.
            } else if !names.contains(&format!("{name}.json")) {
                entries.push(self.unknown_entry(name).await);
            }
        }
        entries.sort_by(|a, b| (a.trashed_at, &a.id).cmp(&(b.trashed_at, &b.id)));
        Ok(entries)
    }

    /// A directory in the trash without a manifest; its time is its modification time.
    async fn unknown_entry(&self, name: &str) -> TrashEntry {
        let path = self.entry_dir(name);
        let trashed_at = tokio::fs::symlink_metadata(&path)
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Timestamp::from_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
            .unwrap_or(Timestamp::from_millis(0));
        TrashEntry {
            id: name.to_owned(),
            path,
            state: TrashState::Unknown,
            session_id: None,
            project_id: None,
            repo: None,
            branch: None,
            original_path: None,
            trashed_at,
            registered: false,
            detached_ref: None,
            preserved_ref: None,
            nested_repos: vec![],
        }
    }

    /// The id of `session`'s newest complete entry from `repo`.
    pub(super) async fn latest_entry_of(
        &self,
        session: &SessionId,
        repo: &Path,
    ) -> Result<Option<String>, WorkspaceError> {
        Ok(self
            .list_trash()
            .await?
            .into_iter()
            .filter(|e| {
                e.state == TrashState::Trashed
                    && e.session_id.as_ref() == Some(session)
                    && e.repo
                        .as_deref()
                        .is_some_and(|r| super::same_place(r, repo))
            })
            .max_by_key(|e| e.trashed_at)
            .map(|e| e.id))
    }

    /// An id as `aoctl trash` takes it: one path component, never `.json` or a temp name.
    fn checked_id(id: &str) -> Result<(), WorkspaceError> {
        if id.is_empty()
            || id.starts_with('.')
            || id.ends_with(".json")
            || id.contains(['/', '\\', '\0'])
        {
            return Err(WorkspaceError::NotInTrash(id.to_owned()));
        }
        Ok(())
    }

    /// Moves an entry back to its original path: manifest, rename, repair, unlock, manifest gone.
    pub(super) async fn restore_entry(&self, id: &str) -> Result<TrashEntry, WorkspaceError> {
        Self::checked_id(id)?;
        let Some(mut manifest) = self.read_manifest(id).await? else {
            if exists(&self.entry_dir(id)).await? {
                return Err(WorkspaceError::RestoreBlocked {
                    path: self.entry_dir(id).display().to_string(),
                    why: "the entry has no manifest, so ao does not know where it belongs; move it by hand".to_owned(),
                });
            }
            return Err(WorkspaceError::NotInTrash(id.to_owned()));
        };
        if manifest.phase != Phase::Trashed {
            return Err(WorkspaceError::RestoreBlocked {
                path: manifest.original_path.display().to_string(),
                why: format!(
                    "the entry's last move was cut short ({:?}); restart the daemon to finish it, then retry",
                    manifest.phase
                ),
            });
        }
        let dir = self.entry_dir(id);
        let target = manifest.original_path.clone();
        self.root.check(&target)?;
        let blocked = |why: &str| WorkspaceError::RestoreBlocked {
            path: target.display().to_string(),
            why: why.to_owned(),
        };
        if exists(&target).await? {
            return Err(blocked(
                "something is already there (the session was restored or spawned again); restore the entry after moving that away",
            ));
        }
        if manifest.registered {
            let records = self.list_registered(&manifest.repo).await?;
            if find_registration(&records, &target).is_some() {
                return Err(blocked(
                    "git still has a worktree registered there; run `git worktree prune` in the repository, then retry",
                ));
            }
        }
        manifest.phase = Phase::MovingOut;
        self.write_manifest(id, &manifest).await?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| io_error("creating", parent, &e))?;
        }
        if let Err(e) = tokio::fs::rename(&dir, &target).await {
            manifest.phase = Phase::Trashed;
            self.write_manifest(id, &manifest).await?;
            return Err(io_error("moving the entry back to", &target, &e));
        }
        sync_dir(&self.trash_dir());
        if let Some(parent) = target.parent() {
            sync_dir(parent);
        }
        if manifest.registered {
            self.finish_restore(&manifest, &target, id).await?;
        }
        self.remove_manifest(id).await?;
        Ok(manifest.entry(id, target))
    }

    /// The git side of a restore once the directory is back: repair, unlock, and drop a
    /// preserved ref that holds exactly the work now back in the worktree.
    async fn finish_restore(
        &self,
        manifest: &Manifest,
        target: &Path,
        id: &str,
    ) -> Result<(), WorkspaceError> {
        self.repair_registration(&manifest.repo, target).await?;
        let records = self.list_registered(&manifest.repo).await?;
        if find_registration(&records, target).is_some_and(|r| is_ours(r.locked.as_deref(), id)) {
            self.unlock(&manifest.repo, target).await?;
        }
        if let Some((reference, sha)) = &manifest.preserved {
            let delete = self.git.at(&manifest.repo).args([
                "update-ref",
                "-d",
                reference.as_str(),
                sha.as_str(),
            ]);
            match self.git.output(&delete).await {
                Ok(out) if out.success() => {
                    tracing::info!(
                        reference,
                        "trash restore: the preserved work is back in the worktree; ref deleted"
                    );
                }
                _ => tracing::info!(reference, "trash restore: preserved ref left as it is"),
            }
        }
        Ok(())
    }

    /// Deletes entries trashed before `cutoff` (every entry with `None`). Interrupted entries
    /// are left to the start-up repair.
    pub(super) async fn empty_trash(
        &self,
        cutoff: Option<Timestamp>,
    ) -> Result<TrashEmptied, WorkspaceError> {
        let mut result = TrashEmptied::default();
        let mut repos: Vec<PathBuf> = vec![];
        for entry in self.list_trash().await? {
            if cutoff.is_some_and(|c| entry.trashed_at >= c) {
                continue;
            }
            if entry.state == TrashState::Interrupted {
                result.failed.push((
                    entry,
                    "its last move has not finished (still running, or cut short: the daemon's next start finishes it)".to_owned(),
                ));
                continue;
            }
            match self.delete_entry(&entry).await {
                Ok(()) => {
                    if let Some(repo) = entry.repo.clone().filter(|_| entry.registered)
                        && !repos.contains(&repo)
                    {
                        repos.push(repo);
                    }
                    result.removed.push(entry);
                }
                Err(e) => result.failed.push((entry, e.to_string())),
            }
        }
        for repo in repos {
            self.prune(&repo).await;
        }
        Ok(result)
    }

    /// Deletes one entry's directory (inside the trash only) and its manifest.
    async fn delete_entry(&self, entry: &TrashEntry) -> Result<(), WorkspaceError> {
        let dir = self.entry_dir(&entry.id);
        self.root.check(&dir)?;
        if let Some(mut manifest) = self.read_manifest(&entry.id).await? {
            manifest.phase = Phase::Emptying;
            self.write_manifest(&entry.id, &manifest).await?;
            if manifest.registered && exists(&manifest.repo).await? {
                let records = self.list_registered(&manifest.repo).await?;
                if find_registration(&records, &dir)
                    .is_some_and(|r| is_ours(r.locked.as_deref(), &entry.id))
                {
                    self.unlock(&manifest.repo, &dir).await?;
                }
            }
        }
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("removing", &dir, &e)),
        }
        self.remove_manifest(&entry.id).await
    }

    /// `git worktree prune`, dropping the registrations of deleted entries; failures are logged.
    async fn prune(&self, repo: &Path) {
        if let Err(e) = self.worktree_call(repo, &["prune".as_ref()]).await {
            tracing::warn!(repo = %repo.display(), error = %e, "trash: git worktree prune failed");
        }
    }

    /// Finishes or rolls back every move or emptying a crash cut short.
    pub(super) async fn repair_trash(&self) -> Result<TrashRepair, WorkspaceError> {
        let mut report = TrashRepair::default();
        for entry in self.list_trash().await? {
            if entry.state != TrashState::Interrupted {
                continue;
            }
            let id = entry.id.clone();
            match self.repair_entry(&id).await {
                Ok(Repaired::Finished) => report.finished.push(id),
                Ok(Repaired::RolledBack) => report.rolled_back.push(id),
                Err(e) => report.failed.push(format!("{id}: {e}")),
            }
        }
        Ok(report)
    }

    async fn repair_entry(&self, id: &str) -> Result<Repaired, WorkspaceError> {
        let Some(mut manifest) = self.read_manifest(id).await? else {
            return Ok(Repaired::Finished);
        };
        let dir = self.entry_dir(id);
        let (in_trash, at_home) = (exists(&dir).await?, exists(&manifest.original_path).await?);
        let repo = manifest.repo.clone();
        match manifest.phase {
            Phase::Trashed => Ok(Repaired::Finished),
            Phase::MovingIn if in_trash => {
                if manifest.registered {
                    self.repair_registration(&repo, &dir).await?;
                }
                manifest.phase = Phase::Trashed;
                self.write_manifest(id, &manifest).await?;
                Ok(Repaired::Finished)
            }
            Phase::MovingIn if at_home => {
                if manifest.registered {
                    let records = self.list_registered(&repo).await?;
                    if find_registration(&records, &manifest.original_path)
                        .is_some_and(|r| is_ours(r.locked.as_deref(), id))
                    {
                        self.unlock(&repo, &manifest.original_path).await?;
                    }
                }
                self.remove_manifest(id).await?;
                Ok(Repaired::RolledBack)
            }
            Phase::MovingOut if at_home && !in_trash => {
                if manifest.registered {
                    self.finish_restore(&manifest, &manifest.original_path, id)
                        .await?;
                }
                self.remove_manifest(id).await?;
                Ok(Repaired::Finished)
            }
            Phase::MovingOut if in_trash => {
                manifest.phase = Phase::Trashed;
                self.write_manifest(id, &manifest).await?;
                Ok(Repaired::RolledBack)
            }
            Phase::Emptying => {
                self.delete_entry(&manifest.entry(id, dir)).await?;
                if manifest.registered {
                    self.prune(&repo).await;
                }
                Ok(Repaired::Finished)
            }
            Phase::MovingIn | Phase::MovingOut => Err(WorkspaceError::Stale(format!(
                "trash entry {id}: neither {} nor {} exists",
                dir.display(),
                manifest.original_path.display()
            ))),
        }
    }
}

enum Repaired {
    Finished,
    RolledBack,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_use_a_compact_utc_time() {
        // 2026-12-03T08:15:02.345Z
        let at = Timestamp::parse_rfc3339("2026-12-03T08:15:02.345Z").unwrap();
        assert_eq!(id_time(at), "20261203T081502Z");
    }

    #[test]
    fn only_our_own_lock_reason_counts() {
        assert!(is_ours(Some("ao trash s-1-x"), "s-1-x"));
        assert!(!is_ours(Some("ao trash s-1-x"), "s-1-y"));
        assert!(!is_ours(Some("mine"), "s-1-x"));
        assert!(!is_ours(None, "s-1-x"));
    }

    #[test]
    fn ids_outside_the_trash_are_refused() {
        for bad in ["", ".trash", "../x", "a/b", "x.json", ".ao-write-1", "a\0b"] {
            assert!(
                matches!(
                    GitWorktree::checked_id(bad),
                    Err(WorkspaceError::NotInTrash(_))
                ),
                "{bad:?}"
            );
        }
        assert!(GitWorktree::checked_id("proj-1-20261203T081502Z.2").is_ok());
    }

    #[test]
    fn manifests_round_trip() {
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            phase: Phase::MovingIn,
            session: SessionId::parse("proj-1").unwrap(),
            project: ProjectId::parse("proj").unwrap(),
            repo: "/r".into(),
            branch: Some("ao/proj-1".into()),
            original_path: "/w/proj/proj-1".into(),
            trashed_at: Timestamp::from_millis(1_000),
            registered: true,
            detached_ref: Some("refs/ao/detached/proj-1".into()),
            preserved: Some(("refs/ao/preserved/proj-1".into(), "a".repeat(40))),
            nested_repos: vec!["vendor/lib".into()],
        };
        let text = serde_json::to_string(&manifest).unwrap();
        assert!(text.contains("\"phase\":\"moving_in\""), "{text}");
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), manifest);
    }
}
