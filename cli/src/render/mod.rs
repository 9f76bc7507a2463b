//! Presentation: tables and sentences for people, one JSON document for machines. Every word
//! `aoctl` prints about a result is written here; the commands only call. The only colour is the
//! session table's STATUS column, on a terminal, without `NO_COLOR`.
//!
//! Everything goes to stdout through [`write_out`]: a reader that went away (`aoctl ls --watch |
//! head -1`, `aoctl events | head -1`) ends aoctl at once with status 0, like a listing that
//! ended; any other write error (a full disk) ends it with status 1 and says so.
//!
//! `session` shows sessions, their change log and their pane output; `why` the evidence behind a
//! status; `reply` says what a command did (kill, cleanup, send, the trash, projects, the
//! daemon, doctor).

/// `println!` through [`write_out`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::render::write_out(|out| writeln!(out, $($arg)*))
    };
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::render::write_out(|out| write!(out, $($arg)*))
    };
}

mod progress;
mod reply;
mod session;
mod why;

use std::io::{IsTerminal, Write};

use serde::Serialize;
use tabled::Table;
use tabled::settings::Style;

pub use progress::Spinner;
pub use reply::{
    cleanup_reply, config_check, daemon_already_running, daemon_not_running, daemon_started,
    daemon_status, daemon_stopped, doctor_checks, forget_reply, kill_reply, project_added,
    project_registered, project_removed, projects, send_reply, trash_emptied, trash_entries,
    trash_restored,
};
pub use session::{
    clear_screen, end_line, event, events_header, events_pruned, output, output_trimmed, session,
    session_detail, session_list, sessions, watch_stamp,
};
pub use why::why;

/// Writes to stdout with `write`, then flushes; see the module documentation for errors.
pub fn write_out(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = write(&mut out).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(crate::client::exit::OK));
        }
        eprintln!("aoctl: cannot write the output: {e}");
        std::process::exit(i32::from(crate::client::exit::FAILED));
    }
}

/// How often a following command looks whether its reader is still there.
const READER_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// Ends aoctl with status 0 soon after the reader of its stdout went away, for the commands
/// that follow something and may print nothing for a long time (`ls --watch`, `events -f`,
/// `tail -f`). A pipe whose reader closed polls as an error; a terminal or a file never does.
pub fn exit_when_reader_leaves() {
    tokio::spawn(async {
        loop {
            tokio::time::sleep(READER_CHECK).await;
            if stdout_reader_gone() {
                std::process::exit(i32::from(crate::client::exit::OK));
            }
        }
    });
}

fn stdout_reader_gone() -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::empty())];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}

/// Prints `value` as one JSON document with `--json`, else as `human` shows it.
pub fn json_or<T: Serialize + ?Sized>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        self::json(value);
    } else {
        human(value);
    }
}

/// Prints one JSON document (pretty when stdout is a terminal).
pub fn json<T: Serialize + ?Sized>(value: &T) {
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    outln!(
        "{}",
        text.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}

/// Prints rows under a header with blank separators.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let text = table_text(header, rows);
    write_out(|out| out.write_all(text.as_bytes()));
}

/// Rows under a header with blank separators, each line ended and without trailing blanks.
fn table_text(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(header.iter().map(|h| h.to_string()));
    for row in rows {
        builder.push_record(row);
    }
    let mut table: Table = builder.build();
    table.with(Style::blank());
    table
        .to_string()
        .lines()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

/// Key/value pairs, one per line.
fn pairs(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    write_out(|out| {
        for (key, value) in pairs {
            writeln!(out, "{key:<width$}  {value}")?;
        }
        Ok(())
    });
}

/// `5s`, `3m`, `2h`, `4d` since an RFC 3339 time (`-` when unknown).
fn age(since: Option<&str>) -> String {
    let Some(since) = since.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else {
        return "-".to_owned();
    };
    let secs = (chrono::Utc::now() - since.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The value, or `-` when it is missing or empty.
fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(age(None), "-");
        assert_eq!(age(Some("not a time")), "-");
        let old = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
        assert_eq!(age(Some(&old)), "3h");
    }
}
