//! The checked-in completion scripts under `completions/` are what `aoctl completions` prints.
//!
//! Regenerate them with `AO_UPDATE_COMPLETIONS=1 cargo test --workspace --test completions`.

use std::path::Path;
use std::process::Command;

const SHELLS: [(&str, &str); 5] = [
    ("bash", "aoctl.bash"),
    ("zsh", "_aoctl"),
    ("fish", "aoctl.fish"),
    ("powershell", "_aoctl.ps1"),
    ("elvish", "aoctl.elv"),
];

#[test]
fn completions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("AO_UPDATE_COMPLETIONS").is_some();
    let mut stale = vec![];
    for (shell, file) in SHELLS {
        let out = Command::new(ao_testkit::bin("aoctl"))
            .args(["completions", shell])
            .output()
            .expect("run aoctl completions");
        assert!(out.status.success(), "aoctl completions {shell}: {out:?}");
        assert!(
            !out.stdout.is_empty(),
            "aoctl completions {shell} printed nothing"
        );
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &out.stdout).expect("write completion script");
        } else if std::fs::read(&path).ok().as_deref() != Some(out.stdout.as_slice()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts {stale:?}: run \
         `AO_UPDATE_COMPLETIONS=1 cargo test --workspace --test completions` and commit"
    );
}

#[test]
fn binaries_answer_help_and_version() {
    for name in ["aod", "aoctl"] {
        for flag in ["--help", "--version"] {
            let out = Command::new(ao_testkit::bin(name))
                .arg(flag)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name} {flag}: {out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(name), "{name} {flag} printed {text:?}");
        }
    }
}
