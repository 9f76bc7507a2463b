//! The bounds every request is held to, whatever the transport: the daemon enforces them, and
//! a client may check them before it sends.

use std::time::Duration;

/// Largest message `send` accepts (the text typed into a pane), and largest spawn prompt.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Most output-log bytes one `tail` answer carries (a page of last lines, or a followed chunk).
pub const MAX_TAIL_BYTES: usize = 1024 * 1024;
/// Longest server-side wait of a long-poll (`tail`, `events`, `wait_for_status`).
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Longest a `send` waits for delivery on the daemon's side.
pub const MAX_SEND_WAIT: Duration = Duration::from_secs(120);
/// Lines `tail` shows first when the request names none.
pub const DEFAULT_TAIL_LINES: u32 = 50;
/// Longest branch name accepted: git keeps a branch as a file named after it, and file names
/// longer than this fail on common filesystems.
pub const MAX_BRANCH_BYTES: usize = 255;
/// Longest repository path accepted (the system's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest idempotency key (request id) a spawn may carry.
pub const MAX_REQUEST_ID_BYTES: usize = 128;
/// Most change-log rows one `events` page carries.
pub const MAX_EVENTS_PAGE: u32 = 512;
