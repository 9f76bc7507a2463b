//! End-to-end tests of the daily operator's rough edges, through the real binaries: a `wait` that
//! ends when its session ended, aoctl's output cut off by its reader (`| head -1`), `events` of an
//! unknown session, and killing a session that had already ended.

use std::io::Read;
use std::process::{Child, Stdio};

use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

/// Waits (polling, within `SLOW`) for `child` to exit; returns its exit code and stderr.
fn wait_exit(child: &mut Child, what: &str) -> (Option<i32>, String) {
    let status = wait_for(what, SLOW, || match child.try_wait() {
        Ok(Some(status)) => Ok(status),
        Ok(None) => Err("still running".to_owned()),
        Err(e) => Err(e.to_string()),
    });
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (status.code(), stderr)
}

/// A `wait` for a status its session can no longer reach ends as soon as the session ends,
/// with exit code 5 and the status it ended in; `--any` keeps waiting while one can.
#[test]
fn wait_ends_when_its_session_ended() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    let other = env.spawn_cmd("demo", "sleep 100000");
    let mut waiting = env
        .aoctl()
        .args(["wait", &id, "--status", "needs_input"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aoctl wait");
    env.ok(&["kill", &id]);
    let (code, stderr) = wait_exit(&mut waiting, "the wait to end after the kill");
    assert_eq!(code, Some(5), "{stderr}");
    assert!(
        stderr.contains(&format!("{id} ended as killed")) && stderr.contains("needs_input"),
        "{stderr}"
    );

    // Already ended: at once, also as JSON on stdout.
    let out = env.run(&["wait", &id, "--status", "idle", "--json"]);
    assert_eq!(out.status.code(), Some(5));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(reply["unreachable"], true, "{reply}");
    assert_eq!(reply["reached"], false, "{reply}");

    // With --any, the live session may still get there: a timeout, not an ended wait.
    let out = env.run(&[
        "wait",
        &id,
        &other,
        "--any",
        "--status",
        "needs_input",
        "--timeout",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // Waiting for the status it ended in is met.
    env.ok(&["wait", &id, "--status", "killed"]);
}

/// An aoctl whose reader has gone (`aoctl … | head -1`) exits at once with status 0 and no
/// panic, whether it prints once, follows a log, or redraws.
#[test]
fn a_reader_that_leaves_ends_aoctl_quietly() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    for args in [
        vec!["events"],
        vec!["events", "--json"],
        vec!["events", "-f"],
        vec!["ls"],
        vec!["ls", "--watch"],
        vec!["get", id.as_str()],
        vec!["completions", "bash"],
        // Prints nothing (a silent pane) and follows: ended by the reader check.
        vec!["tail", "-f", "-n", "1", id.as_str()],
        vec!["logs", "-f", "-n", "0"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut child = env
            .aoctl()
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start aoctl");
        let (code, stderr) = wait_exit(&mut child, &format!("aoctl {args:?} to exit"));
        assert_eq!(code, Some(0), "aoctl {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "aoctl {args:?}: {stderr}");
    }
    // A client killed in the middle of a long-poll (its first page read, the next one
    // waiting): the daemon notes it at debug level only.
    let mut child = env
        .aoctl()
        .args(["events", "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start aoctl");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout")),
        &mut first,
    )
    .expect("the events header");
    assert!(first.contains("SEQ"), "{first}");
    child.kill().expect("kill aoctl");
    child.wait().expect("reap aoctl");
    env.ok(&["ls"]);
    let log = std::fs::read_to_string(env.log_path()).unwrap_or_default();
    let noise: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("tarpc") || l.contains("pipe") || l.contains("connection")
        })
        .collect();
    assert!(noise.is_empty(), "{noise:#?}");
}

/// `events --session` of an unknown session is "not found" (exit code 4), not an empty log.
#[test]
fn events_of_an_unknown_session_are_not_found() {
    let (env, _repo) = TestEnv::with_demo_project();
    let out = env.run(&["events", "--session", "nope-1"]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nope-1"),
        "{out:?}"
    );
}

/// Killing a session that had already ended says so instead of repeating what the first kill
/// did; `get` says when it ended and that its worktree is no longer there.
#[test]
fn killing_an_ended_session_says_it_had_ended() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    assert!(env.json(&["get", &id])["ended_at"].is_null());
    let first = env.ok(&["kill", &id]);
    let session = env.json(&["get", &id]);
    let ended_at = session["ended_at"].as_str().expect("an end time");
    chrono::DateTime::parse_from_rfc3339(ended_at).expect("RFC 3339");
    let text = env.ok(&["get", &id]);
    let ended_line = text
        .lines()
        .find(|l| l.starts_with("ended"))
        .unwrap_or_default();
    assert!(ended_line.contains(ended_at), "{text}");
    assert!(text.contains("(no longer there)"), "{text}");
    assert!(first.starts_with(&format!("killed {id}")), "{first}");
    let again = env.ok(&["kill", &id]);
    assert!(
        again.starts_with(&format!("{id} had already ended (killed)")),
        "{again}"
    );
    let reply = env.json(&["kill", &id]);
    assert_eq!(reply["already_ended"], "killed", "{reply}");
}

/// `aoctl spawn` run inside a session's worktree (what an agent there does) spawns into the
/// session's own project, records the session as the parent, and a repository never gets a
/// second project.
#[test]
fn a_spawn_from_inside_a_session_uses_its_project_and_records_the_parent() {
    let (env, repo) = TestEnv::with_demo_project();
    let parent = env.spawn_cmd("demo", "sleep 100000");
    let worktree = env.json(&["get", &parent])["workspace_path"]
        .as_str()
        .expect("a worktree path")
        .to_owned();
    let out = env
        .aoctl()
        .args(["spawn", "--cmd", "sleep 100000", "--json"])
        .current_dir(&worktree)
        .env("AO_SESSION_ID", &parent)
        .output()
        .expect("run aoctl spawn");
    assert!(out.status.success(), "{out:?}");
    let child: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let child_id = child["id"].as_str().expect("an id").to_owned();
    assert_eq!(child["project"], "demo", "{child}");
    assert_eq!(child["parent"], parent.as_str(), "{child}");
    let shown = env.ok(&["get", &child_id]);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("spawned by") && l.trim_end().ends_with(&parent)),
        "{shown}"
    );
    let projects = env.json(&["project", "ls"]);
    assert_eq!(
        projects.as_array().map(Vec::len),
        Some(1),
        "no project for the worktree: {projects}"
    );

    // The same repository, or a worktree of it, cannot become a second project.
    for path in [repo.path.to_str().unwrap(), worktree.as_str()] {
        let out = env.run(&["project", "add", "again", path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("already registered as project demo"),
            "{stderr}"
        );
    }

    // The parent goes first; the child is still killed normally.
    env.ok(&["kill", &parent]);
    let killed = env.ok(&["kill", &child_id]);
    assert!(
        killed.starts_with(&format!("killed {child_id}")),
        "{killed}"
    );
}

