//! Identity settings (`[identity]`, `MEMVOX_IDENTITY__*`), shared by the query service and the
//! extraction worker, which must agree on them.

use serde::Deserialize;

/// How callers are identified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentitySettings {
    /// Our own phone numbers (E.164). A conversation-init request or tool call whose
    /// `caller_id` is one of them is an outbound call, keyed on the number dialled. The
    /// post-call webhook says the direction itself (`metadata.phone_call`); without this list
    /// an outbound call's init and tool calls find nobody (our number is never bound to a
    /// user), so outbound calls are safe but not personalised.
    pub own_numbers: Vec<String>,
}

impl IdentitySettings {
    /// Whether `number` is one of ours.
    pub fn is_own_number(&self, number: &str) -> bool {
        let number = number.trim();
        self.own_numbers.iter().any(|own| own.trim() == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_numbers_are_compared_trimmed() {
        let settings = IdentitySettings {
            own_numbers: vec!["+14155550142".into()],
        };
        assert!(settings.is_own_number(" +14155550142"));
        assert!(!settings.is_own_number("+14155550199"));
        assert!(!IdentitySettings::default().is_own_number("+14155550142"));
    }
}
