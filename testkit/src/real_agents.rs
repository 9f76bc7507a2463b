//! Finding the real, pinned agent CLIs (`claude`, `codex`) the agent end-to-end tests run under
//! ao against the mock model APIs of [`crate::model_api`], and making a skip of those tests
//! visible (and refused under CI).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to skip the real-agent tests on a machine without the pinned CLIs. The test
/// harness would report a skipped test as passed and hide what it printed, so a skip writes a
/// notice to the terminal itself (`/dev/tty`, which the harness does not capture). CI always
/// has the CLIs (`.ci/run` installs them) and never skips: under `CI=true` (or `1`) the opt-out
/// fails the test.
pub const OPT_OUT: &str = "AO_TEST_SKIP_REAL_AGENTS";

/// `CI`'s value when it says this is a CI run.
fn ci_run() -> Option<String> {
    std::env::var("CI")
        .ok()
        .filter(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Says that the running test was skipped, where a person sees it despite the harness's
/// capture: on the terminal when there is one, and on stderr (shown with `--nocapture`).
fn announce_skip(why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let notice = format!("SKIPPED {test}: it did not run ({why}); the harness will report it ok");
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = writeln!(tty, "{notice}");
    }
    eprintln!("{notice}");
}

/// The pinned CLI: `$<env_var>`, else `.ci/cache/node/node_modules/.bin/<name>` (where
/// `.ci/run` installs it). `None` only when the opt-out is set outside CI (announced on the
/// terminal); otherwise a missing binary fails the test with instructions.
pub fn agent_binary(name: &str, env_var: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env_var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::workspace_root()
                .join(".ci/cache/node/node_modules/.bin")
                .join(name)
        });
    if path.is_file() {
        return Some(path);
    }
    if std::env::var(OPT_OUT).is_ok_and(|v| v == "1") {
        if let Some(ci) = ci_run() {
            panic!(
                "{OPT_OUT}=1 under CI={ci}: CI runs the real-agent tests and never skips them, \
                 but the pinned {name} CLI is not installed at {}",
                path.display()
            );
        }
        announce_skip(&format!(
            "{name} not found at {} and {OPT_OUT}=1",
            path.display()
        ));
        return None;
    }
    panic!(
        "the pinned {name} CLI is not installed at {} (run .ci/run, or `npm install --prefix \
         .ci/cache/node --no-audit --no-fund` with the versions .ci/run pins; set {env_var} to \
         use another binary, or {OPT_OUT}=1 to skip the real-agent tests)",
        path.display()
    );
}

/// What a run of one test of this binary, in a child process on a pseudo-terminal of its own,
/// left behind: its exit status, its output (the harness's report) and what it wrote to the
/// terminal.
struct TerminalRun {
    status: std::process::ExitStatus,
    output: String,
    terminal: String,
}

/// Runs `test` of the current test binary again in a child whose controlling terminal is a
/// fresh pseudo-terminal, with `env` applied (`None` removes the variable), the harness
/// capturing output as usual.
fn run_on_a_terminal(test: &str, env: &[(&str, Option<&str>)]) -> TerminalRun {
    let pty = nix::pty::openpty(None, None).expect("open a pseudo-terminal");
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command
        .args(["--exact", test, "--test-threads=1"])
        .env_remove("RUST_TEST_NOCAPTURE")
        .stdin(Stdio::from(pty.slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    // SAFETY: setsid and ioctl are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            // The terminal on stdin becomes the new session's controlling terminal.
            if nix::libc::ioctl(0, nix::libc::TIOCSCTTY as _, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("run the test binary");
    // The child holds the only other end: the reader ends once the child has exited.
    drop(command);
    let mut master = std::fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut seen = vec![];
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut chunk) {
            seen.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the test binary") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{test} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut output);
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut output);
    }
    TerminalRun {
        status,
        output,
        terminal: reader.join().expect("the terminal reader"),
    }
}

/// The opt-out of `test` (whose CLI `env_var` names) is seen and refused in CI: with the CLI
/// missing and the opt-out set, the test passes with a notice on the terminal, which the
/// harness's capture cannot hide; with `CI=true` as well, it fails.
pub fn check_opt_out(test: &str, env_var: &str) {
    let missing = "/nonexistent/ao-real-agent-cli";
    let skipped = run_on_a_terminal(
        test,
        &[(env_var, Some(missing)), (OPT_OUT, Some("1")), ("CI", None)],
    );
    assert!(
        skipped.status.success(),
        "an opted-out run passes: {}",
        skipped.output
    );
    assert!(
        skipped.output.contains(&format!("test {test} ... ok")),
        "the harness ran it with capture: {}",
        skipped.output
    );
    assert!(
        skipped.terminal.contains(&format!("SKIPPED {test}")) && skipped.terminal.contains(missing),
        "the skip is announced on the terminal; the terminal showed {:?}",
        skipped.terminal
    );

    let in_ci = run_on_a_terminal(
        test,
        &[
            (env_var, Some(missing)),
            (OPT_OUT, Some("1")),
            ("CI", Some("true")),
        ],
    );
    assert!(
        !in_ci.status.success(),
        "under CI the opt-out fails the test: {}",
        in_ci.output
    );
    assert!(
        in_ci.output.contains("under CI=true"),
        "the failure says why: {}",
        in_ci.output
    );
}
