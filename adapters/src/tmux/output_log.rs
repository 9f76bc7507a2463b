//! Each session's output log: what `pipe-pane` copies from the pane, bounded on disk, read with
//! byte cursors that survive daemon restarts and trimming, forwards from a cursor or backwards
//! from an offset for its last lines (in blocks, a bounded page at a time).
//!
//! Files, per tmux session name `N` under the output directory:
//! - `N.log`: the newest pane output. tmux runs `exec cat >> 'N.log'` (an ao-made, single-quoted
//!   path: no user text) and that `cat` writes with `O_APPEND`.
//! - `N.log.offset`: the logical offset of `N.log`'s first byte (decimal; absent = 0).
//! - `exits/N.exit`: the agent's exit status (decimal and a newline), written by the launch
//!   script when the agent exits; its modification time is the exit time.
//!
//! Trimming: when `N.log` exceeds the cap, the newest half (from a line start when one is near)
//! is kept by truncating the file in place and writing the kept bytes back. Because `cat`'s
//! descriptor has `O_APPEND`, its next write lands at the new end of the same file: the pipe is
//! never lost and tmux is not involved. Bytes written by `cat` in the microseconds between
//! reading the tail and truncating can be lost (or land just before the rewritten tail): an
//! accepted cost for a display log, since a tmux-side swap of the pipe would open a wider
//! window. The offset file is then advanced by the number of bytes dropped, so a reader's
//! cursor keeps meaning the same byte, and a reader behind the trim gets `start > cursor`.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ao::domain::{AgentExit, Timestamp};
use ao::ports::{LastLines, OutputChunk, RuntimeError};

use super::command::escape_format;
use super::script::shell_quote;

/// The subdirectory of the output directory that holds the exit files.
const EXITS_DIR: &str = "exits";

/// The default cap on one log file.
pub const LOG_CAP: u64 = 4 * 1024 * 1024;

/// How far into the kept half a trim looks for a line start.
const LINE_SEARCH: usize = 64 * 1024;

/// How much of the log a backward line scan reads at a time.
const SCAN_BLOCK: usize = 64 * 1024;

/// The output logs of one runtime.
#[derive(Debug)]
pub struct OutputLog {
    dir: PathBuf,
    cap: u64,
    /// Serialises trims and reads, so a read never sees a file and an offset from different
    /// moments of a trim.
    lock: Mutex<()>,
}

