//! What the benchmarks share: medians, timed commands, and the results table with a ratio and
//! a goal per row.
#![allow(dead_code)] // each bench uses a different subset

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `command`, requires success, and returns how long it took with its output.
pub fn timed(command: &mut Command) -> (Duration, Output) {
    let started = Instant::now();
    let out = command.output().expect("run a command");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, out)
}

/// One line of the results table.
pub struct Row {
    pub what: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: String,
    pub goal: &'static str,
    pub met: Option<bool>,
}

impl Row {
    /// A row with no goal.
    pub fn info(what: impl Into<String>, ours: String, baseline: String, ratio: String) -> Self {
        Row {
            what: what.into(),
            ours,
            baseline,
            ratio,
            goal: "",
            met: None,
        }
    }
}

/// The table's column titles (the last, `met`, is fixed) and widths.
pub struct Columns {
    pub titles: [&'static str; 5],
    pub widths: [usize; 5],
}

pub fn print_table(columns: &Columns, rows: &[Row]) {
    let [w0, w1, w2, w3, w4] = columns.widths;
    let [t0, t1, t2, t3, t4] = columns.titles;
    println!("\n{t0:<w0$} {t1:>w1$} {t2:>w2$} {t3:>w3$} {t4:>w4$}  met");
    println!("{}", "-".repeat(columns.widths.iter().sum::<usize>() + 10));
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!(
            "{:<w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$}  {met}",
            r.what, r.ours, r.baseline, r.ratio, r.goal
        );
    }
}
