//! The pure core does no I/O and reads no clock. Its dependencies keep tokio, sockets and
//! databases out at compile time; this test keeps out what the standard library and chrono
//! would still allow: files, processes, threads, the environment, the clock and printing.

use std::fs;
use std::path::{Path, PathBuf};

/// What the core must not name, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("std::fs", "file I/O"),
    ("std::io::stdin", "console I/O"),
    ("std::io::stdout", "console I/O"),
    ("std::net", "network I/O"),
    ("std::process", "processes"),
    ("std::thread", "threads"),
    ("std::env", "the environment"),
    ("SystemTime", "the clock"),
    ("Instant::now", "the clock"),
    ("Utc::now", "the clock"),
    ("Local::now", "the clock"),
    ("println!", "printing"),
    ("eprintln!", "printing"),
    ("dbg!", "printing"),
];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_core_names_no_io_clock_or_printing() {
    let mut files = vec![];
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(
        files.len() > 20,
        "the core's sources were not found: {files:?}"
    );
    let mut offences = vec![];
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (needle, why) in FORBIDDEN {
                if code.contains(needle) {
                    offences.push(format!("{}:{}: {needle} ({why})", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the pure core must stay pure:\n{}",
        offences.join("\n")
    );
}
