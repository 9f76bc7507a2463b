//! Table tests over screens captured from the real CLIs (bash 5.2 `--norc -i`, Claude Code
//! 2.1.330, codex 0.169.0) in a 100x30 tmux pane with `capture-pane -p -e`; each fixture's first
//! line holds the cursor and width `display-message` printed. The `claude_colorless_*` fixtures
//! come from a 220x50 pane of Claude Code run with `CI=true`, which makes it draw without colour.

use super::*;

fn fixture(text: &str) -> Screen {
    let (head, rows) = text.split_once('\n').expect("a header line");
    let mut cursor = (0, 0);
    let mut width = 0;
    for word in head.split_whitespace() {
        if let Some(xy) = word.strip_prefix("cursor=") {
            let (x, y) = xy.split_once(',').expect("x,y");
            cursor = (x.parse().unwrap(), y.parse().unwrap());
        } else if let Some(w) = word.strip_prefix("width=") {
            width = w.parse().unwrap();
        }
    }
    Screen {
        text: rows.to_owned(),
        cursor_x: cursor.0,
        cursor_y: cursor.1,
        width,
    }
}

macro_rules! screen {
    ($name:literal) => {
        fixture(include_str!(concat!("fixtures/", $name, ".txt")))
    };
}

fn draft(text: &str) -> InputLine {
    InputLine::Draft(text.to_owned())
}

#[test]
fn reads_the_input_line_of_real_screens() {
    let long = "fix the bug and a very long text that will wrap around the composer width because \
                it is longer than one hundred columns";
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let bash_long = format!("echo {}", words.join(" "));
    let cases = [
        (
            "bash_empty",
            Composer::Shell,
            screen!("bash_empty"),
            InputLine::Empty,
        ),
        (
            "bash_draft",
            Composer::Shell,
            screen!("bash_draft"),
            draft("echo draft > out"),
        ),
        (
            "bash_after_output",
            Composer::Shell,
            screen!("bash_after_output"),
            InputLine::Empty,
        ),
        (
            "bash_draft_wrapped",
            Composer::Shell,
            screen!("bash_draft_wrapped"),
            draft(&bash_long),
        ),
        (
            "bash_cleared",
            Composer::Shell,
            screen!("bash_cleared"),
            InputLine::Empty,
        ),
        (
            "custom_prompt_draft",
            Composer::Shell,
            screen!("custom_prompt_draft"),
            draft("git status"),
        ),
        (
            "custom_prompt_empty",
            Composer::Shell,
            screen!("custom_prompt_empty"),
            InputLine::Empty,
        ),
        (
            "claude_empty",
            Composer::Claude,
            screen!("claude_empty"),
            InputLine::Empty,
        ),
        (
            "claude_draft",
            Composer::Claude,
            screen!("claude_draft"),
            draft("fix the bug"),
        ),
        (
            "claude_draft_wrapped",
            Composer::Claude,
            screen!("claude_draft_wrapped"),
            draft(long),
        ),
        (
            "claude_draft_multiline",
            Composer::Claude,
            screen!("claude_draft_multiline"),
            draft(&format!("{long} second line")),
        ),
        (
            "claude_draft_pasted",
            Composer::Claude,
            screen!("claude_draft_pasted"),
            draft("hello there quick[Pasted text #2]"),
        ),
        (
            "claude_colorless_placeholder (CI set: no dim, the caret opens the text)",
            Composer::Claude,
            screen!("claude_colorless_placeholder"),
            InputLine::Empty,
        ),
        (
            "claude_colorless_draft (CI set: the caret follows the text)",
            Composer::Claude,
            screen!("claude_colorless_draft"),
            draft("abc"),
        ),
        (
            "codex_empty (a dim placeholder)",
            Composer::Codex,
            screen!("codex_empty"),
            InputLine::Empty,
        ),
        (
            "codex_cleared",
            Composer::Codex,
            screen!("codex_cleared"),
            InputLine::Empty,
        ),
        (
            "codex_draft",
            Composer::Codex,
            screen!("codex_draft"),
            draft("fix the bug"),
        ),
        (
            "codex_draft_wrapped",
            Composer::Codex,
            screen!("codex_draft_wrapped"),
            draft(long),
        ),
        // The wrong composer recognises nothing rather than guessing.
        (
            "claude read as codex",
            Composer::Codex,
            screen!("claude_draft"),
            InputLine::Unseen,
        ),
        (
            "codex read as claude",
            Composer::Claude,
            screen!("codex_draft"),
            InputLine::Unseen,
        ),
    ];
    for (name, composer, screen, want) in cases {
        assert_eq!(read_input(composer, &screen), want, "{name}");
    }
}

