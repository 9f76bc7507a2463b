//! Files as a test sees them: a digest of a whole directory tree (to prove a round trip is
//! byte-identical), and a directory frozen so that nothing can be created in or moved out of it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Every entry under `root` (symlinks not followed), sorted: `(relative path, "file <mode>
/// <sha256>" | "dir <mode>" | "link <target>")`.
pub fn tree_digest(root: &Path) -> Vec<(String, String)> {
    let mut out = vec![];
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        let relative = path
            .strip_prefix(root)
            .expect("inside the root")
            .display()
            .to_string();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).expect("read link");
            out.push((relative, format!("link {}", target.display())));
        } else if meta.is_dir() {
            out.push((relative, format!("dir {mode:o}")));
            walk(root, &path, out);
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            let sum = hex::encode(Sha256::digest(&bytes));
            out.push((relative, format!("file {mode:o} {sum}")));
        }
    }
}

/// A directory in which nothing can be created, renamed or removed until the guard drops, even
/// for root (`chattr +i`); for another user, removing its write permission does the same.
pub struct Frozen {
    dir: PathBuf,
    immutable: bool,
}

impl Frozen {
    /// Freezes `dir`; `None` (with the reason printed) when this filesystem cannot.
    pub fn new(dir: &Path) -> Option<Self> {
        if nix::unistd::geteuid().is_root() {
            let out = Command::new("chattr").arg("+i").arg(dir).output();
            match out {
                Ok(out) if out.status.success() => Some(Self {
                    dir: dir.to_path_buf(),
                    immutable: true,
                }),
                Ok(out) => {
                    eprintln!(
                        "SKIPPED: cannot make {} immutable: {}",
                        dir.display(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    None
                }
                Err(e) => {
                    eprintln!("SKIPPED: chattr is not available: {e}");
                    None
                }
            }
        } else {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500))
                .expect("remove write permission");
            Some(Self {
                dir: dir.to_path_buf(),
                immutable: false,
            })
        }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.dir).status();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}
