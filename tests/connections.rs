//! End-to-end tests of the daemon's bounds on its clients: the open-file limit, idle
//! connections, long-polls of clients that went away, and the memory of partial frames. Each
//! abuses a real `aod` through its socket and measures the daemon from `/proc`: CPU time, log
//! growth, open sockets, resident memory.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ao_testkit::procfs::{self, cpu_time};
use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

const MIB: u64 = 1024 * 1024;

/// A `/proc/<pid>/status` value in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, key: &str) -> u64 {
    procfs::status_kib(pid, key).unwrap_or_else(|| panic!("no {key} for {pid}"))
}

/// Open file descriptors of a process, and how many of them are sockets.
fn descriptors(pid: u32) -> (usize, usize) {
    let mut all = 0;
    let mut sockets = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
    {
        let Ok(entry) = entry else { continue };
        all += 1;
        if std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        {
            sockets += 1;
        }
    }
    (all, sockets)
}

/// Opens `n` connections to the daemon and keeps them, sending nothing.
fn idle_connections(env: &TestEnv, n: usize) -> Vec<UnixStream> {
    (0..n)
        .map(|i| {
            UnixStream::connect(&env.socket)
                .unwrap_or_else(|e| panic!("connection {i} to the daemon: {e}"))
        })
        .collect()
}

/// Runs `aoctl ls` and returns how long it took to answer successfully.
fn ls_answers(env: &TestEnv) -> Duration {
    let started = Instant::now();
    env.ok(&["ls"]);
    started.elapsed()
}

/// The daemon stays responsive, cool and quiet while idle connections hold every descriptor
/// it may give them: under `ulimit -n 256`, 300 idle connections used to spin the accept loop
/// at 100% CPU, write gigabytes of warnings and leave `aoctl ls` unanswered.
#[test]
fn the_open_file_limit_does_not_spin_the_daemon() {
    let mut env = TestEnv::new();
    env.start_daemon_with(|command| {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 256, 256)
                    .map_err(std::io::Error::from)
            });
        }
    });
    let pid = env.daemon_pid().expect("the daemon's pid");
    let log_before = env.log_len();

    let _held = idle_connections(&env, 300);
    let answer = ls_answers(&env);
    let cpu_before = cpu_time(pid);
    // A measurement window, not a synchronisation: the daemon must stay idle throughout.
    std::thread::sleep(Duration::from_secs(3));
    let cpu = cpu_time(pid) - cpu_before;
    let answer_after = ls_answers(&env);
    let logged = env.log_len() - log_before;
    eprintln!(
        "open-file limit 256, 300 idle connections: `ls` answered in {answer:?} and \
         {answer_after:?}; CPU {cpu:?} in 3 s; log grew {logged} bytes; {} descriptors open",
        descriptors(pid).0
    );
    assert!(answer < Duration::from_secs(10) && answer_after < Duration::from_secs(10));
    assert!(cpu < Duration::from_millis(600), "CPU {cpu:?} in 3 s");
    assert!(logged < 256 * 1024, "the log grew {logged} bytes");
    env.stop_daemon();
}

/// When the descriptors run out anyway (the limit was lowered under a running daemon), a
/// failing `accept` is retried after a pause and logged once, and the connection idle longest
/// makes room for the next client.
#[test]
fn running_out_of_descriptors_backs_off_and_makes_room() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let pid = env.daemon_pid().expect("the daemon's pid");
    let (open, _) = descriptors(pid);
    let limit = (open + 16).to_string();
    let out = Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--nofile={limit}:{limit}"))
        .output()
        .expect("run prlimit");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log_before = env.log_len();

    let _held = idle_connections(&env, 100);
    let answer = ls_answers(&env);
    let cpu_before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(3));
    let cpu = cpu_time(pid) - cpu_before;
    let log = env.log_since(log_before);
    let failures = log.matches("accepting a connection failed").count();
    eprintln!(
        "{} descriptors allowed, 100 idle connections: `ls` answered in {answer:?}; CPU {cpu:?} \
         in 3 s; {failures} accept failures logged; log grew {} bytes",
        limit,
        log.len()
    );
    assert!(answer < Duration::from_secs(10));
    assert!(cpu < Duration::from_millis(600), "CPU {cpu:?} in 3 s");
    assert_eq!(failures, 1, "one report per minute:\n{log}");
    assert!(log.contains("Too many open files"), "{log}");
    env.stop_daemon();
}

/// A connection without a request in flight is closed after `server.idle_timeout`; a long-poll
/// (`events -f`) is a request in flight and keeps its connection across the timeout.
#[test]
fn idle_connections_close_and_long_polls_stay() {
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config(
        "[runtime.tmux]\nload_user_config = false\n[server]\nidle_timeout = \"1s\"\n",
    );
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let mut follower = env
        .aoctl()
        .args(["events", "-f", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aoctl events -f");

    let mut idle = UnixStream::connect(&env.socket).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    let closed = matches!(idle.read(&mut byte), Ok(0));
    let waited = started.elapsed();
    assert!(closed, "the idle connection was closed (waited {waited:?})");
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );

    // The idle timeout has passed: the long-poll still follows the change log.
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stdout = follower.stdout.take().expect("stdout");
    let sink = printed.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut chunk) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    let id = env.spawn_cmd("demo", "sleep 100000");
    wait_for("events -f to print the new session", SLOW, || {
        let seen = printed.lock().unwrap().clone();
        if seen.contains(&id) {
            Ok(())
        } else if let Ok(Some(status)) = follower.try_wait() {
            panic!("events -f ended ({status}) after printing: {seen}");
        } else {
            Err(seen)
        }
    });
    let _ = follower.kill();
    let _ = follower.wait();
    env.stop_daemon();
}

