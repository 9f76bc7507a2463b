//! What an agent's input line holds, read from a screen capture: empty, a draft the user typed
//! without Enter, or nothing ao can recognise.
//!
//! The screen is `capture-pane -p -e` output (rows with SGR attributes) and the cursor position.
//! Text drawn dim (SGR 2) is a placeholder, never a draft (codex's "Ask Codex to do anything").
//! Three composers:
//!
//! - **Claude Code**: the input sits between two rules of `─`; its first row starts with `❯`, the
//!   rows after it are indented by two spaces.
//! - **Codex**: the input starts at a row beginning with `›` and ends at the first blank row.
//! - **Shell** (every other agent): the row the cursor is on. Its prompt ends at the first prompt
//!   mark (`$`, `#`, `%`, `>`, `❯`, `›`, `»`, `λ`) followed by a space or ending the row; what
//!   follows is the draft. A row filled to the pane's width continues on the next one (a wrapped
//!   line). A cursor row with text but no prompt mark is `Unseen`: ao cannot tell output from
//!   input there, and does not guess.
//!
//! Limits: rows are joined with one space (Claude and codex wrap at words) or nothing (a shell
//! wraps at the width), so a restored draft can differ in whitespace, and a multi-line draft comes
//! back on one line; a prompt whose text itself holds a mark followed by a space (`a > b $`) shows a
//! draft on an empty line (ao then waits for the grace, it never types into it).
//!
//! An agent may draw without colour (Claude does when `CI` is set): its placeholder is then not
//! dim. Claude's composer is read as colourless when its top rule carries no SGR; there a row that
//! starts with Claude's caret (a reverse-video character) followed by text is a placeholder, as
//! the caret sits at the start only of an empty input. A colourless draft whose caret the user
//! moved to its start therefore reads as empty.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::strip_terminal_codes;

/// How an agent draws its input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Composer {
    /// Claude Code's ruled input box.
    Claude,
    /// Codex's `›` composer.
    Codex,
    /// A shell-like prompt on the cursor row.
    #[default]
    Shell,
}

/// A screen as captured: rows with their SGR attributes, the cursor and the pane width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// `capture-pane -p -e` output: one row per line.
    pub text: String,
    pub cursor_x: usize,
    pub cursor_y: usize,
    pub width: usize,
}

/// What the input line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputLine {
    Empty,
    /// Text the user typed and did not submit (rows joined, trimmed).
    Draft(String),
    /// No input line ao recognises (a dialog, output, a program starting).
    Unseen,
}

/// Whether the text ao typed shows in the input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// The input ends with the typed text (or Claude's placeholder of a paste).
    Shown,
    /// The input holds the typed text and more: someone typed into it at the same time.
    Interleaved,
    /// Not (yet) visible.
    NotShown,
}

/// Prompt marks of a shell-like prompt.
const PROMPT_MARKS: &[char] = &['$', '#', '%', '>', '❯', '›', '»', 'λ'];
/// How many rows a wrapped shell input line is followed up.
const MAX_WRAPPED_ROWS: usize = 64;
/// The typed text counts as shown when the input ends with its last this many non-blank
/// characters (a long message may not fit the input box whole).
const SHOWN_TAIL: usize = 64;

/// Claude's placeholder for a paste: `[Pasted text #2]`, `[Pasted text #1 +20 lines]`.
static CLAUDE_PASTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[Pasted text #\d+(?: \+\d+ lines?)?\]$").expect("valid regex"));

/// Reads the input line of `composer` from `screen`.
pub fn read_input(composer: Composer, screen: &Screen) -> InputLine {
    let raw_rows: Vec<&str> = screen.text.split('\n').collect();
    let rows: Vec<String> = raw_rows.iter().map(|row| visible_text(row)).collect();
    if screen.cursor_y >= rows.len() {
        return InputLine::Unseen;
    }
    match composer {
        Composer::Claude => read_claude(&rows, &raw_rows, screen.cursor_y),
        Composer::Codex => read_codex(&rows, screen.cursor_y),
        Composer::Shell => read_shell(&rows, screen.cursor_y, screen.width),
    }
}

/// Whether `typed` shows in `input` (whitespace ignored: wrapping moves it).
pub fn typed_state(input: &InputLine, typed: &str) -> Typed {
    let InputLine::Draft(draft) = input else {
        return Typed::NotShown;
    };
    let shown: String = squash(draft);
    let want: String = squash(typed);
    if shown == want || CLAUDE_PASTE.is_match(draft) {
        return Typed::Shown;
    }
    if want.is_empty() || shown.contains(&want) {
        return Typed::Interleaved;
    }
    let tail_start = want
        .char_indices()
        .rev()
        .nth(SHOWN_TAIL - 1)
        .map_or(0, |(i, _)| i);
    if want.len() > SHOWN_TAIL && shown.ends_with(&want[tail_start..]) {
        // Only the end of a long message fits the input box.
        return Typed::Shown;
    }
    Typed::NotShown
}

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn make_input(parts: Vec<&str>, separator: &str) -> InputLine {
    let text = parts.join(separator).trim().to_owned();
    if text.is_empty() {
        InputLine::Empty
    } else {
        InputLine::Draft(text)
    }
}

fn is_rule(row: &str) -> bool {
    let row = row.trim();
    !row.is_empty() && row.chars().all(|c| c == '─')
}

/// The text after a leading `mark` and one space (Claude draws a no-break space), if the row
/// starts with them.
fn after_mark(row: &str, mark: char) -> Option<&str> {
    let rest = row.strip_prefix(mark)?;
    let mut chars = rest.chars();
    match chars.next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() => Some(chars.as_str()),
        Some(_) => None,
    }
}

