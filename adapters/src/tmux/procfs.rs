//! Reading `/proc`: is the agent alive under a pane, which processes belong to a pane's process
//! session, and does any process still listen on a Unix socket path (`/proc/net/unix`: is a tmux
//! server alive although its socket file is gone or stale).
//!
//! The root is configurable so tests can build a fake `/proc` in a temporary directory. All
//! functions here block on file reads; async callers run them on `spawn_blocking`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use ao_core::domain::ProbeResult;

/// The fields of `/proc/<pid>/stat` this adapter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub ppid: u32,
    pub session: u32,
}

impl ProcStat {
    /// Zombies (`Z`) and dead tasks (`X`) run nothing.
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// Parses `pid (comm) state ppid pgrp session …`. The command name may hold spaces and
/// parentheses, so the fields are read after the LAST `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let _pgrp = fields.next()?;
    let session = fields.next()?.parse().ok()?;
    Some(ProcStat {
        state,
        ppid,
        session,
    })
}

/// A process that exits between the directory listing and the read gives `ENOENT`, or
/// `ESRCH` when it is reaped while its file is open: with many processes coming and going,
/// either is routine and must not fail a whole scan.
fn vanished_mid_read(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotFound
        || error.raw_os_error() == Some(nix::errno::Errno::ESRCH as i32)
}

fn invalid(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: unexpected content", path.display()),
    )
}

/// A `/proc` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcFs {
    root: PathBuf,
}

impl ProcFs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn stat(&self, pid: u32) -> io::Result<ProcStat> {
        let path = self.root.join(pid.to_string()).join("stat");
        let text = std::fs::read_to_string(&path)?;
        parse_stat(&text).ok_or_else(|| invalid(&path))
    }

    /// Every numeric entry of the root with its stat; processes that vanish mid-scan are
    /// skipped.
    fn scan(&self) -> io::Result<Vec<(u32, ProcStat)>> {
        let mut found = vec![];
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            match self.stat(pid) {
                Ok(stat) => found.push((pid, stat)),
                Err(e) if vanished_mid_read(&e) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// The children of `pid` from `/proc/<pid>/task/*/children`; `Ok(None)` when this kernel
    /// does not provide those files.
    fn task_children(&self, pid: u32) -> io::Result<Option<Vec<u32>>> {
        let tasks = self.root.join(pid.to_string()).join("task");
        let mut children = vec![];
        let mut any_file = false;
        for entry in std::fs::read_dir(&tasks)? {
            let path = entry?.path().join("children");
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    any_file = true;
                    for word in text.split_whitespace() {
                        children.push(word.parse().map_err(|_| invalid(&path))?);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(any_file.then_some(children))
    }

    /// Pids (other than 1 and ourselves) of running processes whose session id is one of
    /// `sessions`: what must be signalled to reap a pane's process sessions.
    pub fn session_members(&self, sessions: &[u32]) -> io::Result<Vec<u32>> {
        let me = std::process::id();
        Ok(self
            .scan()?
            .into_iter()
            .filter(|(pid, stat)| {
                *pid > 1 && *pid != me && stat.is_running() && sessions.contains(&stat.session)
            })
            .map(|(pid, _)| pid)
            .collect())
    }

    /// Whether some process listens on a Unix socket bound to one of `paths`, from
    /// `/proc/net/unix`. A listening socket whose file was deleted (or replaced) still shows its
    /// path there, so this tells a live server with a lost socket file from a dead one.
    pub fn unix_listener(&self, paths: &[PathBuf]) -> io::Result<bool> {
        let text = std::fs::read_to_string(self.root.join("net").join("unix"))?;
        Ok(listening_unix_paths(&text).any(|listening| {
            paths
                .iter()
                .any(|path| path.as_os_str() == std::ffi::OsStr::new(listening))
        }))
    }

    /// A process prober for one probe call: the fallback scan of `/proc/*/stat` runs at most
    /// once per prober, however many panes need it.
    pub fn prober(&self) -> ProcessProber<'_> {
        ProcessProber {
            proc: self,
            available: self.root.is_dir(),
            by_parent: None,
        }
    }
}

/// Answers "is the agent alive under this pane?" for the panes of one probe call.
#[derive(Debug)]
pub struct ProcessProber<'a> {
    proc: &'a ProcFs,
    available: bool,
    by_parent: Option<Result<HashMap<u32, Vec<u32>>, io::ErrorKind>>,
}

impl ProcessProber<'_> {
    fn children_by_scan(&mut self, pid: u32) -> Result<Vec<u32>, io::ErrorKind> {
        let proc = self.proc;
        let map = self.by_parent.get_or_insert_with(|| {
            let mut map: HashMap<u32, Vec<u32>> = HashMap::new();
            for (child, stat) in proc.scan().map_err(|e| e.kind())? {
                map.entry(stat.ppid).or_default().push(child);
            }
            Ok(map)
        });
        match map {
            Ok(map) => Ok(map.get(&pid).cloned().unwrap_or_default()),
            Err(kind) => Err(*kind),
        }
    }

    /// `alive` iff some child of the pane process runs; `dead` when the pane process is gone
    /// or has no running child; `failed` for an unparsable pid or an unexpected read error;
    /// `indeterminate` without `/proc`.
    pub fn probe(&mut self, pane_pid: Option<u32>) -> ProbeResult {
        if !self.available {
            return ProbeResult::Indeterminate;
        }
        let Some(pid) = pane_pid else {
            return ProbeResult::Failed;
        };
        let children = match self.proc.task_children(pid) {
            Ok(Some(children)) => children,
            Ok(None) => match self.children_by_scan(pid) {
                Ok(children) => children,
                Err(_) => return ProbeResult::Failed,
            },
            // No `/proc/P` (or it vanished while being read): the pane process is gone.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return ProbeResult::Dead,
            Err(_) => return ProbeResult::Failed,
        };
        let mut failed = false;
        for child in children {
            match self.proc.stat(child) {
                Ok(stat) if stat.is_running() => return ProbeResult::Alive,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(_) => failed = true,
            }
        }
        if failed {
            ProbeResult::Failed
        } else {
            ProbeResult::Dead
        }
    }
}