impl OutputLog {
    /// The directory must be a UTF-8 path: it is written into the `pipe-pane` shell command.
    pub fn new(dir: PathBuf, cap: u64) -> Result<Self, RuntimeError> {
        let text = dir.to_str().ok_or_else(|| {
            RuntimeError::InvalidConfig(format!("output dir {dir:?} is not UTF-8"))
        })?;
        if text.is_empty() || text.chars().any(char::is_control) {
            return Err(RuntimeError::InvalidConfig(format!(
                "output dir {text:?} must be non-empty without control characters"
            )));
        }
        if cap < 2 {
            return Err(RuntimeError::InvalidConfig(
                "output log cap must be at least 2 bytes".to_owned(),
            ));
        }
        Ok(Self {
            dir,
            cap,
            lock: Mutex::new(()),
        })
    }

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// Where a launch script too long for tmux's command line is written.
    pub fn script_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.launch.sh"))
    }

    /// Where the launch script writes the agent's exit status when the agent exits.
    pub fn exit_path(&self, name: &str) -> PathBuf {
        self.exits_dir().join(format!("{name}.exit"))
    }

    /// Exit files have a directory of their own, so finding them lists only them.
    fn exits_dir(&self) -> PathBuf {
        self.dir.join(EXITS_DIR)
    }

    /// Forgets an earlier launch's exit before a new launch in the same session name.
    pub fn clear_exit(&self, name: &str) -> Result<(), RuntimeError> {
        let path = self.exit_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// The session names that have an exit file (one listing of a directory that holds only
    /// exit files, so it costs nothing while no agent has exited).
    pub fn exited_names(&self) -> Result<HashSet<String>, RuntimeError> {
        let dir = self.exits_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
            Err(e) => return Err(io_error(&dir, e)),
        };
        let mut names = HashSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            if let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|f| f.strip_suffix(".exit"))
            {
                names.insert(name.to_owned());
            }
        }
        Ok(names)
    }

    /// The agent's recorded exit: its status and the file's modification time. `None` while
    /// there is none, or while the file is still being written (not yet a whole number).
    pub fn read_exit(&self, name: &str) -> Option<AgentExit> {
        let path = self.exit_path(name);
        let read = File::open(&path).and_then(|file| {
            let modified = file.metadata()?.modified()?;
            let mut text = String::new();
            file.take(32).read_to_string(&mut text)?;
            Ok((text, modified))
        });
        let (text, modified) = match read {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "reading the agent's exit status");
                return None;
            }
        };
        let code = text.strip_suffix('\n')?.parse().ok()?;
        let millis = modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok())?;
        Some(AgentExit {
            code,
            at: Timestamp::from_millis(millis),
        })
    }

    fn offset_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log.offset"))
    }

    /// Creates the output directory and its exit-file directory (mode 0700: pane output can
    /// hold secrets).
    pub fn prepare(&self) -> Result<(), RuntimeError> {
        let exits = self.exits_dir();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&exits)
            .map_err(|e| io_error(&exits, e))
    }

    /// The `pipe-pane` command for session `name`: only ao-made text, the path single-quoted
    /// for `sh` and `#` doubled because tmux expands formats in this argument.
    pub fn pipe_command(&self, name: &str) -> String {
        let path = self.log_path(name);
        // `new` checked the directory is UTF-8 and `name` is a validated session name.
        let quoted = shell_quote(&path.to_string_lossy());
        escape_format(&format!("exec cat >> {quoted}"))
    }

    /// Deletes the session's log, offset, launch-script and exit files (missing files are fine).
    pub fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        for path in [
            self.log_path(name),
            self.offset_path(name),
            self.script_path(name),
            self.exit_path(name),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, e)),
            }
        }
        Ok(())
    }

    fn read_offset(&self, name: &str) -> Result<u64, RuntimeError> {
        let path = self.offset_path(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|_| {
                RuntimeError::Io(format!("{}: not a byte offset: {text:?}", path.display()))
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    fn write_offset(&self, name: &str, offset: u64) -> Result<(), RuntimeError> {
        let path = self.offset_path(name);
        let tmp = self.dir.join(format!("{name}.log.offset.tmp"));
        std::fs::write(&tmp, format!("{offset}\n")).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))
    }

    /// Keeps the newest half of the log once it exceeds the cap; returns whether it trimmed.
    pub fn enforce_cap(&self, name: &str) -> Result<bool, RuntimeError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.log_path(name);
        let err = |e| io_error(&path, e);
        let mut file = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(err(e)),
        };
        let len = file.metadata().map_err(err)?.len();
        if len <= self.cap {
            return Ok(false);
        }
        let base = self.read_offset(name)?;
        let mut cut = len - self.cap / 2;
        file.seek(SeekFrom::Start(cut)).map_err(err)?;
        let mut kept = vec![];
        file.read_to_end(&mut kept).map_err(err)?;
        let skip = kept_start(&kept);
        kept.drain(..skip);
        cut += skip as u64;
        file.set_len(0).map_err(err)?;
        file.write_all(&kept).map_err(err)?;
        self.write_offset(name, base + cut)?;
        Ok(true)
    }

    /// Up to `max_bytes` of output from `cursor`. `start` is the offset of the first byte
    /// returned: larger than `cursor` when older output was trimmed, and the oldest kept
    /// byte when `cursor` lies beyond the end (the log was reset). A character split by the
    /// end of the read is left for the next call.
    pub fn read(
        &self,
        name: &str,
        cursor: u64,
        max_bytes: usize,
    ) -> Result<OutputChunk, RuntimeError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.log_path(name);
        let err = |e| io_error(&path, e);
        let base = self.read_offset(name)?;
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // No output yet: "the end" is where the log will start.
                let at = if cursor == u64::MAX { base } else { cursor };
                return Ok(OutputChunk {
                    text: String::new(),
                    start: at,
                    next: at,
                });
            }
            Err(e) => return Err(err(e)),
        };
        let end = base + file.metadata().map_err(err)?.len();
        if cursor == u64::MAX {
            return Ok(OutputChunk {
                text: String::new(),
                start: end,
                next: end,
            });
        }
        let start = if cursor > end { base } else { cursor.max(base) };
        let want = (end - start).min(max_bytes as u64);
        file.seek(SeekFrom::Start(start - base)).map_err(err)?;
        let mut bytes = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        file.take(want).read_to_end(&mut bytes).map_err(err)?;
        bytes.truncate(complete_utf8_len(&bytes));
        Ok(OutputChunk {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            start,
            next: start + bytes.len() as u64,
        })
    }
}

