//! What the policy is made of: the kinds of personal data, the modes and the fields.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::IBAN_MASK;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A payment-card number (Luhn-checked).
    Card,
    /// A national id: a US social security number.
    NationalId,
    /// An IBAN or a domestic bank account, sort or routing number.
    BankAccount,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A street address with a house number.
    StreetAddress,
    /// A date of birth.
    DateOfBirth,
}

impl PiiKind {
    /// Every kind.
    pub const ALL: [PiiKind; 7] = [
        PiiKind::Card,
        PiiKind::NationalId,
        PiiKind::BankAccount,
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::StreetAddress,
        PiiKind::DateOfBirth,
    ];

    /// The name used in configuration and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Card => "card",
            PiiKind::NationalId => "national_id",
            PiiKind::BankAccount => "bank_account",
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::StreetAddress => "street_address",
            PiiKind::DateOfBirth => "date_of_birth",
        }
    }

    /// What a masked span of this kind becomes (an IBAN: [`IBAN_MASK`]).
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Card => "[card number]",
            PiiKind::NationalId => "[SSN]",
            PiiKind::BankAccount => "[bank account]",
            PiiKind::Email => "[email]",
            PiiKind::Phone => "[phone number]",
            PiiKind::StreetAddress => "[address]",
            PiiKind::DateOfBirth => "[date of birth]",
        }
    }

    /// The mode of this kind when nothing is configured: cards and national ids are masked
    /// everywhere, the rest kept.
    pub fn default_mode(self) -> Mode {
        match self {
            PiiKind::Card | PiiKind::NationalId => Mode::Mask,
            _ => Mode::Keep,
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// Whether `text` holds a placeholder of this kind (from an earlier redaction).
    pub(super) fn placeholder_in(self, text: &str) -> bool {
        text.contains(self.placeholder())
            || (self == PiiKind::BankAccount && text.contains(IBAN_MASK))
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to personal data of one kind in one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Stored as said.
    Keep,
    /// Replaced by the kind's placeholder.
    Mask,
    /// Removed (a memory holding it is not stored).
    Drop,
}

/// A field memvox writes text to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// A memory's content: extracted from a call or added through the REST API.
    MemoryContent,
    /// An episode: a window of a call's turns.
    Episodes,
    /// The platform's summary of a call.
    Summaries,
    /// What the caller and the agent said, turn by turn.
    TranscriptTurns,
    /// The platform's analysis: data-collection values and rationales, evaluation rationales.
    AnalysisResults,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 5] = [
        Field::MemoryContent,
        Field::Episodes,
        Field::Summaries,
        Field::TranscriptTurns,
        Field::AnalysisResults,
    ];

    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::MemoryContent => "memory_content",
            Field::Episodes => "episodes",
            Field::Summaries => "summaries",
            Field::TranscriptTurns => "transcript_turns",
            Field::AnalysisResults => "analysis_results",
        }
    }
}
