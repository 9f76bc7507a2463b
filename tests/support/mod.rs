//! Shared helpers for the end-to-end tests: locating the workspace's binaries.

use std::path::PathBuf;

/// Path of a binary built by `cargo test --workspace` (or `cargo build --workspace`), found
/// next to the test executable's `deps/` directory.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in <target>/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: build the workspace first (`cargo test --workspace` does)",
        path.display()
    );
    path
}