/// `SO_ACCEPTCON` in the flags column of `/proc/net/unix`: the socket listens.
const LISTENING: u32 = 0x0001_0000;

/// The paths of the listening sockets in a `/proc/net/unix` listing
/// (`Num RefCount Protocol Flags Type St Inode Path`); unbound sockets have no path. A path
/// is everything after the inode, so it may hold spaces.
pub fn listening_unix_paths(text: &str) -> impl Iterator<Item = &str> {
    text.lines().skip(1).filter_map(|line| {
        let mut rest = line;
        let mut fields = [""; 7];
        for field in &mut fields {
            rest = rest.trim_start_matches(' ');
            let end = rest.find(' ').unwrap_or(rest.len());
            *field = &rest[..end];
            rest = &rest[end..];
        }
        let flags = u32::from_str_radix(fields[3], 16).ok()?;
        let path = rest.strip_prefix(' ').filter(|p| !p.is_empty())?;
        (flags & LISTENING != 0).then_some(path)
    })
}

#[cfg(test)]
pub(crate) mod fake {
    //! A fake `/proc` tree in a temporary directory.

    use std::path::Path;

    /// Writes `<root>/<pid>/stat` for a process named `comm`.
    pub fn process(root: &Path, pid: u32, comm: &str, state: char, ppid: u32, session: u32) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(dir.join("task").join(pid.to_string())).unwrap();
        std::fs::write(
            dir.join("stat"),
            format!("{pid} ({comm}) {state} {ppid} {pid} {session} 0 -1 4194304 100 0 0\n"),
        )
        .unwrap();
    }

    /// Writes `<root>/net/unix` from `(listening, path)` rows, in the kernel's format.
    pub fn unix_sockets(root: &Path, sockets: &[(bool, &str)]) {
        let mut text = "Num       RefCount Protocol Flags    Type St Inode Path\n".to_owned();
        for (i, (listening, path)) in sockets.iter().enumerate() {
            let flags = if *listening { "00010000" } else { "00000000" };
            let state = if *listening { "01" } else { "03" };
            text.push_str(&format!(
                "000000000000{i:04x}: 00000002 00000000 {flags} 0001 {state} {:5} {path}\n",
                1000 + i
            ));
        }
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(root.join("net").join("unix"), text).unwrap();
    }

    /// Writes `<root>/<pid>/task/<pid>/children`.
    pub fn children(root: &Path, pid: u32, children: &[u32]) {
        let text: String = children.iter().map(|c| format!("{c} ")).collect();
        std::fs::write(
            root.join(pid.to_string())
                .join("task")
                .join(pid.to_string())
                .join("children"),
            text,
        )
        .unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{children, process};
    use super::*;

    #[test]
    fn stat_parsing() {
        let stat = parse_stat("4250 (a) (b) c)) S 4242 4250 4242 0 -1").unwrap();
        assert_eq!(
            stat,
            ProcStat {
                state: 'S',
                ppid: 4242,
                session: 4242
            }
        );
        assert!(stat.is_running());
        assert!(!parse_stat("4250 (x) Z 1 1 1").unwrap().is_running());
        assert!(!parse_stat("4250 (x) X 1 1 1").unwrap().is_running());
        for bad in ["", "garbage", "1 (x)", "1 (x) S nan 1 1", "1 (x) S 1 1"] {
            assert_eq!(parse_stat(bad), None, "{bad}");
        }
    }

    #[test]
    fn v7_process_probe_from_task_children() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // 4242 has a sleeping child; 4243 only a zombie; 4244 no children.
        process(root, 4242, "sh", 'S', 1, 4242);
        children(root, 4242, &[4250]);
        process(root, 4250, "agent", 'S', 4242, 4242);
        process(root, 4243, "sh", 'S', 1, 4243);
        children(root, 4243, &[4251]);
        process(root, 4251, "agent", 'Z', 4243, 4243);
        process(root, 4244, "sh", 'S', 1, 4244);
        children(root, 4244, &[]);
        // A child whose name contains ") (" is read after the last ')'.
        process(root, 4245, "sh", 'S', 1, 4245);
        children(root, 4245, &[4252]);
        process(root, 4252, "evil) (Z", 'R', 4245, 4245);

        let proc = ProcFs::new(root);
        let mut prober = proc.prober();
        assert_eq!(prober.probe(Some(4242)), ProbeResult::Alive);
        assert_eq!(prober.probe(Some(4243)), ProbeResult::Dead);
        assert_eq!(prober.probe(Some(4244)), ProbeResult::Dead);
        assert_eq!(prober.probe(Some(4245)), ProbeResult::Alive);
        assert_eq!(
            prober.probe(Some(4299)),
            ProbeResult::Dead,
            "missing /proc/P"
        );
        assert_eq!(
            prober.probe(None),
            ProbeResult::Failed,
            "unparsable pane pid"
        );
        // No scan was needed.
        assert!(prober.by_parent.is_none());
    }

    #[test]
    fn v7_children_by_scan_when_the_kernel_has_no_children_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        process(root, 4242, "sh", 'S', 1, 4242);
        process(root, 4250, "agent", 'S', 4242, 4242);
        process(root, 4243, "sh", 'S', 1, 4243);
        process(root, 4251, "agent", 'Z', 4243, 4243);
        std::fs::create_dir_all(root.join("self")).unwrap();

        let proc = ProcFs::new(root);
        let mut prober = proc.prober();
        assert_eq!(prober.probe(Some(4242)), ProbeResult::Alive);
        assert_eq!(prober.probe(Some(4243)), ProbeResult::Dead);
        let scanned = prober.by_parent.as_ref().unwrap().as_ref().unwrap().len();
        // The map is built once and reused: removing a file does not change the answer.
        std::fs::remove_file(root.join("4250/stat")).unwrap();
        assert_eq!(prober.probe(Some(4242)), ProbeResult::Dead);
        assert_eq!(
            prober.by_parent.as_ref().unwrap().as_ref().unwrap().len(),
            scanned
        );
    }

    #[test]
    fn v7_unreadable_child_stat_is_failed_and_no_proc_is_indeterminate() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        process(root, 4242, "sh", 'S', 1, 4242);
        children(root, 4242, &[4250]);
        process(root, 4250, "agent", 'S', 4242, 4242);
        std::fs::write(root.join("4250/stat"), "garbage").unwrap();
        assert_eq!(
            ProcFs::new(root).prober().probe(Some(4242)),
            ProbeResult::Failed
        );

        let missing = ProcFs::new(root.join("no-proc-here"));
        assert_eq!(missing.prober().probe(Some(1)), ProbeResult::Indeterminate);
    }

    #[test]
    fn session_members_skip_zombies_and_other_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        process(root, 4242, "sh", 'S', 1, 4242);
        process(root, 4250, "server", 'S', 1, 4242);
        process(root, 4251, "gone", 'Z', 1, 4242);
        process(root, 4260, "other", 'S', 1, 4260);
        process(root, 1, "init", 'S', 0, 1);
        std::fs::create_dir_all(root.join("not-a-pid")).unwrap();
        let mut members = ProcFs::new(root).session_members(&[4242, 1]).unwrap();
        members.sort_unstable();
        assert_eq!(members, vec![4242, 4250]);
        assert!(
            ProcFs::new(root.join("missing"))
                .session_members(&[1])
                .is_err()
        );
    }

    #[test]
    fn a_process_reaped_mid_read_is_skipped_not_an_error() {
        let esrch = io::Error::from_raw_os_error(nix::errno::Errno::ESRCH as i32);
        assert!(vanished_mid_read(&esrch));
        assert!(vanished_mid_read(&io::ErrorKind::NotFound.into()));
        assert!(!vanished_mid_read(&io::ErrorKind::PermissionDenied.into()));
    }

    #[test]
    fn real_proc_sees_our_own_child() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let proc = ProcFs::new("/proc");
        let result = proc.prober().probe(Some(std::process::id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(result, ProbeResult::Alive);
    }

    #[test]
    fn listening_unix_paths_from_a_listing() {
        let listing = "\
Num       RefCount Protocol Flags    Type St Inode Path
000000007c70d3bb: 00000002 00000000 00010000 0001 01 138857 /tmp/tmux-0/ao
00000000ba9618e9: 00000003 00000000 00000000 0001 03 136353
00000000ba9618ea: 00000003 00000000 00000000 0001 03 136354 /run/connected.sock
00000000ba9618eb: 00000002 00000000 00010000 0005 01   999 /tmp/with space/s.sock
00000000ba9618ec: 00000002 00000000 00010000 0001 01  1000 @abstract
00000000ba9618ed: garbage
";
        let paths: Vec<&str> = listening_unix_paths(listing).collect();
        assert_eq!(
            paths,
            ["/tmp/tmux-0/ao", "/tmp/with space/s.sock", "@abstract"]
        );
        assert_eq!(listening_unix_paths("").count(), 0);
    }

    #[test]
    fn unix_listener_matches_whole_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        super::fake::unix_sockets(
            root,
            &[(true, "/tmp/tmux-0/ao"), (false, "/tmp/tmux-0/idle")],
        );
        let proc = ProcFs::new(root);
        let yes = |p: &str| proc.unix_listener(&[PathBuf::from(p)]).unwrap();
        assert!(yes("/tmp/tmux-0/ao"));
        assert!(!yes("/tmp/tmux-0/a"), "no prefix match");
        assert!(!yes("/tmp/tmux-0/idle"), "bound but not listening");
        assert!(
            proc.unix_listener(&[PathBuf::from("/x"), PathBuf::from("/tmp/tmux-0/ao")])
                .unwrap()
        );
        let missing = ProcFs::new(root.join("nothing"));
        assert!(
            missing
                .unix_listener(&[PathBuf::from("/tmp/tmux-0/ao")])
                .is_err()
        );
    }
}
