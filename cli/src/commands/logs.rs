//! `aoctl logs`: the daemon's log, `<data dir>/aod.log` (where every daemon `aoctl` starts
//! writes), read from the file: its last lines, and with `-f` what is added to it (a log that
//! was rotated or truncated is followed from its new start). Needs no daemon.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use clap::Args;

use crate::Global;
use crate::client::{CliError, Result, exit};
use crate::render;

/// How often `-f` looks at the file.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// How many of the last lines to show (0: none).
    #[arg(short = 'n', long, default_value_t = 50)]
    lines: usize,
    /// Keep following what the daemon writes.
    #[arg(short, long)]
    follow: bool,
}

pub async fn run(global: &Global, args: LogsArgs) -> Result<u8> {
    let path = global.data_dir().join("aod.log");
    let bytes = std::fs::read(&path).map_err(|e| {
        CliError::new(
            exit::NOT_FOUND,
            format!(
                "cannot read the daemon's log {}: {e} (a daemon started by aoctl writes there; \
                 one started by hand writes where its --log-file says)",
                path.display()
            ),
        )
    })?;
    render::output(&String::from_utf8_lossy(last_lines(&bytes, args.lines)));
    if !args.follow {
        return Ok(exit::OK);
    }
    render::exit_when_reader_leaves();
    let mut position = bytes.len() as u64;
    loop {
        tokio::time::sleep(FOLLOW_POLL).await;
        let Ok(len) = std::fs::metadata(&path).map(|m| m.len()) else {
            continue;
        };
        if len < position {
            position = 0;
        }
        if len > position {
            let added = read_from(&path, position)
                .map_err(|e| CliError::failed(format!("reading {}: {e}", path.display())))?;
            position += added.len() as u64;
            render::output(&String::from_utf8_lossy(&added));
        }
    }
}

/// The last `n` lines of `bytes` (a last line without its newline counts).
fn last_lines(bytes: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let start = body
        .iter()
        .enumerate()
        .rev()
        .filter(|&(_, &b)| b == b'\n')
        .nth(n - 1)
        .map_or(0, |(i, _)| i + 1);
    &bytes[start..]
}

fn read_from(path: &Path, position: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(position))?;
    let mut added = Vec::new();
    file.read_to_end(&mut added)?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\nc", 2), b"b\nc");
        assert_eq!(last_lines(b"a\nb\n", 5), b"a\nb\n");
        assert_eq!(last_lines(b"a\nb\n", 0), b"");
        assert_eq!(last_lines(b"", 3), b"");
    }
}
