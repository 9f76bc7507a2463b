//! Text as ao shows it or reads it: pane output without the terminal's control codes.

/// Removes terminal control sequences and control characters from pane output, keeping the
/// text a reader (or a screen heuristic) wants:
///
/// - CSI `ESC [` with its parameters and intermediates, up to its final byte in `@..=~`;
/// - OSC `ESC ]` and the other control strings (DCS `ESC P`, SOS `ESC X`, PM `ESC ^`,
///   APC `ESC _`), up to BEL or ST (`ESC \`), or to the end when unterminated;
/// - any other escape: `ESC`, its intermediates (`' '..='/'`), and its final byte (`'0'..='~'`)
///   when one follows (`ESC 7`, `ESC ( B`, `ESC =`); a lone `ESC` goes alone;
/// - every other control character (CR, BEL, backspace, C1 controls …) except `\n` and `\t`.
pub fn strip_terminal_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // Parameters and intermediates, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    // Up to BEL or ST (ESC \).
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                    chars.next_if(|c| ('0'..='~').contains(c));
                }
            },
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_terminal_codes() {
        let cases = [
            ("plain text", "plain text"),
            ("", ""),
            // CSI: colours, cursor moves, private modes.
            ("\u{1b}[1;31mred\u{1b}[0m", "red"),
            ("a\u{1b}[2Kb\u{1b}[10;1Hc", "abc"),
            ("\u{1b}[?25lhidden\u{1b}[?25h", "hidden"),
            // OSC, terminated by BEL or by ST.
            ("\u{1b}]0;title\u{7}done", "done"),
            ("\u{1b}]8;;https://x\u{1b}\\link\u{1b}]8;;\u{1b}\\", "link"),
            // An ESC inside an OSC that does not start ST is part of it.
            ("\u{1b}]0;a\u{1b}b\u{7}c", "c"),
            // Unterminated OSC: the rest is the sequence.
            ("ok\u{1b}]0;never ends", "ok"),
            // Other control strings.
            ("\u{1b}Ptmux;payload\u{1b}\\after", "after"),
            ("\u{1b}_apc\u{7}after", "after"),
            // Other escapes: two-character ones, and ones with intermediates.
            ("\u{1b}7saved\u{1b}8", "saved"),
            ("\u{1b}(Bascii\u{1b}=", "ascii"),
            ("\u{1b}Mup", "up"),
            // A lone ESC, one at the end, one before a newline.
            ("a\u{1b}", "a"),
            ("a\u{1b}\nb", "a\nb"),
            ("\u{1b}\u{1b}[0mx", "x"),
            // Control characters: CR, BEL, backspace, C1 go; newline and tab stay.
            ("line\r\n\tnext\u{7}\u{8}\u{9b}", "line\n\tnext"),
            // Non-ASCII text stays.
            ("› prompt · footer", "› prompt · footer"),
            // The mix `aoctl` prints after.
            (
                "\u{1b}[1;31mred\u{1b}[0m \u{1b}]0;title\u{7}done\r\n\u{1b}]8;;x\u{1b}\\link\u{7}",
                "red done\nlink",
            ),
        ];
        for (raw, clean) in cases {
            assert_eq!(strip_terminal_codes(raw), clean, "{raw:?}");
        }
    }
}