#[test]
fn shell_rows_without_a_prompt_are_unseen_and_blank_rows_empty() {
    let screen = |text: &str, x, y| Screen {
        text: text.to_owned(),
        cursor_x: x,
        cursor_y: y,
        width: 20,
    };
    let cases = [
        (
            "output on the cursor row",
            screen("building...", 11, 0),
            InputLine::Unseen,
        ),
        (
            "a blank cursor row",
            screen("done\n", 0, 1),
            InputLine::Empty,
        ),
        (
            "a mark followed by text",
            screen("a$b", 3, 0),
            InputLine::Unseen,
        ),
        (
            "a prompt ending the row",
            screen("$", 1, 0),
            InputLine::Empty,
        ),
        (
            "the first mark ends the prompt",
            screen("% echo a > b", 12, 0),
            draft("echo a > b"),
        ),
        (
            "a cursor below the screen",
            screen("$ x", 0, 5),
            InputLine::Unseen,
        ),
        (
            "a dim suggestion",
            screen("$ \u{1b}[2mls -la\u{1b}[0m", 2, 0),
            InputLine::Empty,
        ),
        (
            "dim ends at SGR 22, not at a colour",
            screen(
                "$ \u{1b}[2;38;5;2mhint\u{1b}[38;5;244mmore\u{1b}[22mtyped",
                2,
                0,
            ),
            draft("typed"),
        ),
        (
            "a 256-colour 2 is not dim",
            screen("$ \u{1b}[38;5;2mtyped", 2, 0),
            draft("typed"),
        ),
    ];
    for (name, screen, want) in cases {
        assert_eq!(read_input(Composer::Shell, &screen), want, "{name}");
    }
}

#[test]
fn typed_text_is_shown_interleaved_or_not_yet() {
    let long: String = (0..100).map(|i| format!("word{i} ")).collect();
    let tail = &long[long.len() - 200..];
    let cases = [
        ("exactly", draft("echo hi"), "echo hi", Typed::Shown),
        (
            "wrapped with other spaces",
            draft("echo  hi there"),
            "echo hi\nthere",
            Typed::Shown,
        ),
        ("not yet", draft("echo"), "echo hi", Typed::NotShown),
        ("nothing yet", InputLine::Empty, "echo hi", Typed::NotShown),
        ("unseen", InputLine::Unseen, "echo hi", Typed::NotShown),
        (
            "someone typed before",
            draft("xyecho hi"),
            "echo hi",
            Typed::Interleaved,
        ),
        (
            "someone typed after",
            draft("echo hix"),
            "echo hi",
            Typed::Interleaved,
        ),
        (
            "an unrelated draft",
            draft("ls"),
            "echo hi",
            Typed::NotShown,
        ),
        (
            "claude's paste",
            draft("[Pasted text #1 +20 lines]"),
            &long,
            Typed::Shown,
        ),
        (
            "the end of a long message",
            draft(tail),
            &long,
            Typed::Shown,
        ),
        (
            "Enter only, on an empty line",
            InputLine::Empty,
            "",
            Typed::NotShown,
        ),
        ("Enter only, on a draft", draft("x"), "", Typed::Interleaved),
    ];
    for (name, input, typed, want) in cases {
        assert_eq!(typed_state(&input, typed), want, "{name}");
    }
}

/// After a failed turn Claude shows the placeholder "Resend your message to try again" with its
/// cursor (reverse video) drawn over the first letter: the line is empty, not a draft "R". The
/// row is the real empty composer's with that placeholder in it, as a run against the real CLI
/// showed it.
#[test]
fn a_cursor_drawn_over_a_placeholder_is_not_a_draft() {
    let empty = screen!("claude_empty");
    let cursor_on_space = "\u{1b}[7m \u{1b}[0m";
    assert!(empty.text.contains(cursor_on_space));
    let placeholder = Screen {
        text: empty.text.replacen(
            cursor_on_space,
            "\u{1b}[7mR\u{1b}[0m\u{1b}[2mesend your message to try again\u{1b}[0m",
            1,
        ),
        ..empty.clone()
    };
    assert_eq!(read_input(Composer::Claude, &placeholder), InputLine::Empty);
    // A reverse-video letter followed by plain text is a draft with the cursor inside it.
    let inside = Screen {
        text: empty
            .text
            .replacen(cursor_on_space, "ab\u{1b}[7mc\u{1b}[0md", 1),
        ..empty
    };
    assert_eq!(read_input(Composer::Claude, &inside), draft("abcd"));
}
