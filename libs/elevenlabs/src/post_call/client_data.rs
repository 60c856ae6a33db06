//! `data.conversation_initiation_client_data` of a `post_call_transcription` webhook: what the
//! conversation was started with (our initiation response, or the caller's SDK data).
//!
//! Spec §1.3.4. Dynamic variables are read as raw JSON values: ElevenLabs documents scalars only,
//! but tool assignments can create list-valued variables, and one odd variable must not make the
//! whole webhook fail. Real payloads also echo resolved `system__*` variables here; that is
//! observed, not promised, so callers use them only as a fallback.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::initiation::ConversationConfigOverride;
use crate::serde_util::null_as_default;

/// `conversation_initiation_client_data` (`ConversationInitiationClientDataRequestOutput`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitiationClientData {
    /// Dynamic variables by name, including any echoed `system__*` ones.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dynamic_variables: BTreeMap<String, serde_json::Value>,
    /// The `user_id` the conversation was started with.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Overrides the conversation was started with.
    #[serde(default)]
    pub conversation_config_override: Option<ConversationConfigOverride>,
}

impl InitiationClientData {
    /// The dynamic variable `name` if it is a non-empty string.
    pub fn variable_str(&self, name: &str) -> Option<&str> {
        self.dynamic_variables
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_of_any_json_type_are_kept_and_only_strings_read_as_text() {
        let data: InitiationClientData = serde_json::from_str(
            r#"{"dynamic_variables":{"name":"Dana","turns":5,"vip":true,"tags":["a"],"empty":""},
                "conversation_config_override":{"agent":{"prompt":null,"language":"en"},"tts":{"voice_id":null}}}"#,
        )
        .unwrap();
        assert_eq!(data.variable_str("name"), Some("Dana"));
        assert_eq!(data.variable_str("turns"), None);
        assert_eq!(data.variable_str("empty"), None);
        assert_eq!(data.variable_str("missing"), None);
        assert_eq!(data.dynamic_variables["tags"], serde_json::json!(["a"]));
    }

    #[test]
    fn null_variables_read_as_empty() {
        let data: InitiationClientData =
            serde_json::from_str(r#"{"dynamic_variables":null}"#).unwrap();
        assert!(data.dynamic_variables.is_empty());
    }
}
