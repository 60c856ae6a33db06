//! Progress of a long copy on standard error, as `memvox eval` shows its own: one line
//! rewritten in place (`\r`), ended when the copy is. A copy done within half a second shows
//! nothing.

use std::time::{Duration, Instant};

/// How long a copy runs before its progress is shown, and how often it is refreshed.
const EVERY: Duration = Duration::from_millis(500);

/// Bytes in a MiB, for display.
const MIB: f64 = 1_048_576.0;

/// Counts the bytes of one copy and shows them.
#[derive(Debug)]
pub struct Meter {
    label: &'static str,
    total: u64,
    done: u64,
    shown: bool,
    next: Instant,
}

impl Meter {
    /// A meter for a copy of `total` bytes, shown as `label` (e.g. "compressed").
    pub fn new(label: &'static str, total: u64) -> Self {
        Self {
            label,
            total,
            done: 0,
            shown: false,
            next: Instant::now() + EVERY,
        }
    }

    /// Counts `bytes` more, refreshing the line when it is time.
    pub fn add(&mut self, bytes: u64) {
        self.done += bytes;
        if Instant::now() >= self.next {
            self.show();
            self.next = Instant::now() + EVERY;
        }
    }

    /// Bytes counted so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Ends the line, if one was shown.
    pub fn finish(&mut self) {
        if self.shown {
            self.show();
            eprintln!();
        }
    }

    fn show(&mut self) {
        self.shown = true;
        let percent = if self.total == 0 {
            100.0
        } else {
            self.done as f64 * 100.0 / self.total as f64
        };
        eprint!(
            "\r  {} {:.1} of {:.1} MiB ({percent:.0}%)",
            self.label,
            self.done as f64 / MIB,
            self.total as f64 / MIB
        );
    }
}
