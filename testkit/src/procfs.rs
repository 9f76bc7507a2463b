//! The process table as `/proc` shows it, for tests that check what ao started and reaped:
//! liveness, descendants, command lines, CPU time and memory.
//!
//! On purpose a reader of its own, not the tmux adapter's `procfs`: tests that check the
//! adapter's reaping must not see processes through the code under test.

use std::time::Duration;

/// The fields of `/proc/<pid>/stat` tests read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// `R`, `S`, `D`, `Z` (zombie), `X` (dead), …
    pub state: char,
    pub ppid: u32,
    /// User plus system time of the process itself.
    pub cpu: Duration,
    /// User plus system time of its reaped children.
    pub children_cpu: Duration,
}

/// `pid`'s stat; `None` when there is no such process.
pub fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses `pid (comm) state ppid …`: the command name may hold spaces and parentheses, so the
/// fields are read after its last `)`. Times are fields 14 to 17 of the line, in clock ticks.
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100, |t| t as u64);
    let time = |ticks: u64| Duration::from_millis(ticks * 1000 / per_second);
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        cpu: time(ticks(11)? + ticks(12)?),
        children_cpu: time(ticks(13)? + ticks(14)?),
    })
}

/// User plus system CPU time `pid` has used so far; panics when it does not exist.
pub fn cpu_time(pid: u32) -> Duration {
    stat(pid)
        .unwrap_or_else(|| panic!("no process {pid} in /proc"))
        .cpu
}

/// Whether `pid` runs (a zombie does not).
pub fn process_alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| !matches!(s.state, 'Z' | 'X'))
}

/// `(pid, parent pid)` of every process.
fn process_table() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?.ppid)))
        .collect()
}

/// Every live descendant of `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = process_table();
    let mut found = vec![];
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid) in &table {
            if *ppid == parent && !found.contains(pid) {
                found.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    found
}

/// `pid`'s argv joined by spaces (empty when it is gone).
pub fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command lines of `root` and every process below it.
pub fn process_tree(root: u32) -> Vec<String> {
    std::iter::once(root)
        .chain(descendants(root))
        .map(command_line)
        .collect()
}

/// A `/proc/<pid>/status` value in KiB (`VmRSS`, `VmHWM`); `None` when the process or the
/// field is missing.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_last_parenthesis() {
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 10 5 20 0 1 0 9 0 0";
        let stat = parse_stat(line).expect("a stat line");
        assert_eq!((stat.state, stat.ppid), ('S', 7));
        let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .map_or(100, |t| t as u64);
        assert_eq!(stat.cpu, Duration::from_millis(300 * 1000 / per_second));
        assert_eq!(
            stat.children_cpu,
            Duration::from_millis(15 * 1000 / per_second)
        );
        assert_eq!(parse_stat("42 (truncated"), None);
    }

    #[test]
    fn this_process_is_alive_and_under_its_parent() {
        let me = std::process::id();
        assert!(process_alive(me));
        let parent = stat(me).expect("our own stat").ppid;
        assert!(descendants(parent).contains(&me));
        assert!(
            process_tree(me)[0].contains("ao_testkit"),
            "{:?}",
            process_tree(me)
        );
        assert!(status_kib(me, "VmRSS").is_some_and(|kib| kib > 0));
    }
}
