//! The five memory sectors and their default decay rates.
//!
//! Sectors follow the seed plan: semantic facts, episodic events, procedural how-to and
//! preferences, emotional sentiment, reflective patterns. Decay rates are per day; emotional
//! memories fade fastest, reflective and semantic ones slowest.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::UnknownVariant;

/// The kind of a memory, which decides how fast it fades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sector {
    /// Facts, attributes and preferences ("uses Salesforce").
    Semantic,
    /// Specific events and actions ("called about billing on Nov 1").
    Episodic,
    /// How-to knowledge and standing instructions ("email, never phone").
    Procedural,
    /// Sentiment ("frustrated with the billing errors").
    Emotional,
    /// Patterns across calls ("usually calls at lunch time").
    Reflective,
}

impl Sector {
    /// Every sector, in a stable order.
    pub const ALL: [Sector; 5] = [
        Sector::Semantic,
        Sector::Episodic,
        Sector::Procedural,
        Sector::Emotional,
        Sector::Reflective,
    ];

    /// The lower-case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Semantic => "semantic",
            Sector::Episodic => "episodic",
            Sector::Procedural => "procedural",
            Sector::Emotional => "emotional",
            Sector::Reflective => "reflective",
        }
    }

    /// Default decay rate λ per day: `recency = e^(−λ·days)`.
    ///
    /// Half-lives: emotional ≈ 35 days, episodic ≈ 46, procedural ≈ 87, semantic ≈ 139,
    /// reflective ≈ 693.
    pub fn default_decay_per_day(self) -> f64 {
        match self {
            Sector::Semantic => 0.005,
            Sector::Episodic => 0.015,
            Sector::Procedural => 0.008,
            Sector::Emotional => 0.020,
            Sector::Reflective => 0.001,
        }
    }
}

/// Decay rate λ per day of each sector, as configured (defaults:
/// [`Sector::default_decay_per_day`]). Ranking applies it at read time, so a changed rate
/// takes effect on the next query for every memory of the sector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SectorDecay {
    /// Facts and attributes.
    pub semantic: f64,
    /// Events.
    pub episodic: f64,
    /// How-to and standing instructions.
    pub procedural: f64,
    /// Sentiment.
    pub emotional: f64,
    /// Patterns across calls.
    pub reflective: f64,
}

impl Default for SectorDecay {
    fn default() -> Self {
        Self {
            semantic: Sector::Semantic.default_decay_per_day(),
            episodic: Sector::Episodic.default_decay_per_day(),
            procedural: Sector::Procedural.default_decay_per_day(),
            emotional: Sector::Emotional.default_decay_per_day(),
            reflective: Sector::Reflective.default_decay_per_day(),
        }
    }
}

impl SectorDecay {
    /// The rate of `sector`.
    pub fn rate(&self, sector: Sector) -> f64 {
        match sector {
            Sector::Semantic => self.semantic,
            Sector::Episodic => self.episodic,
            Sector::Procedural => self.procedural,
            Sector::Emotional => self.emotional,
            Sector::Reflective => self.reflective,
        }
    }

    /// The first sector whose rate is negative or not finite, with its rate.
    pub fn invalid(&self) -> Option<(Sector, f64)> {
        Sector::ALL
            .into_iter()
            .map(|sector| (sector, self.rate(sector)))
            .find(|(_, rate)| !rate.is_finite() || *rate < 0.0)
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sector {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sector::ALL
            .into_iter()
            .find(|sector| sector.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                kind: "sector",
                value: s.to_owned(),
                expected: "semantic, episodic, procedural, emotional, reflective",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_name() {
        for sector in Sector::ALL {
            assert_eq!(sector.as_str().parse::<Sector>(), Ok(sector));
            let json = serde_json::to_string(&sector).unwrap();
            assert_eq!(json, format!("\"{}\"", sector.as_str()));
        }
    }

    #[test]
    fn rejects_unknown_names_with_the_choices() {
        let err = "Semantic".parse::<Sector>().unwrap_err();
        assert!(err.to_string().contains("unknown sector `Semantic`"));
        assert!(err.to_string().contains("procedural"));
    }

    #[test]
    fn configured_rates_default_to_the_sector_defaults_and_are_checked() {
        let decay = SectorDecay::default();
        for sector in Sector::ALL {
            assert_eq!(decay.rate(sector), sector.default_decay_per_day());
        }
        assert_eq!(decay.invalid(), None);
        let odd = SectorDecay {
            emotional: 0.5,
            procedural: -0.1,
            ..SectorDecay::default()
        };
        assert_eq!(odd.rate(Sector::Emotional), 0.5);
        assert_eq!(odd.invalid(), Some((Sector::Procedural, -0.1)));
    }

    #[test]
    fn emotional_fades_fastest_and_reflective_slowest() {
        let mut rates: Vec<_> = Sector::ALL
            .iter()
            .map(|s| (s.default_decay_per_day(), *s))
            .collect();
        rates.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(rates.first().unwrap().1, Sector::Reflective);
        assert_eq!(rates.last().unwrap().1, Sector::Emotional);
    }
}
