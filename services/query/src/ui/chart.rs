//! Decay over time as inline SVG, computed here from the scorer's own functions
//! (`memvox_core::scoring::recency` at the sector's configured rate, `composite` for the
//! prior), so the chart is what ranking does, not a drawing of it.
//!
//! A sector's chart is its recency curve `e^(−λ·days)` with each fact as a dot at its age
//! (days since last seen or recalled); a memory's chart is its own curve from when it was last
//! seen, the prior its relevance is multiplied by (dashed), and where it stands now.

use std::f64::consts::LN_2;

use maud::{Markup, html};
use memvox_core::scoring::{composite, recency};
use memvox_core::{MILLIS_PER_DAY, Memory, ScoreWeights, Sector, UnixMillis};

use super::layout::short;

/// Drawing size and margins, in SVG units.
const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 28.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;
/// Points on a curve.
const SAMPLES: usize = 64;

/// A plot of values in `[0, 1]` over `horizon` days.
struct Frame {
    horizon: f64,
}

impl Frame {
    fn x(&self, days: f64) -> f64 {
        LEFT + days.clamp(0.0, self.horizon) / self.horizon * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        TOP + (1.0 - value.clamp(0.0, 1.0)) * (HEIGHT - TOP - BOTTOM)
    }

    /// The path of `f` over the frame's days.
    fn path(&self, f: impl Fn(f64) -> f64) -> String {
        (0..=SAMPLES)
            .map(|i| {
                let days = self.horizon * i as f64 / SAMPLES as f64;
                let command = if i == 0 { 'M' } else { 'L' };
                format!("{command}{:.1},{:.1}", self.x(days), self.y(f(days)))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Axes, gridlines and their labels.
    fn axes(&self) -> Markup {
        let bottom = self.y(0.0);
        html! {
            @for value in [0.0, 0.5, 1.0] {
                line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(self.y(value)) y2=(self.y(value)) {}
                text.label x=(LEFT - 6.0) y=(self.y(value) + 4.0) text-anchor="end" { (value) }
            }
            @for share in [0.0, 0.5, 1.0] {
                text.label x=(self.x(self.horizon * share)) y=(bottom + 16.0) text-anchor="middle" {
                    (format!("{:.0}", self.horizon * share)) " d"
                }
            }
            line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(bottom) y2=(bottom) {}
            line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(bottom) {}
        }
    }
}

/// Recency `days` after a memory was last seen, at `rate` per day: the scorer's function.
fn recency_after(days: f64, rate: f64) -> f64 {
    recency(0, (days * MILLIS_PER_DAY) as UnixMillis, rate)
}

/// Days from `from` to `now` (0 when `from` is later).
fn days_since(from: UnixMillis, now: UnixMillis) -> f64 {
    ((now - from) as f64 / MILLIS_PER_DAY).max(0.0)
}

/// Days a chart spans: past the oldest point shown, and long enough to show the curve bend
/// (two half-lives, at most a year), from 30 days to ten years.
fn horizon(rate: f64, oldest_days: f64) -> f64 {
    let half_life = if rate > 0.0 {
        LN_2 / rate
    } else {
        f64::INFINITY
    };
    (oldest_days * 1.2)
        .max((2.0 * half_life).min(365.0))
        .clamp(30.0, 3_650.0)
}

/// The half-life at `rate`, in words.
fn half_life(rate: f64) -> String {
    if rate > 0.0 {
        format!("half-life {:.0} days", LN_2 / rate)
    } else {
        "no decay".to_owned()
    }
}

/// `sector`'s recency curve at `rate`, with `facts` at their ages at `now`.
pub fn sector_decay(sector: Sector, rate: f64, facts: &[&Memory], now: UnixMillis) -> Markup {
    let oldest = facts
        .iter()
        .map(|m| days_since(m.last_seen_at, now))
        .fold(0.0, f64::max);
    let frame = Frame {
        horizon: horizon(rate, oldest),
    };
    let label = format!(
        "Recency of {} memories: λ = {rate} per day, {}",
        sector.as_str(),
        half_life(rate)
    );
    let dots = html! {
        @for memory in facts {
            @let age = days_since(memory.last_seen_at, now);
            circle class={ "dot " (memory.state.as_str()) } cx=(format!("{:.1}", frame.x(age)))
                cy=(format!("{:.1}", frame.y(recency_after(age, rate)))) r="4" {
                title { "#" (memory.id) " " (short(&memory.content, 80)) " — "
                    (format!("{age:.0}")) " days, recency "
                    (format!("{:.2}", recency_after(age, rate))) }
            }
        }
    };
    let caption = format!("{label}; dots are this caller's facts at their age since last seen.");
    figure(&frame, rate, &label, dots, &caption)
}

/// The factor ranking multiplies a memory's relevance by, for `salience` and `recency` and no
/// links: the composite score of a perfect match over that match's relevance.
fn prior(weights: &ScoreWeights, salience: f64, recency: f64) -> f64 {
    let relevance = weights.similarity + weights.lexical;
    if relevance <= 0.0 {
        return 0.0;
    }
    composite(weights, 1.0, 1.0, salience, recency, 0.0).total / relevance
}

/// `memory`'s own decay from when it was last seen: recency at `rate`, the prior its relevance
/// is multiplied by under `weights` (dashed), and where it is at `now`.
pub fn memory_decay(memory: &Memory, rate: f64, weights: &ScoreWeights, now: UnixMillis) -> Markup {
    let age = days_since(memory.last_seen_at, now);
    let frame = Frame {
        horizon: horizon(rate, age),
    };
    let factor = |days: f64| prior(weights, memory.salience, recency_after(days, rate));
    let current = recency_after(age, rate);
    let label = format!(
        "Recency since last seen: λ = {rate} per day ({}); now {current:.2} after {age:.0} days, \
         so search multiplies its relevance by {:.3}",
        half_life(rate),
        factor(age)
    );
    let marks = html! {
        path.prior d=(frame.path(factor)) {}
        line.now x1=(frame.x(age)) x2=(frame.x(age)) y1=(TOP) y2=(frame.y(0.0)) {}
        circle.dot.active cx=(format!("{:.1}", frame.x(age)))
            cy=(format!("{:.1}", frame.y(current))) r="5" {
            title { "now: recency " (format!("{current:.2}")) }
        }
    };
    let caption = format!(
        "{label}. Solid: recency; dashed: that factor (the prior from salience and recency, \
         links left out) over time; line: now."
    );
    figure(&frame, rate, &label, marks, &caption)
}

/// A chart in `frame`: its axes, the recency curve at `rate`, then `marks`; `label` for
/// screen readers, `caption` below.
fn figure(frame: &Frame, rate: f64, label: &str, marks: Markup, caption: &str) -> Markup {
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(label) {
                (frame.axes())
                path.curve d=(frame.path(|days| recency_after(days, rate))) {}
                (marks)
            }
            figcaption { (caption) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_the_scorers_recency() {
        let rate = Sector::Semantic.default_decay_per_day();
        assert!((recency_after(LN_2 / rate, rate) - 0.5).abs() < 1e-9);
        assert_eq!(recency_after(0.0, rate), 1.0);
    }

    #[test]
    fn a_chart_spans_its_oldest_point_and_two_half_lives() {
        assert!((horizon(0.005, 0.0) - 2.0 * LN_2 / 0.005).abs() < 1e-9);
        assert_eq!(horizon(0.001, 0.0), 365.0);
        assert_eq!(horizon(0.02, 500.0), 600.0);
        assert_eq!(horizon(0.0, 0.0), 365.0);
        assert_eq!(horizon(0.5, 0.0), 30.0);
    }

    #[test]
    fn points_fall_inside_the_frame() {
        let frame = Frame { horizon: 100.0 };
        assert_eq!(frame.x(0.0), LEFT);
        assert_eq!(frame.x(1_000.0), WIDTH - RIGHT);
        assert_eq!(frame.y(1.0), TOP);
        assert_eq!(frame.y(0.0), HEIGHT - BOTTOM);
        assert!(frame.path(|_| 0.5).starts_with("M40.0,81.0 L"));
    }

    #[test]
    fn the_prior_spans_what_ranking_lets_salience_and_recency_move() {
        let weights = ScoreWeights::default();
        assert!(
            (prior(&weights, 1.0, 1.0) - 0.97).abs() < 1e-9,
            "links left out"
        );
        assert!((prior(&weights, 0.0, 0.0) - 0.85).abs() < 1e-9);
    }
}
