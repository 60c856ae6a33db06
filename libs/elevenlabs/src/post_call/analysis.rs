//! `data.analysis` of a `post_call_transcription` webhook: outcome, summary, evaluation criteria and
//! data-collection results.
//!
//! Spec §1.3.3. `call_successful` is a string enum (not the seed plan's boolean). Data-collection
//! results are keyed by id and hold `{data_collection_id, value, rationale, ...}`; `value` is any
//! JSON (often a string, since ElevenLabs collects strings, numbers and booleans).
//! The newer `*_list` forms are not read; the maps are what the SDK model requires.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;
use crate::serde_util::null_as_default;

open_enum! {
    /// Outcome of the call or of one evaluation criterion.
    pub enum Verdict {
        /// Succeeded.
        Success => "success",
        /// Failed.
        Failure => "failure",
        /// Could not be judged.
        Unknown => "unknown",
    }
}

/// `data.analysis` (`ConversationHistoryAnalysisCommonModel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Whether the call reached its goal; absent reads as `unknown`.
    #[serde(default = "unknown_verdict")]
    pub call_successful: Verdict,
    /// LLM summary of the call; may be empty.
    #[serde(default)]
    pub transcript_summary: String,
    /// Short title.
    #[serde(default)]
    pub call_summary_title: Option<String>,
    /// Evaluation results by criterion id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub evaluation_criteria_results: BTreeMap<String, EvaluationResult>,
    /// Data-collection results by id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub data_collection_results: BTreeMap<String, DataCollectionResult>,
}

fn unknown_verdict() -> Verdict {
    Verdict::Unknown
}

impl Analysis {
    /// The data-collection result whose id (map key or `data_collection_id`) or `name` equals
    /// `name`, compared ignoring ASCII case and treating `-` and spaces as `_`.
    pub fn data_collection(&self, name: &str) -> Option<&DataCollectionResult> {
        self.data_collection_results
            .iter()
            .find_map(|(key, result)| {
                let matches = same_name(key, name)
                    || same_name(&result.data_collection_id, name)
                    || result.name.as_deref().is_some_and(|n| same_name(n, name));
                matches.then_some(result)
            })
    }

    /// Action items collected under a result named `action_items` (see [`Self::data_collection`]).
    ///
    /// An array value gives its non-empty string elements. A string value is read as a JSON array
    /// of strings if it is one, else as one item per line with leading bullets (`-`, `*`, `•`,
    /// `1.`, `1)`) removed. Anything else, or no such result, gives an empty list.
    pub fn action_items(&self) -> Vec<String> {
        self.data_collection("action_items")
            .map(|result| list_items(&result.value))
            .unwrap_or_default()
    }
}

/// One evaluation criterion's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationResult {
    /// Criterion id.
    #[serde(default)]
    pub criteria_id: String,
    /// Outcome.
    #[serde(default = "unknown_verdict")]
    pub result: Verdict,
    /// Why.
    #[serde(default)]
    pub rationale: String,
    /// Numeric score, for scored criteria.
    #[serde(default)]
    pub score: Option<f64>,
    /// Maximum score, for scored criteria.
    #[serde(default)]
    pub max_score: Option<f64>,
}

/// One data-collection result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataCollectionResult {
    /// Id of the data-collection item.
    #[serde(default)]
    pub data_collection_id: String,
    /// The collected value; `Null` when nothing was collected.
    #[serde(default)]
    pub value: serde_json::Value,
    /// Why this value.
    #[serde(default)]
    pub rationale: Option<String>,
    /// Schema the value was collected against.
    #[serde(default)]
    pub json_schema: Option<serde_json::Value>,
    /// Display name, if any.
    #[serde(default)]
    pub name: Option<String>,
}

impl DataCollectionResult {
    /// The value as non-empty text, if it is a string.
    pub fn as_text(&self) -> Option<&str> {
        self.value.as_str().map(str::trim).filter(|s| !s.is_empty())
    }
}

fn same_name(a: &str, b: &str) -> bool {
    let norm = |c: char| match c {
        '-' | ' ' => '_',
        other => other.to_ascii_lowercase(),
    };
    a.chars().map(norm).eq(b.chars().map(norm))
}

fn list_items(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::trim))
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
        serde_json::Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(array @ serde_json::Value::Array(_)) => list_items(&array),
            _ => text
                .lines()
                .map(strip_bullet)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        _ => Vec::new(),
    }
}

/// Removes a leading list marker (`-`, `*`, `•`, `1.`, `1)`) followed by whitespace.
fn strip_bullet(line: &str) -> &str {
    let line = line.trim();
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let marker = if digits > 0 {
        line[digits..].strip_prefix(['.', ')'])
    } else {
        line.strip_prefix(['-', '*', '•'])
    };
    match marker {
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_items(value: serde_json::Value) -> Analysis {
        serde_json::from_value(json!({
            "call_successful": "success",
            "transcript_summary": "s",
            "data_collection_results": {
                "Action-Items": {"data_collection_id": "Action-Items", "value": value}
            }
        }))
        .unwrap()
    }

    #[test]
    fn action_items_from_an_array() {
        let analysis = with_items(json!(["Send pricing PDF", " ", 3, "Call back Monday"]));
        assert_eq!(
            analysis.action_items(),
            ["Send pricing PDF", "Call back Monday"]
        );
    }

    #[test]
    fn action_items_from_a_json_array_string() {
        let analysis = with_items(json!("[\"Send pricing PDF\",\"Book visit\"]"));
        assert_eq!(analysis.action_items(), ["Send pricing PDF", "Book visit"]);
    }

    #[test]
    fn action_items_from_a_bulleted_string() {
        let analysis = with_items(json!(
            "- Send pricing PDF\n\n2) Book visit\n• Email Sam\n3.5 hours on site\n-5 C"
        ));
        assert_eq!(
            analysis.action_items(),
            [
                "Send pricing PDF",
                "Book visit",
                "Email Sam",
                "3.5 hours on site",
                "-5 C"
            ]
        );
    }

    #[test]
    fn no_action_items_when_absent_or_null() {
        assert!(with_items(json!(null)).action_items().is_empty());
        let none: Analysis = serde_json::from_value(json!({})).unwrap();
        assert!(none.action_items().is_empty());
        assert_eq!(none.call_successful, Verdict::Unknown);
    }

    #[test]
    fn seed_plan_boolean_outcome_is_rejected() {
        let error =
            serde_json::from_value::<Analysis>(json!({"call_successful": true})).unwrap_err();
        assert!(error.to_string().contains("string"), "{error}");
    }
}