impl OutputLog {
    /// The last `lines` lines before `before` (`None`: the log's end), read backwards in
    /// blocks and never more than `max_bytes` of them (see [`LastLines`]). An offset outside
    /// the log is held to it; a missing log is an empty one.
    pub fn last_lines(
        &self,
        name: &str,
        before: Option<u64>,
        lines: usize,
        max_bytes: usize,
    ) -> Result<LastLines, RuntimeError> {
        self.last_lines_in_blocks(name, before, lines, max_bytes, SCAN_BLOCK)
    }

    fn last_lines_in_blocks(
        &self,
        name: &str,
        before: Option<u64>,
        lines: usize,
        max_bytes: usize,
        block: usize,
    ) -> Result<LastLines, RuntimeError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.log_path(name);
        let err = |e| io_error(&path, e);
        let base = self.read_offset(name)?;
        let empty = |at| LastLines {
            chunk: OutputChunk {
                text: String::new(),
                start: at,
                next: at,
            },
            lines: 0,
            oldest: base,
        };
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(empty(base)),
            Err(e) => return Err(err(e)),
        };
        let len = file.metadata().map_err(err)?.len();
        // A character still being written at the end waits for the next read.
        let end = base + len - incomplete_end(&mut file, len).map_err(err)?;
        let until = before.map_or(end, |b| b.clamp(base, end));
        // At the log's end the last bytes without a newline are a line when they print
        // something; before a page another reply returned, they begin one that page cut.
        let at_end = until == end;
        let found = scan_back(&mut file, until - base, lines, max_bytes, block, |tail| {
            !at_end || prints_something(tail)
        })
        .map_err(err)?;
        let start = base + found.start;
        Ok(LastLines {
            chunk: OutputChunk {
                text: String::from_utf8_lossy(&found.bytes).into_owned(),
                start,
                next: until,
            },
            lines: found.lines,
            oldest: base,
        })
    }
}

/// How many bytes at the end of the file (`len` long) are an incomplete character.
fn incomplete_end(file: &mut File, len: u64) -> io::Result<u64> {
    let back = len.min(4);
    let mut last = vec![0; back as usize];
    file.seek(SeekFrom::Start(len - back))?;
    file.read_exact(&mut last)?;
    Ok((last.len() - complete_utf8_len(&last)) as u64)
}

/// What [`scan_back`] found: where the lines start (a file position), how many there are,
/// and their bytes.
#[derive(Debug, PartialEq, Eq)]
struct LinesFound {
    start: u64,
    lines: usize,
    bytes: Vec<u8>,
}

