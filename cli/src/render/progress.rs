//! A spinner on stderr for a command that waits on a slow step (a spawn's post-create
//! commands), shown only when stderr is a terminal; elsewhere every call does nothing. The
//! waiting command turns it ([`Spinner::tick`]) from its own loop: no thread draws behind it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with one line of text and the time elapsed.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// A spinner showing `message` when stderr is a terminal (and `TERM` is not `dumb`).
    pub fn on_terminal(message: &str) -> Self {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if !std::io::stderr().is_terminal() || dumb {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {wide_msg} {elapsed}")
            .expect("a valid spinner template");
        bar.set_style(style);
        bar.set_message(message.to_owned());
        Self(Some(bar))
    }

    /// Turns the spinner one step (and redraws the time elapsed).
    pub fn tick(&self) {
        if let Some(bar) = &self.0 {
            bar.tick();
        }
    }

    pub fn is_shown(&self) -> bool {
        self.0.is_some()
    }

    pub fn set(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_owned());
        }
    }

    /// Removes the spinner's line.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
