//! `[privacy.redaction]`: the configured [`RedactionPolicy`].
//!
//! ```toml
//! [privacy.redaction.all_fields]   # every field; unset kinds keep their default
//! email = "mask"
//!
//! [privacy.redaction.episodes]     # one field; unset kinds follow all_fields
//! phone = "drop"
//! ```
//!
//! A kind's mode in a field is the field's setting, else `all_fields`' setting, else the
//! default: cards and national ids `mask`, every other kind `keep`.

use serde::{Deserialize, Serialize};

use super::{Field, FieldPolicy, Mode, PiiKind, RedactionPolicy};

/// A mode per kind, each optional (unset: decided by the next layer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindModes {
    /// Payment-card numbers.
    pub card: Option<Mode>,
    /// National ids (US social security numbers).
    pub national_id: Option<Mode>,
    /// IBANs and domestic bank account, sort and routing numbers.
    pub bank_account: Option<Mode>,
    /// Email addresses.
    pub email: Option<Mode>,
    /// Phone numbers.
    pub phone: Option<Mode>,
    /// Street addresses.
    pub street_address: Option<Mode>,
    /// Dates of birth.
    pub date_of_birth: Option<Mode>,
}

impl KindModes {
    /// The mode set for `kind`, if any.
    pub fn get(&self, kind: PiiKind) -> Option<Mode> {
        match kind {
            PiiKind::Card => self.card,
            PiiKind::NationalId => self.national_id,
            PiiKind::BankAccount => self.bank_account,
            PiiKind::Email => self.email,
            PiiKind::Phone => self.phone,
            PiiKind::StreetAddress => self.street_address,
            PiiKind::DateOfBirth => self.date_of_birth,
        }
    }
}

/// Redaction at write time (`[privacy.redaction]`, `MEMVOX_PRIVACY__REDACTION__*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactionSettings {
    /// Modes for every field.
    pub all_fields: KindModes,
    /// Memory content (extracted facts and memories added through the REST API).
    pub memory_content: KindModes,
    /// Episodes (windows of a call's turns).
    pub episodes: KindModes,
    /// The platform's call summaries.
    pub summaries: KindModes,
    /// Transcript turns.
    pub transcript_turns: KindModes,
    /// The platform's analysis results (data collection, evaluation rationales).
    pub analysis_results: KindModes,
}

impl RedactionSettings {
    fn field(&self, field: Field) -> &KindModes {
        match field {
            Field::MemoryContent => &self.memory_content,
            Field::Episodes => &self.episodes,
            Field::Summaries => &self.summaries,
            Field::TranscriptTurns => &self.transcript_turns,
            Field::AnalysisResults => &self.analysis_results,
        }
    }

    /// The policy these settings describe.
    pub fn policy(&self) -> RedactionPolicy {
        Field::ALL
            .into_iter()
            .fold(RedactionPolicy::default(), |policy, field| {
                let modes = PiiKind::ALL.into_iter().fold(
                    FieldPolicy::uniform(Mode::Keep),
                    |modes, kind| {
                        let mode = self
                            .field(field)
                            .get(kind)
                            .or(self.all_fields.get(kind))
                            .unwrap_or(kind.default_mode());
                        modes.with(kind, mode)
                    },
                );
                policy.with_field(field, modes)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_setting_beats_all_fields_which_beats_the_default() {
        let settings: RedactionSettings = serde_json::from_str(
            r#"{"all_fields": {"email": "mask", "card": "drop"},
                "episodes": {"email": "keep", "phone": "drop"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let policy = settings.policy();
        let turns = policy.field(Field::TranscriptTurns);
        assert_eq!(turns.mode(PiiKind::Email), Mode::Mask);
        assert_eq!(turns.mode(PiiKind::Card), Mode::Drop);
        assert_eq!(turns.mode(PiiKind::NationalId), Mode::Mask, "default");
        assert_eq!(turns.mode(PiiKind::Phone), Mode::Keep, "default");
        let episodes = policy.field(Field::Episodes);
        assert_eq!(episodes.mode(PiiKind::Email), Mode::Keep);
        assert_eq!(episodes.mode(PiiKind::Phone), Mode::Drop);
        assert_eq!(episodes.mode(PiiKind::Card), Mode::Drop);
    }

    #[test]
    fn nothing_configured_masks_cards_and_national_ids_and_keeps_the_rest() {
        let policy = RedactionSettings::default().policy();
        assert_eq!(policy, RedactionPolicy::default());
        for field in Field::ALL {
            for kind in PiiKind::ALL {
                let expected = match kind {
                    PiiKind::Card | PiiKind::NationalId => Mode::Mask,
                    _ => Mode::Keep,
                };
                assert_eq!(
                    policy.field(field).mode(kind),
                    expected,
                    "{kind} in {}",
                    field.as_str()
                );
            }
        }
    }

    #[test]
    fn unknown_kinds_and_modes_are_rejected() {
        for bad in [
            r#"{"all_fields": {"passport": "mask"}}"#,
            r#"{"episodes": {"email": "hide"}}"#,
            r#"{"turns": {}}"#,
        ] {
            assert!(
                serde_json::from_str::<RedactionSettings>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