/// Killed clients take their long-polls with them: the daemon frees their connections at once
/// instead of finishing each wait (up to 30 s) for nobody.
#[test]
fn a_long_poll_ends_when_its_client_goes_away() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let pid = env.daemon_pid().expect("the daemon's pid");
    // The clients that saw the daemon start may still be hanging up.
    let mut last = None;
    let baseline = wait_for("the daemon's sockets to settle", SLOW, || {
        let (_, sockets) = descriptors(pid);
        let settled = last == Some(sockets);
        last = Some(sockets);
        if settled {
            Ok(sockets)
        } else {
            Err(format!("{sockets} sockets"))
        }
    });
    let mut followers: Vec<Child> = (0..20)
        .map(|_| {
            env.aoctl()
                .args(["events", "-f"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run aoctl events -f")
        })
        .collect();
    let serving = wait_for("20 long-polls to be served", SLOW, || {
        let (_, sockets) = descriptors(pid);
        if sockets >= baseline + 20 {
            Ok(sockets)
        } else {
            Err(format!("{sockets} sockets, {baseline} before"))
        }
    });
    let log_before = env.log_len();
    for follower in &mut followers {
        let _ = follower.kill();
        let _ = follower.wait();
    }
    let killed = Instant::now();
    wait_for(
        "the daemon to drop the gone clients",
        Duration::from_secs(5),
        || {
            let (_, sockets) = descriptors(pid);
            if sockets + 20 <= serving {
                Ok(())
            } else {
                Err(format!("{sockets} sockets, {serving} while serving them"))
            }
        },
    );
    eprintln!(
        "20 long-polls freed {:?} after their clients died",
        killed.elapsed()
    );
    let log = env.log_since(log_before);
    assert_eq!(
        log.matches("client hung up; dropping its requests in flight")
            .count(),
        20,
        "{log}"
    );
    env.ok(&["ls"]);
    env.stop_daemon();
}

/// Writes a length prefix of `len` and then `body` bytes of a frame that never completes;
/// returns once the daemon took them all, stopped reading for 3 s, or closed the connection.
fn partial_frame(env: &TestEnv, len: u32, body: usize) -> std::thread::JoinHandle<UnixStream> {
    let mut stream = UnixStream::connect(&env.socket).expect("connect");
    std::thread::spawn(move || {
        stream
            .set_write_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let _ = stream.write_all(&len.to_be_bytes());
        let chunk = vec![b'x'; 256 * 1024];
        let mut sent = 0;
        while sent < body {
            let n = chunk.len().min(body - sent);
            if stream.write_all(&chunk[..n]).is_err() {
                break;
            }
            sent += n;
        }
        stream
    })
}

/// Partial frames cannot make the daemon hold more than its frame budget: 40 connections each
/// sending most of an 8 MiB frame used to be read whole (RSS grew by their sum, and never came
/// back); frames over the request limit are refused before their body is read.
#[test]
fn partial_frames_are_bounded_and_released() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let pid = env.daemon_pid().expect("the daemon's pid");
    env.ok(&["ls"]);
    let (_, sockets_before) = descriptors(pid);
    let rss_before = status_kib(pid, "VmRSS");
    let peak_before = status_kib(pid, "VmHWM");

    // The reproduction: 30 MiB frames are over the limit and refused at their prefix.
    let oversized: Vec<_> = (0..40)
        .map(|_| partial_frame(&env, 30 * MIB as u32, 2 * MIB as usize))
        .collect();
    for writer in oversized {
        drop(writer.join().expect("writer"));
    }
    let rss_oversized = status_kib(pid, "VmHWM");

    // Frames under the limit: only the budget's worth is read at a time.
    let frame = 8 * MIB as u32 - 1;
    let writers: Vec<_> = (0..40)
        .map(|_| partial_frame(&env, frame, 7 * MIB as usize))
        .collect();
    let answer = ls_answers(&env);
    let streams: Vec<UnixStream> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let peak = status_kib(pid, "VmHWM");
    // Incomplete frames time out; their memory goes back.
    wait_for("the partial frames to time out", SLOW, || {
        let (_, sockets) = descriptors(pid);
        if sockets <= sockets_before {
            Ok(())
        } else {
            Err(format!("{sockets} sockets, {sockets_before} before"))
        }
    });
    drop(streams);
    let rss_after = status_kib(pid, "VmRSS");
    eprintln!(
        "RSS before {rss_before} KiB (peak {peak_before} KiB); peak after 40 oversized frames \
         {rss_oversized} KiB; peak with 40 partial 7 MiB frames {peak} KiB; after they timed out \
         {rss_after} KiB; `ls` answered in {answer:?} meanwhile"
    );
    assert!(
        rss_oversized < peak_before.max(rss_before) + 16 * 1024,
        "oversized frames were buffered: peak {rss_oversized} KiB, {peak_before} KiB before"
    );
    assert!(
        peak < peak_before.max(rss_before) + 100 * 1024,
        "more than the frame budget was buffered: peak {peak} KiB, {peak_before} KiB before"
    );
    assert!(
        rss_after < rss_before + 12 * 1024,
        "the frames' memory was not released: {rss_after} KiB, {rss_before} KiB before"
    );
    assert!(answer < Duration::from_secs(10), "`ls` took {answer:?}");
    env.stop_daemon();
}