/// The agent's program is looked up on the spawner's `PATH`, which the agent also gets, and
/// `--env`/`--env-file` set its variables; nothing else of the spawner's environment leaks in.
#[test]
fn the_spawner_chooses_the_agents_path_and_variables() {
    use std::os::unix::fs::PermissionsExt;
    let (env, _repo) = TestEnv::with_demo_project();
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let program = bin.join("myprog");
    std::fs::write(
        &program,
        "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$MYKEY\" \"$FROMFILE\" \"$LEAKED\" \"$PATH\" > \"$1\"\nexec sleep 100000\n",
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env_file = dir.path().join("agent.env");
    std::fs::write(
        &env_file,
        "# for the agent\nFROMFILE=\"from the file\"\nMYKEY=overridden\n",
    )
    .unwrap();
    let seen = dir.path().join("seen.txt");
    let caller_path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let cmd = format!("myprog {}", seen.display());
    let spawn = |path: &str| {
        env.aoctl()
            .args(["spawn", "-p", "demo", "--cmd", &cmd, "--env", "MYKEY=x"])
            .arg("--env-file")
            .arg(&env_file)
            .env("PATH", path)
            .env("LEAKED", "no")
            .output()
            .expect("run aoctl spawn")
    };
    let out = spawn(&caller_path);
    assert!(out.status.success(), "{out:?}");
    let line = wait_for("the agent's environment", SLOW, || {
        std::fs::read_to_string(&seen).map_err(|e| e.to_string())
    });
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields[..3], ["x", "from the file", ""], "{line}");
    assert!(
        fields[3].split(':').any(|p| p == bin.to_str().unwrap()),
        "the agent has the spawner's PATH: {line}"
    );

    // Not on the spawner's PATH: the error says whose PATH was searched.
    let out = spawn("/usr/bin:/bin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("not on your PATH"), "{stderr}");
}

/// Errors name the valid values and what to do next, in plain words and without `-v`.
#[test]
fn errors_say_what_is_valid_and_what_to_do() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    let fails = |args: &[&str], code: i32, needles: &[&str]| {
        let out = env.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "aoctl {args:?}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "aoctl {args:?}: {stderr}");
        }
        assert!(!stderr.contains("Some("), "aoctl {args:?}: {stderr}");
    };
    fails(
        &["wait", &id, "--status", "banana"],
        2,
        &["unknown status \"banana\"", "needs_input"],
    );
    fails(
        &["spawn", "-p", "demo", "--agent", "nosuch"],
        2,
        &[
            "unknown agent \"nosuch\"",
            "configured agents:",
            "claude-code",
        ],
    );
    fails(&["spawn", "-p", "demo"], 2, &["--cmd", "--agent"]);
    fails(
        &["send", &id, "--file", "/nonexistent/message"],
        2,
        &["/nonexistent/message", "No such file or directory"],
    );
    fails(&["restore", &id], 1, &["still running"]);
    // Spaces around the statuses of a list are fine.
    env.ok(&["kill", &id]);
    env.ok(&["wait", &id, "--status", "done, killed"]);
}

