//! Splitting a message for `send-keys -l`.
//!
//! A large paste is typed in chunks so no single tmux command is too long, each chunk ends on a
//! UTF-8 character boundary so tmux never sees half a character, and the caller's
//! cancellation cannot strand half a message (see `TmuxRuntime::send_message`).

use std::time::Duration;

/// The chunk size the spec asks for. tmux's own limit on one command can be lower; the
/// runtime caps chunks at whatever fits (see `TmuxRuntime::chunk_limit`).
pub const CHUNK_BYTES: usize = 16 * 1024;

/// Splits `text` into pieces of at most `max_bytes` bytes, never inside a character. A
/// character longer than `max_bytes` becomes a piece of its own.
pub fn split_chunks(text: &str, max_bytes: usize) -> Vec<&str> {
    let mut chunks = vec![];
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = max_bytes.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// How long the detached remainder of a send may take: a full command deadline per chunk plus
/// the longest wait before Enter, plus one command deadline for a screen read in that wait.
pub fn detached_budget(chunks: usize, per_call: Duration, enter_delay: Duration) -> Duration {
    per_call * u32::try_from(chunks).unwrap_or(u32::MAX) + enter_delay + per_call
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o18_chunks_end_on_character_boundaries() {
        assert_eq!(split_chunks("hello世界", 5), vec!["hello", "世", "界"]);
        assert_eq!(split_chunks("ab", 5), vec!["ab"]);
        assert_eq!(split_chunks("", 5), Vec::<&str>::new());
        assert_eq!(split_chunks("😀x", 2), vec!["😀", "x"]);
        let text = "é".repeat(10_000);
        let chunks = split_chunks(&text, 4097);
        assert!(chunks.iter().all(|c| c.len() <= 4097));
        assert_eq!(chunks.concat(), text);
    }

    #[test]
    fn o24_detached_budget() {
        let five = Duration::from_secs(5);
        let pause = Duration::from_millis(300);
        assert_eq!(
            detached_budget(1, five, pause),
            Duration::from_millis(10300)
        );
        assert_eq!(
            detached_budget(4, five, pause),
            Duration::from_millis(25300)
        );
    }
}
