//! End-to-end tests of `aoctl tail` through the real binaries: the first lines come from the
//! session's output log (far more than tmux's pane history holds), exactly as many as asked,
//! also for an ended session, and `-f` continues from exactly where they end.

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

/// The numbers `from..=to`, one a line, as `seq` prints them (and `aoctl` without the CRs).
fn numbers(from: u32, to: u32) -> String {
    (from..=to).map(|i| format!("{i}\n")).collect()
}

/// `tail -n 3000` of 5,000 lines prints exactly the last 3,000, although tmux's pane history
/// holds only about 2,000: they come from the output log. More lines than the log holds print
/// all of it; `-n 0` prints nothing.
#[test]
fn tail_prints_exactly_the_last_lines_of_the_output_log() {
    let (env, _repo) = TestEnv::with_demo_project();
    let id = env.spawn_cmd("demo", "sh -c 'seq 1 5000; exec sleep 100000'");
    env.wait_tail(&id, "\n5000\n");

    assert_eq!(env.ok(&["tail", &id, "-n", "3000"]), numbers(2001, 5000));
    assert_eq!(env.ok(&["tail", &id, "-n", "1"]), "5000\n");
    assert_eq!(env.ok(&["tail", &id, "-n", "0"]), "");
    let out = env.run(&["tail", &id, "-n", "100000"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), numbers(1, 5000));
    assert!(
        out.stderr.is_empty(),
        "nothing was trimmed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An ended session's log stays on disk until its runtime is destroyed: `tail -n 5` shows
/// its last 5 lines and returns without following. The last of them is the prompt of the
/// shell that keeps the pane open: a last line without a newline counts, and `aoctl` ends it.
#[test]
fn tail_of_an_ended_session_shows_its_last_lines() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    // A shell whose prompt is known and that prints nothing else.
    env.env.push(("SHELL".to_owned(), "/bin/sh".to_owned()));
    env.env.push(("PS1".to_owned(), "ao> ".to_owned()));
    env.env_remove.push("ENV".to_owned());
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "seq 1 5000");
    env.wait_status(&id, &["done", "terminated"]);
    let notice = "[ao] the agent exited with code 0; this shell keeps the pane open.";
    env.wait_tail(&id, "ao> ");

    let expected = format!("4999\n5000\n\n{notice}\nao> \n");
    assert_eq!(env.ok(&["tail", &id, "-n", "5", "-f"]), expected);
    assert_eq!(env.ok(&["tail", &id, "-n", "1"]), "ao> \n");
    let all = env.ok(&["tail", &id, "-n", "100000"]);
    assert_eq!(all, format!("{}\n{notice}\nao> \n", numbers(1, 5000)));
}

/// `tail -n 2 -f`: the two last lines, then what is printed after, with no line repeated
/// and none missed where the first lines end and the following begins.
#[test]
fn following_continues_where_the_last_lines_end() {
    let (env, _repo) = TestEnv::with_demo_project();
    let go = env.root().join("go");
    let script = format!(
        "seq 1 5; while [ ! -e {} ]; do sleep 0.1; done; seq 6 10; exec sleep 100000",
        go.display()
    );
    let id = env.spawn_cmd("demo", &format!("sh -c '{script}'"));
    env.wait_tail(&id, "\n5\n");

    let mut child = env
        .aoctl()
        .args(["tail", &id, "-n", "2", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aoctl tail -f");
    let printed = Arc::new(Mutex::new(String::new()));
    let reader = {
        let printed = Arc::clone(&printed);
        let mut stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                printed
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let seen = |want: &str| {
        let printed = printed.lock().unwrap().clone();
        if printed.ends_with(want) {
            Ok(())
        } else {
            Err(printed)
        }
    };
    wait_for("the last two lines", SLOW, || seen("5\n"));
    std::fs::write(&go, "").expect("write the go file");
    wait_for("the lines printed after", SLOW, || seen("10\n"));
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    assert_eq!(*printed.lock().unwrap(), numbers(4, 10));
}
