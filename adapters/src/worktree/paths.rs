//! Managed paths: the one directory tree worktrees may live in, and the checks that keep every git
//! call and every removal inside it.
//!
//! The root is resolved once to an absolute physical path, and every path handed to an
//! operation must be clean and resolve physically inside it, so neither `..` nor a symlink can
//! point a recursive removal at anything else.

use std::io;
use std::path::{Component, Path, PathBuf};

use ao::ports::WorkspaceError;

/// Resolves `path` physically: symlinks are followed as far as the path exists, and the part
/// that does not exist yet is re-joined lexically.
pub(super) fn resolve_physical(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    for ancestor in absolute.ancestors() {
        let Ok(resolved) = ancestor.canonicalize() else {
            continue;
        };
        let Ok(rest) = absolute.strip_prefix(ancestor) else {
            continue;
        };
        let mut out = resolved;
        for part in rest.components() {
            match part {
                Component::Normal(name) => out.push(name),
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        return Ok(out);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no ancestor of {} exists", absolute.display()),
    ))
}

/// A project or session id must be usable as one path component: non-empty, no separator,
/// not `.` or `..`.
pub(super) fn validate_component(kind: &str, value: &str) -> Result<(), WorkspaceError> {
    if value.is_empty() {
        return Err(WorkspaceError::UnsafePath(format!("{kind} is empty")));
    }
    if value == "." || value == ".." || value.contains(['/', '\\', '\0']) {
        return Err(WorkspaceError::UnsafePath(format!(
            "{kind} {value:?} is not a single path component"
        )));
    }
    Ok(())
}

/// True when `path` is absolute and spelled canonically: no `.` or `..`, no doubled or
/// trailing separator.
fn is_clean(path: &Path) -> bool {
    let rebuilt: PathBuf = path.components().collect();
    path.is_absolute()
        && rebuilt.as_os_str() == path.as_os_str()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

/// The managed root, as an absolute physical path.
#[derive(Debug, Clone)]
pub(super) struct ManagedRoot {
    root: PathBuf,
}

impl ManagedRoot {
    pub(super) fn resolve(configured: &Path) -> Result<Self, WorkspaceError> {
        if configured.as_os_str().is_empty() {
            return Err(WorkspaceError::UnsafePath(
                "the managed root is empty".to_owned(),
            ));
        }
        let root = resolve_physical(configured).map_err(|e| {
            WorkspaceError::Io(format!(
                "resolving managed root {}: {e}",
                configured.display()
            ))
        })?;
        if root.parent().is_none() {
            return Err(WorkspaceError::UnsafePath(format!(
                "managed root {} is the filesystem root",
                root.display()
            )));
        }
        Ok(Self { root })
    }

    pub(super) fn path(&self) -> &Path {
        &self.root
    }

    /// The worktree directory of `<project>/<session>`, validated.
    pub(super) fn session_path(
        &self,
        project: &str,
        session: &str,
    ) -> Result<PathBuf, WorkspaceError> {
        validate_component("project id", project)?;
        validate_component("session id", session)?;
        let path = self.root.join(project).join(session);
        self.check(&path)?;
        Ok(path)
    }

    /// The directory holding one project's worktrees.
    pub(super) fn project_dir(&self, project: &str) -> Result<PathBuf, WorkspaceError> {
        validate_component("project id", project)?;
        Ok(self.root.join(project))
    }

    /// Managed-path validation: non-empty, absolute, clean, physically inside the root and not
    /// the root itself.
    pub(super) fn check(&self, path: &Path) -> Result<(), WorkspaceError> {
        let unsafe_path =
            |why: &str| WorkspaceError::UnsafePath(format!("{}: {why}", path.display()));
        if path.as_os_str().is_empty() {
            return Err(WorkspaceError::UnsafePath("empty path".to_owned()));
        }
        if !path.is_absolute() {
            return Err(unsafe_path("not absolute"));
        }
        if !is_clean(path) {
            return Err(unsafe_path("not a clean path"));
        }
        let physical =
            resolve_physical(path).map_err(|e| unsafe_path(&format!("cannot resolve: {e}")))?;
        if physical == self.root {
            return Err(unsafe_path("is the managed root itself"));
        }
        if !physical.starts_with(&self.root) {
            return Err(unsafe_path(&format!(
                "outside the managed root {}",
                self.root.display()
            )));
        }
        Ok(())
    }
}

/// Whether two paths name the same place: equal as spelled, or equal once resolved physically
/// (git may record a path in another spelling than ours).
pub(super) fn same_place(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (resolve_physical(a), resolve_physical(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_accept_dots_inside_names_and_reject_traversal() {
        // P7, at the level of the path component (the domain id types are stricter still).
        for ok in ["proj-1", "sess_2", "foo.bar", "abc-42", "p", "..hidden"] {
            assert!(validate_component("id", ok).is_ok(), "{ok}");
        }
        for bad in ["../other", "..", ".", "evil\\sess", "../proj", "", "a/b"] {
            assert!(
                matches!(
                    validate_component("id", bad),
                    Err(WorkspaceError::UnsafePath(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn managed_paths_must_be_clean_absolute_and_inside() {
        // P6.
        let dir = tempfile::tempdir().unwrap();
        let root = ManagedRoot::resolve(&dir.path().join("worktrees")).unwrap();
        let inside = root.session_path("proj", "sess").unwrap();
        assert_eq!(inside, root.path().join("proj/sess"));
        for bad in [
            root.path().join("../outside"),
            PathBuf::from("relative/path"),
            PathBuf::new(),
            root.path().to_path_buf(),
            root.path().join("proj/./sess"),
            PathBuf::from(format!("{}/proj/sess/", root.path().display())),
            dir.path().join("elsewhere"),
        ] {
            assert!(
                matches!(root.check(&bad), Err(WorkspaceError::UnsafePath(_))),
                "{}",
                bad.display()
            );
        }
    }

    #[test]
    fn a_symlink_inside_the_root_cannot_lead_outside() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("worktrees");
        std::fs::create_dir_all(&root_dir).unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root_dir.join("proj")).unwrap();
        let root = ManagedRoot::resolve(&root_dir).unwrap();
        assert!(matches!(
            root.session_path("proj", "sess"),
            Err(WorkspaceError::UnsafePath(_))
        ));
    }

    #[test]
    fn the_root_resolves_symlinks_and_keeps_a_missing_leaf() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir_all(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let root = ManagedRoot::resolve(&link.join("not-yet/worktrees")).unwrap();
        assert_eq!(
            root.path(),
            real.canonicalize().unwrap().join("not-yet/worktrees")
        );
    }
}
