//! Agent harnesses: one module per kind of agent CLI, each implementing `ports::AgentHarness`.

pub mod command;

use std::path::{Path, PathBuf};

/// Finds an executable: a path containing `/` must itself be executable; a bare name is
/// searched on `path` (a `PATH`-style list), then in `extra` directories.
pub fn find_executable(program: &str, path: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let candidate = PathBuf::from(program);
        return is_executable(&candidate).then_some(candidate);
    }
    std::env::split_paths(path)
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_on_path_and_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(find_executable("tool", "/nonexistent", &[]), None);
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(find_executable("tool", &path, &[]), Some(tool.clone()));
        assert_eq!(
            find_executable("tool", "", &[dir.path().to_path_buf()]),
            Some(tool.clone())
        );
        assert_eq!(
            find_executable(tool.to_str().unwrap(), "", &[]),
            Some(tool.clone())
        );
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        assert_eq!(find_executable("tool", &path, &[]), None, "not executable");
        assert_eq!(find_executable("", &path, &[]), None);
    }
}