/// `tail -n 0` prints nothing (and `-f` would follow from the end).
#[test]
fn tail_of_zero_lines_prints_nothing() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sh -c 'echo hello-tail; exec sleep 100000'");
    env.wait_tail(&id, "hello-tail");
    assert_eq!(env.ok(&["tail", "-n", "0", &id]), "");
    assert!(env.ok(&["tail", "-n", "1", &id]).contains("hello-tail"));
}

/// What people read: a header above the change log, the time above each `ls --watch` redraw,
/// a worktree that is gone marked as such, global options under their own heading, and one
/// meaning per short flag.
#[test]
fn listings_and_help_read_well() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    let events = env.ok(&["events"]);
    let first = events.lines().next().unwrap_or_default();
    assert!(
        first.contains("SEQ") && first.contains("SESSION") && first.contains("EVENT"),
        "{events}"
    );

    let mut watch = env
        .aoctl()
        .args(["ls", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ls --watch");
    let mut first_line = String::new();
    {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(watch.stdout.take().expect("stdout"));
        reader.read_line(&mut first_line).expect("a line");
    }
    let _ = wait_exit(&mut watch, "ls --watch to end once its reader left");
    assert!(first_line.contains("every 2s"), "{first_line}");

    env.ok(&["kill", &id]);
    let shown = env.ok(&["get", &id]);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("workspace") && l.ends_with("(no longer there)")),
        "{shown}"
    );

    let help = env.ok(&["send", "--help"]);
    assert!(help.contains("Global options:"), "{help}");
    assert!(
        !help.contains("-f, --file"),
        "-f means --follow elsewhere: {help}"
    );
}

/// `aoctl logs` shows the daemon's log from its file, its last lines exactly; `-f` follows it.
#[test]
fn logs_shows_the_daemons_log() {
    let (env, _repo) = TestEnv::with_demo_project();
    let log = std::fs::read_to_string(env.log_path()).expect("the daemon's log");
    let last_two: Vec<&str> = log.lines().rev().take(2).collect();
    let shown = env.ok(&["logs", "-n", "2"]);
    let shown: Vec<&str> = shown.lines().rev().collect();
    assert_eq!(shown, last_two);

    let mut follow = env
        .aoctl()
        .args(["logs", "-f", "-n", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start logs -f");
    let stdout = follow.stdout.take().expect("stdout");
    let (found, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("a line added to the log") {
                let _ = found.send(line);
            }
        }
    });
    // Whoever appends to the file: `-f` shows it.
    wait_for("logs -f to show an added line", SLOW, || {
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(env.log_path())
            .map_err(|e| e.to_string())?;
        writeln!(log, "a line added to the log").map_err(|e| e.to_string())?;
        seen.recv_timeout(std::time::Duration::from_secs(1))
            .map_err(|e| e.to_string())
    });
    let _ = follow.kill();
    let _ = follow.wait();
}