/// Where the last `want` lines of `file[..end]` start, read backwards in blocks of `block`
/// bytes, returning at most `budget` bytes (at least 4: one character). Each `\n` ends a
/// line; the bytes after the last one (the tail) are a line when `tail_is_line` says so;
/// position 0 starts a line. When the budget runs out first, the answer starts at the oldest
/// line start found, or (one line longer than the budget) inside that line at a character
/// start, not counting it: the next page, ending there, counts it (so the rest of a last line
/// longer than a page is a line there even when it prints nothing).
fn scan_back<F: Read + Seek>(
    file: &mut F,
    end: u64,
    want: usize,
    budget: usize,
    block: usize,
    tail_is_line: impl Fn(&[u8]) -> bool,
) -> io::Result<LinesFound> {
    let budget = budget.max(4);
    // One byte more than the budget: whether the oldest byte returned starts a line is
    // known only from the byte before it.
    let span = usize::try_from(end).map_or(budget + 1, |end| end.min(budget + 1));
    if want == 0 || span == 0 {
        return Ok(LinesFound {
            start: end,
            lines: 0,
            bytes: vec![],
        });
    }
    // `held[i]` is the byte at `first + i`; it fills from the back, one block at a time.
    let first = end - span as u64;
    let mut held = vec![0; span];
    let mut filled = span;
    let mut newlines = 0;
    let mut tail_counts = None;
    let mut oldest_line_start = None;
    while filled > 0 {
        let from = filled.saturating_sub(block.max(1));
        file.seek(SeekFrom::Start(first + from as u64))?;
        file.read_exact(&mut held[from..filled])?;
        for i in (from..filled).rev() {
            if held[i] != b'\n' {
                continue;
            }
            newlines += 1;
            let counts = *tail_counts.get_or_insert_with(|| {
                let tail = &held[i + 1..];
                !tail.is_empty() && tail_is_line(tail)
            });
            // The line after the `want`-th newline from the end is the first wanted one
            // when the tail counts; otherwise the tail rides along and one more is needed.
            if newlines == want + usize::from(!counts) {
                return Ok(LinesFound {
                    start: first + i as u64 + 1,
                    lines: want,
                    bytes: held.split_off(i + 1),
                });
            }
            oldest_line_start = Some(i + 1);
        }
        filled = from;
    }
    let counts = *tail_counts.get_or_insert_with(|| tail_is_line(&held));
    if span <= budget {
        // The whole stretch: its first line starts at position 0.
        return Ok(LinesFound {
            start: 0,
            lines: newlines + usize::from(counts),
            bytes: held,
        });
    }
    // The budget ran out: start at the oldest line start found (never the extra byte),
    // unless that is the end; the lines found are those after every newline but the oldest,
    // and the tail.
    match oldest_line_start.filter(|i| *i < span) {
        Some(i) => Ok(LinesFound {
            start: first + i as u64,
            lines: newlines - 1 + usize::from(counts),
            bytes: held.split_off(i),
        }),
        None => {
            let i = 1 + held[1..]
                .iter()
                .take(3)
                .take_while(|b| is_continuation(**b))
                .count();
            Ok(LinesFound {
                start: first + i as u64,
                lines: 0,
                bytes: held.split_off(i),
            })
        }
    }
}

/// Whether `bytes` print anything once terminal codes are stripped, as `aoctl` prints them.
fn prints_something(bytes: &[u8]) -> bool {
    !ao_core::text::strip_terminal_codes(&String::from_utf8_lossy(bytes)).is_empty()
}

fn io_error(path: &Path, e: io::Error) -> RuntimeError {
    RuntimeError::Io(format!("{}: {e}", path.display()))
}