fn read_claude(rows: &[String], raw_rows: &[&str], cursor_y: usize) -> InputLine {
    let Some(top) = (0..=cursor_y)
        .rev()
        .find(|&r| after_mark(&rows[r], '❯').is_some())
    else {
        return InputLine::Unseen;
    };
    if top == 0 || !is_rule(&rows[top - 1]) {
        return InputLine::Unseen;
    }
    let Some(bottom) = (top + 1..rows.len()).find(|&r| is_rule(&rows[r])) else {
        return InputLine::Unseen;
    };
    if cursor_y >= bottom {
        return InputLine::Unseen;
    }
    let colourless = !raw_rows[top - 1].contains('\u{1b}');
    if colourless && caret_opens_text(raw_rows[top]) {
        return InputLine::Empty;
    }
    let mut parts = vec![after_mark(&rows[top], '❯').unwrap_or_default().trim()];
    parts.extend(rows[top + 1..bottom].iter().map(|r| r.trim()));
    parts.retain(|p| !p.is_empty());
    make_input(parts, " ")
}

fn read_codex(rows: &[String], cursor_y: usize) -> InputLine {
    let Some(top) = (0..=cursor_y)
        .rev()
        .find(|&r| after_mark(rows[r].trim_start(), '›').is_some())
    else {
        return InputLine::Unseen;
    };
    let end = (top + 1..rows.len())
        .find(|&r| rows[r].trim().is_empty())
        .unwrap_or(rows.len());
    if cursor_y >= end {
        return InputLine::Unseen;
    }
    let mut parts = vec![
        after_mark(rows[top].trim_start(), '›')
            .unwrap_or_default()
            .trim(),
    ];
    parts.extend(rows[top + 1..end].iter().map(|r| r.trim()));
    parts.retain(|p| !p.is_empty());
    make_input(parts, " ")
}

fn read_shell(rows: &[String], cursor_y: usize, width: usize) -> InputLine {
    // Walk up while the row above was filled to the width (wrapped into this one).
    let mut top = cursor_y;
    while top > 0
        && cursor_y - top < MAX_WRAPPED_ROWS
        && prompt_end(&rows[top]).is_none()
        && width > 0
        && rows[top - 1].chars().count() >= width
    {
        top -= 1;
    }
    let line: String = rows[top..=cursor_y].concat();
    match prompt_end(&rows[top]) {
        Some(end) => make_input(vec![&line[end..]], ""),
        None if line.trim().is_empty() => InputLine::Empty,
        None => InputLine::Unseen,
    }
}

/// Byte offset just past a shell prompt: the first prompt mark followed by a space or the end.
fn prompt_end(row: &str) -> Option<usize> {
    let mut chars = row.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if PROMPT_MARKS.contains(&c) {
            match chars.peek() {
                None => return Some(row.len()),
                Some(&(j, space)) if space.is_whitespace() => return Some(j + space.len_utf8()),
                Some(_) => {}
            }
        }
    }
    None
}

/// The attributes of a captured character that matter here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    dim: bool,
    reverse: bool,
}

/// A captured row's characters with the style each is drawn in; escape sequences dropped.
fn styled_chars(row: &str) -> Vec<(char, Style)> {
    let mut styled: Vec<(char, Style)> = Vec::with_capacity(row.len());
    let mut style = Style::default();
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            let mut params = String::new();
            let mut last = None;
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    last = Some(c);
                    break;
                }
                params.push(c);
            }
            if last == Some('m') {
                style = sgr_style(&params, style);
            }
            continue;
        }
        styled.push((c, style));
    }
    styled
}

/// A captured row without its escape sequences and without the characters drawn dim. A
/// character drawn in reverse video right before dim text is the cursor an agent draws over its
/// placeholder's first letter (Claude's "Resend your message…"), so it goes with the placeholder.
fn visible_text(row: &str) -> String {
    let styled = styled_chars(row);
    let out: String = styled
        .iter()
        .enumerate()
        .filter(|&(i, &(_, style))| {
            let drawn_cursor =
                style.reverse && styled.get(i + 1).is_some_and(|&(_, next)| next.dim);
            !style.dim && !drawn_cursor
        })
        .map(|(_, &(c, _))| c)
        .collect();
    strip_terminal_codes(&out).trim_end().to_owned()
}

/// Whether the input on Claude's first composer row starts with its caret (a character drawn in
/// reverse video) and has text after it: a placeholder under the caret of an empty input.
fn caret_opens_text(raw_row: &str) -> bool {
    let styled = styled_chars(raw_row);
    let mut input = styled
        .iter()
        .skip_while(|&&(c, _)| c == '❯')
        .skip_while(|&&(c, style)| c.is_whitespace() && !style.reverse);
    let Some(&(_, caret)) = input.next() else {
        return false;
    };
    caret.reverse && input.any(|&(c, _)| !c.is_whitespace())
}

/// The style after an SGR sequence with `params`, from `style` before it.
fn sgr_style(params: &str, mut style: Style) -> Style {
    let codes: Vec<&str> = params.split([';', ':']).collect();
    let mut i = 0;
    while i < codes.len() {
        match codes[i] {
            "" | "0" => style = Style::default(),
            "22" => style.dim = false,
            "2" => style.dim = true,
            "7" => style.reverse = true,
            "27" => style.reverse = false,
            // Extended colours carry their own numbers: 5;n or 2;r;g;b.
            "38" | "48" | "58" => {
                i += match codes.get(i + 1) {
                    Some(&"5") => 2,
                    Some(&"2") => 4,
                    _ => 0,
                };
            }
            _ => {}
        }
        i += 1;
    }
    style
}

#[cfg(test)]
mod tests;
