//! What callers read: the compact memory view of a query result, and times as RFC 3339.
//!
//! The memory-query answer is read by the agent's LLM while the caller waits, so it carries
//! only what explains a memory — id, text, sector, salience, when, where from, and the score
//! terms rounded to three decimals — and omits empty fields.

use memvox_core::{MemoryId, Sector, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::retrieval::Ranked;

/// One memory in a query answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryView {
    /// Memory id (for the REST API).
    pub id: MemoryId,
    /// The fact.
    pub content: String,
    /// Its sector.
    pub sector: Sector,
    /// Importance in `[0, 1]`.
    pub salience: f64,
    /// When it was first remembered (RFC 3339, UTC).
    pub timestamp: String,
    /// The call and transcript turns it came from; absent for memories added by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceView>,
    /// The terms of its score.
    pub score: ScoreView,
    /// For a memory reached through a link, the memory whose link led to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<MemoryId>,
}

/// Where a memory came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceView {
    /// ElevenLabs conversation id.
    pub conversation_id: String,
    /// Transcript turn indexes (0-based).
    pub turns: Vec<u32>,
}

/// Score terms, rounded to three decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreView {
    /// Cosine similarity to the query.
    pub similarity: f64,
    /// Share of the query's words (BM25-weighted) the memory contains.
    pub lexical: f64,
    /// Salience term.
    pub salience: f64,
    /// Recency factor.
    pub recency: f64,
    /// Mean link weight (or the weight of the link followed).
    pub link: f64,
    /// Weighted total.
    pub total: f64,
}

impl From<&Ranked> for MemoryView {
    fn from(ranked: &Ranked) -> Self {
        let memory = &ranked.memory;
        Self {
            id: memory.id,
            content: memory.content.clone(),
            sector: memory.sector,
            salience: round3(memory.salience),
            timestamp: rfc3339(memory.created_at),
            source: memory.provenance.as_ref().map(|p| SourceView {
                conversation_id: p.conversation_id.clone(),
                turns: p.turn_indexes.clone(),
            }),
            score: ScoreView {
                similarity: round3(ranked.score.similarity),
                lexical: round3(ranked.score.lexical),
                salience: round3(ranked.score.salience),
                recency: round3(ranked.score.recency),
                link: round3(ranked.score.link),
                total: round3(ranked.score.total),
            },
            via: ranked.via,
        }
    }
}

/// `x` rounded to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn rfc3339(at: UnixMillis) -> String {
    let secs = at.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_765_815_600_000), "2025-12-15T16:20:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn rounds_to_three_decimals() {
        assert_eq!(round3(0.123_456), 0.123);
        assert_eq!(round3(0.9996), 1.0);
    }
}
