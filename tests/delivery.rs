//! Message delivery into a real `bash --norc -i` pane, end to end through `aod` and `aoctl`: a
//! draft the user left in the input line is never typed into; the message waits for it (and
//! `aoctl send` says so), or sets it aside after the grace or with `--force`, and the draft is
//! typed back afterwards.

use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

const DRAFT: &str = "echo draft-$((1+1))";

/// The pane's last non-blank row.
fn last_row(env: &TestEnv, id: &str) -> String {
    env.capture(id)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the pane's last row is a bash prompt followed by `input`.
fn wait_input(env: &TestEnv, id: &str, input: &str) {
    wait_for(&format!("the input line to read {input:?}"), SLOW, || {
        let row = last_row(env, id);
        let after_prompt = row
            .split_once("$ ")
            .or_else(|| row.split_once("# "))
            .map(|(_, rest)| rest.to_owned())
            .or_else(|| (row.ends_with('$') || row.ends_with('#')).then(String::new));
        if after_prompt.as_deref() == Some(input) {
            Ok(())
        } else {
            Err(format!("pane:\n{}", env.capture(id)))
        }
    });
}

#[test]
fn a_draft_in_bash_is_waited_for_set_aside_and_typed_back() {
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config("[delivery]\ndraft_grace = \"3s\"\n");
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "bash --norc -i");
    wait_input(&env, &id, "");
    let pane = format!("={id}:0.0");
    env.tmux(&["send-keys", "-t", &pane, "-l", DRAFT]);
    wait_input(&env, &id, DRAFT);

    // Queued behind the draft, and the reply says why.
    let out = env.ok(&["send", &id, "echo sent-$((2*3))", "--timeout", "1s"]);
    assert!(
        out.contains("a draft is in the agent's input line"),
        "{out}"
    );
    assert!(!env.capture(&id).contains("sent-"), "nothing typed yet");

    // Unchanged for the grace: set aside, the message runs alone, the draft comes back.
    wait_for("the message's output", SLOW, || {
        let pane = env.capture(&id);
        if pane.contains("\nsent-6") {
            Ok(())
        } else {
            Err(pane)
        }
    });
    wait_input(&env, &id, DRAFT);
    let pane_text = env.capture(&id);
    assert!(
        !pane_text.contains("draft-2"),
        "the draft never ran:\n{pane_text}"
    );
    assert!(
        !pane_text.contains("draftecho"),
        "never merged:\n{pane_text}"
    );

    // `--force` sets it aside at once, and says so.
    let out = env.ok(&["send", &id, "--force", "echo forced-$((3*3))"]);
    assert!(out.contains("typed into"), "{out}");
    assert!(out.contains("cleared for it and typed back"), "{out}");
    wait_for("the forced message's output", SLOW, || {
        let pane = env.capture(&id);
        if pane.contains("\nforced-9") {
            Ok(())
        } else {
            Err(pane)
        }
    });
    wait_input(&env, &id, DRAFT);

    // The user's Enter runs the draft exactly as typed.
    env.tmux(&["send-keys", "-t", &pane, "Enter"]);
    wait_for("the draft's own output", SLOW, || {
        let pane = env.capture(&id);
        if pane.contains("\ndraft-2") {
            Ok(())
        } else {
            Err(pane)
        }
    });

    // With the input line empty, a message goes straight through.
    wait_input(&env, &id, "");
    let out = env.ok(&["send", &id, "echo plain-$((4*4))"]);
    assert_eq!(out.trim(), format!("typed into {id}"));
    env.wait_tail(&id, "plain-16");
}