/// Where the kept half of a trimmed log should begin: after the first newline near its
/// start, else at the first character start.
fn kept_start(kept: &[u8]) -> usize {
    let window = &kept[..kept.len().min(LINE_SEARCH)];
    if let Some(newline) = window.iter().position(|b| *b == b'\n') {
        return newline + 1;
    }
    kept.iter()
        .take(4)
        .position(|b| !is_continuation(*b))
        .unwrap_or(0)
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// The length of `bytes` without a trailing, incomplete UTF-8 sequence. Never empties a
/// non-empty buffer, so a reader with a tiny `max_bytes` still makes progress.
fn complete_utf8_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    let Some(lead) = (1..=len.min(4))
        .map(|back| len - back)
        .find(|i| !is_continuation(bytes[*i]))
    else {
        return len;
    };
    let need = match bytes[lead] {
        b if b < 0x80 => 1,
        b if b >> 5 == 0b110 => 2,
        b if b >> 4 == 0b1110 => 3,
        b if b >> 3 == 0b11110 => 4,
        _ => 1,
    };
    if lead + need > len && lead > 0 {
        lead
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(dir: &Path, cap: u64) -> OutputLog {
        let log = OutputLog::new(dir.to_path_buf(), cap).unwrap();
        log.prepare().unwrap();
        log
    }

    fn append(log: &OutputLog, name: &str, bytes: &[u8]) {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log.log_path(name))
            .unwrap();
        file.write_all(bytes).unwrap();
    }

    #[test]
    fn reads_continue_from_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 1024);
        let empty = log.read("s", 0, 100).unwrap();
        assert_eq!((empty.text.as_str(), empty.start, empty.next), ("", 0, 0));
        append(&log, "s", b"hello\nworld\n");
        let first = log.read("s", 0, 6).unwrap();
        assert_eq!(
            (first.text.as_str(), first.start, first.next),
            ("hello\n", 0, 6)
        );
        let second = log.read("s", first.next, 100).unwrap();
        assert_eq!(second.text, "world\n");
        assert_eq!(second.next, 12);
        let idle = log.read("s", second.next, 100).unwrap();
        assert_eq!((idle.text.as_str(), idle.start, idle.next), ("", 12, 12));
    }

    #[test]
    fn the_end_cursor_follows_from_now() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 1024);
        let before = log.read("s", u64::MAX, 100).unwrap();
        assert_eq!(
            (before.text.as_str(), before.next),
            ("", 0),
            "no log yet: the end is 0"
        );
        append(&log, "s", b"old\n");
        let end = log.read("s", u64::MAX, 100).unwrap();
        assert_eq!((end.text.as_str(), end.start, end.next), ("", 4, 4));
        append(&log, "s", b"new\n");
        assert_eq!(log.read("s", end.next, 100).unwrap().text, "new\n");
    }

    #[test]
    fn a_split_character_waits_for_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 1024);
        append(&log, "s", "a世".as_bytes());
        let chunk = log.read("s", 0, 3).unwrap();
        assert_eq!((chunk.text.as_str(), chunk.next), ("a", 1));
        let chunk = log.read("s", chunk.next, 3).unwrap();
        assert_eq!((chunk.text.as_str(), chunk.next), ("世", 4));
        // A tiny max still makes progress (lossily).
        assert_eq!(log.read("s", 1, 1).unwrap().next, 2);
    }

    #[test]
    fn trimming_keeps_the_newest_half_and_cursors_stay_meaningful() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 100);
        let lines: Vec<String> = (0..20).map(|i| format!("line {i:02}\n")).collect();
        let all = lines.concat();
        assert_eq!(all.len(), 160);
        append(&log, "s", all.as_bytes());
        assert!(log.enforce_cap("s").unwrap());
        let on_disk = std::fs::read(log.log_path("s")).unwrap();
        assert!(on_disk.len() <= 50, "{}", on_disk.len());
        assert!(on_disk.starts_with(b"line "), "trim starts at a line");
        assert!(!log.enforce_cap("s").unwrap(), "already small");

        // A cursor inside the kept part reads the same bytes as before the trim.
        let chunk = log.read("s", 150, 100).unwrap();
        assert_eq!((chunk.start, chunk.text.as_str()), (150, &all[150..]));
        // A cursor before the trim learns that output was dropped.
        let behind = log.read("s", 0, 1000).unwrap();
        assert!(behind.start > 0);
        assert_eq!(behind.text, &all[behind.start as usize..]);
        assert_eq!(behind.next, 160);

        // Appends after a trim continue the logical stream, also for a fresh reader
        // (a daemon restart keeps the offset file).
        append(&log, "s", b"more\n");
        let fresh = OutputLog::new(dir.path().to_path_buf(), 100).unwrap();
        assert_eq!(fresh.read("s", 160, 100).unwrap().text, "more\n");
        // A cursor beyond the end (the log was reset) restarts at the oldest kept byte.
        let reset = fresh.read("s", 10_000, 1000).unwrap();
        assert_eq!(reset.start, behind.start);
    }

    #[test]
    fn trimming_a_file_held_open_with_append_keeps_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 64);
        let mut writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log.log_path("s"))
            .unwrap();
        writer.write_all(&[b'x'; 100]).unwrap();
        assert!(log.enforce_cap("s").unwrap());
        writer.write_all(b"after\n").unwrap();
        let on_disk = std::fs::read(log.log_path("s")).unwrap();
        assert_eq!(on_disk.len(), 32 + 6, "no hole, no loss");
        assert!(on_disk.ends_with(b"after\n"));
        let chunk = log.read("s", 100, 100).unwrap();
        assert_eq!((chunk.start, chunk.text.as_str()), (100, "after\n"));
    }

    #[test]
    fn remove_and_pipe_command() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("it's #out");
        let log = log(&out, 1024);
        append(&log, "s", b"x");
        log.enforce_cap("s").unwrap();
        log.write_offset("s", 7).unwrap();
        std::fs::write(log.exit_path("s"), "0\n").unwrap();
        assert_eq!(log.exited_names().unwrap(), HashSet::from(["s".to_owned()]));
        log.remove("s").unwrap();
        log.remove("s").unwrap();
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            ["exits"],
            "only the (empty) exit-file directory stays"
        );
        assert!(log.exited_names().unwrap().is_empty());
        assert_eq!(
            log.pipe_command("s"),
            format!(
                "exec cat >> '{}/it'\\''s ##out/s.log'",
                dir.path().display()
            )
        );
        assert!(OutputLog::new(PathBuf::from("a\nb"), 10).is_err());
    }

    /// `scan_back` at the log's end (`at_end`) or before a page boundary, over `text`.
    fn scan(text: &[u8], want: usize, budget: usize, block: usize, at_end: bool) -> LinesFound {
        let mut file = io::Cursor::new(text);
        scan_back(&mut file, text.len() as u64, want, budget, block, |tail| {
            !at_end || prints_something(tail)
        })
        .unwrap()
    }

    #[test]
    fn the_backward_scan_finds_the_last_lines() {
        let esc = "a\nb\n\u{1b}[?25h";
        // (what, log, lines wanted, budget, block) => (start, lines found)
        let cases: &[(&str, &str, usize, usize, usize, u64, usize)] = &[
            ("empty log", "", 5, 100, 4, 0, 0),
            ("no lines wanted", "a\nb\n", 0, 100, 4, 4, 0),
            (
                "no trailing newline: the last line counts",
                "a\nb",
                1,
                100,
                4,
                2,
                1,
            ),
            ("no trailing newline, both lines", "a\nb", 2, 100, 4, 0, 2),
            ("no trailing newline, more wanted", "a\nb", 3, 100, 4, 0, 2),
            ("trailing newline", "a\nb\n", 1, 100, 4, 2, 1),
            ("exactly N", "1\n2\n3\n", 3, 100, 4, 0, 3),
            ("fewer than N", "1\n2\n", 5, 100, 4, 0, 2),
            ("one line, no newline", "abc", 1, 100, 4, 0, 1),
            ("empty lines count", "a\n\n\n", 2, 100, 4, 2, 2),
            ("CRLF ends one line", "1\r\n2\r\n3\r\n", 2, 100, 4, 3, 2),
            (
                "a last line that prints nothing rides along",
                esc,
                1,
                100,
                4,
                2,
                1,
            ),
            (
                "a lone CR after the last newline",
                "a\r\nb\r\n\r",
                1,
                100,
                4,
                3,
                1,
            ),
            ("only terminal codes", "\u{1b}[0m", 1, 100, 4, 0, 0),
            (
                "a block boundary in the middle of a line",
                "hello\nworld\n",
                1,
                100,
                3,
                6,
                1,
            ),
            (
                "block boundaries, all lines",
                "hello\nworld\n",
                2,
                100,
                3,
                0,
                2,
            ),
            ("a block of one byte", "ab\ncd\nef", 2, 100, 1, 3, 2),
            (
                "the budget ends: start at the oldest line start seen",
                "aaaa\nbbbb\ncccc\n",
                5,
                9,
                4,
                10,
                1,
            ),
            (
                "the budget ends right after a newline",
                "aaaa\nbbbb\ncccc\n",
                5,
                10,
                4,
                5,
                2,
            ),
            (
                "the budget ends inside one long line",
                "xxxxxxxxxx\n",
                1,
                4,
                4,
                7,
                0,
            ),
            (
                "the budget ends inside a character",
                "世界\n",
                1,
                5,
                2,
                3,
                0,
            ),
            ("the budget is the whole log", "a\nb\n", 5, 4, 4, 0, 2),
        ];
        for &(what, log, want, budget, block, start, lines) in cases {
            let found = scan(log.as_bytes(), want, budget, block, true);
            assert_eq!((found.start, found.lines), (start, lines), "{what}");
            assert_eq!(
                found.bytes,
                &log.as_bytes()[start as usize..],
                "{what}: the bytes from the start to the end"
            );
        }
    }

    /// The last `want` lines of `text` by the rule the scan implements, counted forwards.
    fn last_lines_forwards(text: &str, want: usize) -> &str {
        let mut starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        // The bytes after the last newline are a line only when they print something.
        if !prints_something(&text.as_bytes()[*starts.last().unwrap()..]) {
            starts.pop();
        }
        match starts.len().checked_sub(want) {
            _ if want == 0 => "",
            Some(i) => &text[starts[i]..],
            None => text,
        }
    }

    /// Pages backwards the way `aoctl tail` does: the first page at the end, each next one
    /// before the previous page's start, until enough lines came or the log's start.
    fn page_back(text: &str, want: usize, budget: usize, block: usize) -> (String, usize) {
        let bytes = text.as_bytes();
        let mut end = bytes.len();
        let mut pages = vec![];
        let mut found = 0;
        loop {
            let page = scan(
                &bytes[..end],
                want - found,
                budget,
                block,
                end == bytes.len(),
            );
            assert!(page.bytes.len() <= budget.max(4));
            found += page.lines;
            pages.push(page.bytes);
            if found == want || page.start == 0 {
                break;
            }
            assert!((page.start as usize) < end, "every page goes back");
            end = page.start as usize;
        }
        let all: Vec<u8> = pages.into_iter().rev().flatten().collect();
        (String::from_utf8(all).unwrap(), found)
    }

    #[test]
    fn paging_backwards_finds_exactly_the_last_lines_for_any_budget() {
        let mut text = String::new();
        for i in 0..40 {
            // Lines of varied lengths, some empty, some long, some with CRLF or codes.
            let line = "界x".repeat(i % 7) + &"-".repeat((i * 13) % 23);
            let end = if i % 5 == 0 { "\r\n" } else { "\n" };
            let code = if i % 6 == 0 { "\u{1b}[1m" } else { "" };
            text.push_str(&format!("{code}{i}:{line}{end}"));
        }
        for tail in ["", "partial", "\u{1b}[?25h"] {
            let log = format!("{text}{tail}");
            for want in [0, 1, 2, 7, 39, 40, 41, 100] {
                for (budget, block) in [(1, 1), (5, 2), (16, 4), (64, 7), (100_000, 64)] {
                    if !prints_something(tail.as_bytes()) && tail.len() > budget.max(4) {
                        // The rest of a last line longer than a page counts as a line on
                        // the next page, printing or not (the scan cannot see it all).
                        continue;
                    }
                    let (got, lines) = page_back(&log, want, budget, block);
                    let expected = last_lines_forwards(&log, want);
                    assert_eq!(
                        got, expected,
                        "tail {tail:?}, {want} lines, budget {budget}, block {block}"
                    );
                    assert_eq!(lines, expected_lines(expected), "{tail:?} {want} {budget}");
                }
            }
        }
    }

    fn expected_lines(text: &str) -> usize {
        let tail = &text[text.rfind('\n').map_or(0, |i| i + 1)..];
        text.matches('\n').count() + usize::from(prints_something(tail.as_bytes()))
    }

    #[test]
    fn last_lines_of_a_trimmed_missing_or_paged_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(dir.path(), 100);
        let missing = log.last_lines("s", None, 10, 1000).unwrap();
        assert_eq!(
            (
                missing.chunk.text.as_str(),
                missing.chunk.start,
                missing.lines
            ),
            ("", 0, 0),
            "no log: no lines"
        );
        let all: String = (0..20).map(|i| format!("line {i:02}\n")).collect();
        append(&log, "s", all.as_bytes());
        let last = log.last_lines("s", None, 2, 1000).unwrap();
        assert_eq!(last.chunk.text, "line 18\nline 19\n");
        assert_eq!((last.chunk.start, last.chunk.next), (144, 160));
        assert_eq!((last.lines, last.oldest), (2, 0));
        // The page before it, as a client asks for more.
        let before = log.last_lines("s", Some(144), 1, 1000).unwrap();
        assert_eq!(
            (before.chunk.text.as_str(), before.chunk.next),
            ("line 17\n", 144)
        );

        // Trimmed: all the log holds, from its oldest byte, which says where that is.
        assert!(log.enforce_cap("s").unwrap());
        let kept = log.last_lines("s", None, 100, 1000).unwrap();
        assert!(kept.oldest > 0);
        assert_eq!(kept.chunk.start, kept.oldest, "from the oldest kept byte");
        assert_eq!(kept.chunk.text, &all[kept.oldest as usize..]);
        assert_eq!(kept.lines, kept.chunk.text.lines().count());
        // An offset outside the log is held to it.
        let old = log.last_lines("s", Some(3), 5, 1000).unwrap();
        assert_eq!(
            (old.chunk.text.as_str(), old.chunk.start),
            ("", kept.oldest)
        );
        let beyond = log.last_lines("s", Some(10_000), 1, 1000).unwrap();
        assert_eq!(beyond.chunk.text, "line 19\n");

        // A character still being written at the end waits for the follow read.
        append(&log, "s", &"世".as_bytes()[..2]);
        let split = log.last_lines("s", None, 1, 1000).unwrap();
        assert_eq!(
            (split.chunk.text.as_str(), split.chunk.next),
            ("line 19\n", 160)
        );
    }

    #[test]
    fn utf8_completion() {
        assert_eq!(complete_utf8_len(b"abc"), 3);
        assert_eq!(complete_utf8_len("a世".as_bytes()), 4);
        assert_eq!(complete_utf8_len(&"a世".as_bytes()[..3]), 1);
        assert_eq!(complete_utf8_len(&"世".as_bytes()[..2]), 2);
        assert_eq!(complete_utf8_len(b""), 0);
        assert_eq!(kept_start("世x".as_bytes().get(1..).unwrap()), 2);
        assert_eq!(kept_start(b"ab\ncd"), 3);
    }
}