/// `aoctl ls` in a real terminal (a tmux pane on a private server, 100 columns): STATUS is
/// coloured, a long branch is cut with `…` to fit; `NO_COLOR` turns colour off and `--wide`
/// shows the branch whole.
#[test]
fn ls_in_a_terminal_colours_status_and_fits_the_width() {
    let (env, _repo) = TestEnv::with_demo_project();
    let branch = "feature/a-very-long-branch-name-that-does-not-fit-in-a-narrow-terminal";
    let id = env.json(&[
        "spawn",
        "-p",
        "demo",
        "--cmd",
        "sleep 100000",
        "--branch",
        branch,
    ])["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    env.wait_status(&id, &["working"]);

    let terminal = Terminal::new(&env);
    let run = |name: &str, extra_env: &[&str], args: &[&str]| -> String {
        terminal.start(name, extra_env, args);
        terminal.wait_exit(name);
        terminal.screen(name)
    };
    let coloured = run("colour", &[], &["ls"]);
    let plain = run("plain", &["NO_COLOR=1"], &["ls"]);
    let wide = run("wide", &["NO_COLOR=1"], &["ls", "--wide"]);

    assert!(coloured.contains("\u{1b}[32mworking"), "{coloured:?}");
    assert!(
        coloured.contains("feature/a-very") && coloured.contains('…'),
        "{coloured}"
    );
    assert!(!coloured.contains(branch), "{coloured}");
    assert!(
        coloured
            .lines()
            .all(|l| ao_core::text::strip_terminal_codes(l).chars().count() <= 100),
        "{coloured}"
    );
    assert!(!plain.contains("\u{1b}[32m"), "{plain:?}");
    assert!(wide.contains(branch), "{wide}");
}

/// A terminal for aoctl: windows of a private tmux server (100x20, each window's pane kept
/// after its command exits), killed with its socket when dropped, also when the test fails.
struct Terminal {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    conf: std::path::PathBuf,
    aoctl_env: Vec<(&'static str, String)>,
}

impl Terminal {
    fn new(env: &TestEnv) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("term.sock");
        let conf = dir.path().join("term.conf");
        std::fs::write(&conf, "set -g remain-on-exit on\n").unwrap();
        Self {
            socket,
            conf,
            _dir: dir,
            aoctl_env: vec![
                ("AO_SOCKET", env.socket.display().to_string()),
                ("AO_DATA_DIR", env.data_dir.display().to_string()),
                ("TERM", "xterm-256color".to_owned()),
            ],
        }
    }

    /// `aoctl --no-autostart ARGS` in a new session `name`, with `extra_env` (`KEY=VALUE`).
    fn start(&self, name: &str, extra_env: &[&str], args: &[&str]) {
        let mut command = std::process::Command::new("tmux");
        command
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.conf)
            .args(["new-session", "-d", "-x", "100", "-y", "20", "-s", name])
            .env_remove("TMUX");
        for (key, value) in &self.aoctl_env {
            command.arg("-e").arg(format!("{key}={value}"));
        }
        for pair in extra_env {
            command.arg("-e").arg(pair);
        }
        command
            .arg("--")
            .arg(ao_testkit::bin("aoctl"))
            .arg("--no-autostart")
            .args(args);
        assert!(command.status().expect("tmux").success());
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn target(name: &str) -> String {
        format!("={name}:0.0")
    }

    /// The screen of `name`, with its colours, wrapped lines joined.
    fn screen(&self, name: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-J", "-t", &Self::target(name)])
    }

    /// Waits until the screen of `name` shows `text`; returns the screen.
    fn wait_screen(&self, name: &str, text: &str) -> String {
        wait_for(&format!("the screen to show {text:?}"), SLOW, || {
            let screen = self.screen(name);
            if screen.contains(text) {
                Ok(screen)
            } else {
                Err(screen)
            }
        })
    }

    /// Types keys into `name`, as `tmux send-keys` names them (`C-c`).
    fn keys(&self, name: &str, keys: &str) {
        self.tmux(&["send-keys", "-t", &Self::target(name), keys]);
    }

    /// Waits until aoctl in `name` exited; returns its exit status. tmux may close a dead
    /// pane before it reaps the process (it then reports no status, sometimes for long): the
    /// status is then read from the zombie's `/proc/<pid>/stat` (its `exit_code` field, as
    /// `waitpid` reports it).
    fn wait_exit(&self, name: &str) -> i32 {
        let target = Self::target(name);
        wait_for("aoctl to finish in the pane", SLOW, || {
            let dead = self.tmux(&[
                "display-message",
                "-p",
                "-t",
                &target,
                "#{pane_dead}|#{pane_dead_status}|#{pane_pid}",
            ]);
            let fields: Vec<&str> = dead.trim().split('|').collect();
            match fields.as_slice() {
                ["1", status, _] if !status.is_empty() => {
                    return status.parse::<i32>().map_err(|e| e.to_string());
                }
                ["1", _, pid] => {
                    if let Some(code) = zombie_exit_code(pid) {
                        return Ok(code);
                    }
                }
                _ => {}
            }
            Err(format!(
                "pane {dead:?}; screen:\n{}",
                self.tmux(&["capture-pane", "-p", "-t", &target])
            ))
        })
    }
}

/// The exit code of process `pid` when it is a zombie that exited normally.
fn zombie_exit_code(pid: &str) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, exit_code 52.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if fields.first() != Some(&"Z") {
        return None;
    }
    let status: i32 = fields.get(52 - 3)?.parse().ok()?;
    (status & 0x7f == 0).then_some((status >> 8) & 0xff)
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// A spawn waiting on a slow post-create command shows its step on a spinner (on a terminal),
/// and Ctrl-C cancels it: exit 130, the command is stopped, the worktree goes to the trash and
/// its branch is deleted, and the record stays as `killed`.
#[test]
fn ctrl_c_cancels_a_slow_spawn_and_rolls_it_back() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    let marker = tempfile::tempdir().expect("temp dir");
    let pid_file = marker.path().join("post-create.pid");
    // Split like a shell would by `project add`; a temporary directory's path needs no quoting.
    let post_create = format!("sh -c 'echo $$ > {}; exec sleep 600'", pid_file.display());
    env.add_project_with_post_create("demo", &repo.path, &post_create);
    let terminal = Terminal::new(&env);
    terminal.start(
        "spawn",
        &[],
        &["spawn", "-p", "demo", "--cmd", "sleep 100000"],
    );
    let screen = terminal.wait_screen("spawn", "demo-1: post-create 1/1: sh -c");
    let pid: i32 = wait_for("the post-create command to start", SLOW, || {
        std::fs::read_to_string(&pid_file)
            .map_err(|e| e.to_string())
            .and_then(|text| text.trim().parse().map_err(|e| format!("{e}: {text:?}")))
    });
    terminal.keys("spawn", "C-c");
    let status = terminal.wait_exit("spawn");
    let screen_after = terminal.screen("spawn");
    assert_eq!(status, 130, "{screen}\n---\n{screen_after}");
    assert!(
        screen_after.contains("the spawn of demo-1 was cancelled"),
        "{screen_after}"
    );

    wait_for(
        "the post-create command to be stopped",
        SLOW,
        || match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
            Err(nix::errno::Errno::ESRCH) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    let session = env.json(&["get", "demo-1"]);
    assert_eq!(session["status"], "killed", "{session}");
    let worktree = session["workspace_path"].as_str().unwrap_or_default();
    assert!(
        worktree.is_empty() || !std::path::Path::new(worktree).exists(),
        "{session}"
    );
    let branches = ao_testkit::git(&repo.path, &["branch", "--list", "ao/demo-1"]);
    assert!(branches.trim().is_empty(), "{branches}");
    assert!(
        env.ok(&["trash", "ls"]).contains("demo-1"),
        "the worktree is in the trash"
    );
}

/// A kill that keeps a dirty worktree says which paths made it dirty.
#[test]
fn a_kept_worktree_names_what_made_it_dirty() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sleep 100000");
    let worktree = env.json(&["get", &id])["workspace_path"]
        .as_str()
        .expect("a worktree path")
        .to_owned();
    std::fs::write(std::path::Path::new(&worktree).join("notes.txt"), "mine\n").unwrap();
    let reply = env.ok(&["kill", &id]);
    assert!(
        reply.contains("worktree kept at") && reply.contains("uncommitted changes: notes.txt"),
        "{reply}"
    );
    assert!(std::path::Path::new(&worktree).join("notes.txt").exists());
}

/// What a post-create command makes can be excluded, so a kill does not keep the worktree as
/// uncommitted work.
#[test]
fn post_create_outputs_can_be_excluded() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.ok(&[
        "project",
        "add",
        "web",
        repo.path.to_str().unwrap(),
        "--post-create",
        "mkdir -p node_modules/pkg",
        "--post-create",
        "touch node_modules/pkg/index.js",
        "--exclude",
        "node_modules/",
    ]);
    let project = env.json(&["project", "ls"]);
    assert_eq!(project[0]["exclude"][0], "node_modules/", "{project}");
    let id = env.spawn_cmd("web", "sleep 100000");
    let worktree = env.json(&["get", &id])["workspace_path"]
        .as_str()
        .expect("a worktree path")
        .to_owned();
    assert!(
        std::path::Path::new(&worktree)
            .join("node_modules/pkg/index.js")
            .exists()
    );
    let reply = env.ok(&["kill", &id]);
    assert!(reply.contains("moved to the trash"), "{reply}");

    let out = env.run(&["project", "add", "bad", "/tmp", "--exclude", " "]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
