//! Progress of a long copy on standard error, as `memvox eval` shows its own: one line
//! rewritten in place (`\r`), ended when the copy is. A copy done within half a second shows
//! nothing. Used by `memvox backup` / `restore` (bytes), `memvox migrate-store` (rows) and
//! `memvox elevenlabs import` (conversations, whose total the API does not tell: no percentage).

use std::time::{Duration, Instant};

/// How long a copy runs before its progress is shown, and how often it is refreshed.
const EVERY: Duration = Duration::from_millis(500);

/// Bytes in a MiB, for display.
const MIB: f64 = 1_048_576.0;

/// What a meter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes, shown in MiB.
    Bytes,
    /// Rows, shown as they are.
    Rows,
    /// Conversations, of no known total.
    Conversations,
}

/// Counts what one copy has done and shows it.
#[derive(Debug)]
pub struct Meter {
    label: &'static str,
    unit: Unit,
    total: u64,
    done: u64,
    shown: bool,
    next: Instant,
}

impl Meter {
    /// A meter for a copy of `total` bytes, shown as `label` (e.g. "compressed").
    pub fn new(label: &'static str, total: u64) -> Self {
        Self::counting(label, Unit::Bytes, total)
    }

    /// A meter for a copy of `total` of `unit`, shown as `label`.
    pub fn counting(label: &'static str, unit: Unit, total: u64) -> Self {
        Self {
            label,
            unit,
            total,
            done: 0,
            shown: false,
            next: Instant::now() + EVERY,
        }
    }

    /// Counts `amount` more, refreshing the line when it is time.
    pub fn add(&mut self, amount: u64) {
        self.done += amount;
        if Instant::now() >= self.next {
            self.show();
            self.next = Instant::now() + EVERY;
        }
    }

    /// Counted so far.
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
        match self.unit {
            Unit::Bytes => eprint!(
                "\r  {} {:.1} of {:.1} MiB ({percent:.0}%)",
                self.label,
                self.done as f64 / MIB,
                self.total as f64 / MIB
            ),
            Unit::Rows => eprint!(
                "\r  {} {} of {} rows ({percent:.0}%)",
                self.label, self.done, self.total
            ),
            Unit::Conversations => {
                eprint!("\r  {} {} conversations", self.label, self.done);
            }
        }
    }
}
