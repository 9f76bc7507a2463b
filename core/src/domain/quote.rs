//! How user input appears in an error: quoted, escaped and bounded.
//!
//! An error that shows what it refused helps the user find the mistake; one that repeats a
//! megabyte of it helps nobody and turns every bad request into a huge reply. Every error
//! message that echoes user input (ids, names, branches, statuses, paths) shows it through
//! [`quote`]; an error that carries another program's output echoing that input passes the
//! output through [`quote_within`].

/// Characters of the input an error shows at most (the rest is elided).
pub const QUOTE_MAX_CHARS: usize = 80;
/// Of those, how many come from the end (a path's or a name's most telling part).
const TAIL_CHARS: usize = 24;

/// `text` as an error shows it: in double quotes with control characters escaped, and when it
/// is longer than [`QUOTE_MAX_CHARS`] characters, its start and end around an ellipsis,
/// followed by its length: `"aaaa…aaaa" (1048576 bytes)`.
pub fn quote(text: &str) -> String {
    let count = text.chars().count();
    if count <= QUOTE_MAX_CHARS {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(QUOTE_MAX_CHARS - TAIL_CHARS).collect();
    let tail: String = text.chars().skip(count - TAIL_CHARS).collect();
    format!("{:?} ({} bytes)", format!("{head}…{tail}"), text.len())
}

/// `output` (another program's words) with every echo of a too-long `input` replaced by its
/// [`quote`]; unchanged when `input` is short enough to show whole.
pub fn quote_within(output: &str, input: &str) -> String {
    if input.chars().count() <= QUOTE_MAX_CHARS {
        return output.to_owned();
    }
    output.replace(input, &quote(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole() {
        assert_eq!(quote("demo-1"), "\"demo-1\"");
        assert_eq!(quote("a\nb\"c"), "\"a\\nb\\\"c\"");
        assert_eq!(quote(""), "\"\"");
        let at_limit = "x".repeat(QUOTE_MAX_CHARS);
        assert_eq!(quote(&at_limit), format!("\"{at_limit}\""));
    }

    #[test]
    fn long_input_keeps_its_ends_and_says_its_length() {
        let text = format!("{}{}", "a".repeat(1 << 20), "/the/end");
        let quoted = quote(&text);
        assert_eq!(
            quoted,
            format!(
                "\"{}…{}/the/end\" ({} bytes)",
                "a".repeat(56),
                "a".repeat(16),
                text.len()
            )
        );
        // Multi-byte characters are never cut in half.
        let wide = "é".repeat(200);
        assert!(quote(&wide).ends_with("(400 bytes)"), "{}", quote(&wide));
        // Escapes are bounded too.
        assert!(quote(&"\u{1}".repeat(10_000)).len() < 1000);
    }

    #[test]
    fn echoes_inside_output_are_bounded() {
        let long = "b".repeat(500);
        let output = format!("fatal: '{long}' is not a valid branch name");
        let shown = quote_within(&output, &long);
        assert_eq!(
            shown,
            format!("fatal: '{}' is not a valid branch name", quote(&long))
        );
        assert_eq!(quote_within("fatal: 'x' is bad", "x"), "fatal: 'x' is bad");
    }
}
