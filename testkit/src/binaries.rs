//! The workspace's binaries (`aod`, `aoctl`), built for the tests that run them.
//!
//! `cargo test` builds the binaries of a package only for that package's own integration tests,
//! and the end-to-end tests live in the root package, so the first call in each test process
//! runs `cargo build` for both binaries into the test executable's own target directory and
//! profile. That also keeps a stale binary from an earlier build from being tested.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Path of the workspace binary `name` (`aod` or `aoctl`), freshly built.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(build_binaries);
    let path = dir.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

fn build_binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--locked", "-p", "aod", "-p", "aoctl"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(crate::workspace_root());
    // Cargo gives a test process its package's variables; a build script that reruns when one
    // changes (ring watches CARGO_MANIFEST_DIR) would rebuild half the tree at every call.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        let set_by_cargo_for_tests = key_text.starts_with("CARGO_PKG_")
            || key_text.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&key_text.as_ref());
        if set_by_cargo_for_tests {
            command.env_remove(&key);
        }
    }
    // Profiles `test` and `bench` build into `debug` and `release`.
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
        None => panic!("no profile directory in {}", exe.display()),
    }
    let out = command.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build -p aod -p aoctl failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    profile_dir.to_path_buf()
}
