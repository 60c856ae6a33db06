//! Accessor tests on hand-made variations; the full fixture is covered in `tests/fixtures.rs`.

use serde_json::{Value, json};

use super::*;

fn minimal() -> Value {
    json!({
        "agent_id": "agent_1",
        "conversation_id": "conv_1",
        "status": "done",
        "metadata": {"start_time_unix_secs": 1000, "call_duration_secs": 60}
    })
}

fn parse(value: Value) -> TranscriptionData {
    serde_json::from_value(value).unwrap()
}

#[test]
fn minimal_data_without_transcript_analysis_or_client_data() {
    let data = parse(minimal());
    assert!(data.transcript.is_empty());
    assert_eq!(data.messages().count(), 0);
    assert_eq!(data.remote_number(|_| false), None);
    assert_eq!(data.user_id(), None);
    assert_eq!(data.summary(), None);
    assert!(data.action_items().is_empty());
    assert_eq!(data.end_time_unix_secs(), 1060);
}

#[test]
fn null_transcript_reads_as_empty() {
    let mut value = minimal();
    value["transcript"] = Value::Null;
    assert!(parse(value).transcript.is_empty());
}

#[test]
fn remote_number_falls_back_to_system_caller_id_without_phone_metadata() {
    let mut value = minimal();
    value["conversation_initiation_client_data"] =
        json!({"dynamic_variables": {"system__caller_id": "+14155550100"}});
    assert_eq!(parse(value).remote_number(|_| false), Some("+14155550100"));
}

#[test]
fn outbound_calls_never_use_system_caller_id_which_is_our_number() {
    let mut value = minimal();
    value["metadata"]["phone_call"] = json!({"type": "twilio", "direction": "outbound"});
    value["conversation_initiation_client_data"] =
        json!({"dynamic_variables": {"system__caller_id": "+14155550142"}});
    assert_eq!(parse(value.clone()).remote_number(|_| false), None);
    value["conversation_initiation_client_data"]["dynamic_variables"]["system__called_number"] =
        json!("+14155550177");
    assert_eq!(
        parse(value.clone()).remote_number(|_| false),
        Some("+14155550177"),
        "outbound without external_number: the dialled number"
    );
    value["metadata"]["phone_call"]["external_number"] = json!("+14155550199");
    assert_eq!(parse(value).remote_number(|_| false), Some("+14155550199"));
}

#[test]
fn without_a_direction_our_own_number_as_caller_means_outbound() {
    let mut value = minimal();
    value["conversation_initiation_client_data"] = json!({"dynamic_variables": {
        "system__caller_id": "+14155550142",
        "system__called_number": "+14155550177"
    }});
    let data = parse(value.clone());
    assert_eq!(data.remote_number(|_| false), Some("+14155550142"));
    assert_eq!(
        data.remote_number(|n| n == "+14155550142"),
        Some("+14155550177")
    );
    value["metadata"]["phone_call"] =
        json!({"type": "sip_trunking", "agent_number": "+14155550142"});
    assert_eq!(parse(value).remote_number(|_| false), Some("+14155550177"));
}

#[test]
fn user_id_precedence_skips_empty_values() {
    let mut value = minimal();
    value["user_id"] = json!("");
    value["conversation_initiation_client_data"] = json!({
        "user_id": null,
        "dynamic_variables": {"memory_user_id": "", "user_id": "seed_user"}
    });
    assert_eq!(parse(value.clone()).user_id(), Some("seed_user"));
    value["conversation_initiation_client_data"]["dynamic_variables"]["memory_user_id"] =
        json!("mem_2");
    assert_eq!(parse(value.clone()).user_id(), Some("mem_2"));
    value["conversation_initiation_client_data"]["user_id"] = json!("mem_init");
    assert_eq!(parse(value.clone()).user_id(), Some("mem_init"));
    value["user_id"] = json!("mem_top");
    assert_eq!(parse(value).user_id(), Some("mem_top"));
}

#[test]
fn messages_keep_transcript_indexes_and_absolute_times() {
    let mut value = minimal();
    value["transcript"] = json!([
        {"role": "agent", "message": "Hello", "time_in_call_secs": 0},
        {"role": "agent", "message": null, "time_in_call_secs": 3,
         "tool_calls": [{"request_id": "r1", "tool_name": "t", "params_as_json": "{\"a\":1}"}]},
        {"role": "agent", "message": null, "time_in_call_secs": 3,
         "tool_results": [{"request_id": "r1", "tool_name": "t", "result_value": "{\"ok\":true}"}]},
        {"role": "user", "message": "Hi there", "time_in_call_secs": 7}
    ]);
    let data = parse(value);
    let messages: Vec<_> = data.messages().collect();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].turn_index, 3);
    assert_eq!(messages[1].role, &Role::User);
    assert_eq!(messages[1].text, "Hi there");
    assert_eq!(messages[1].time_unix_secs, 1007);

    let calls: Vec<_> = data.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, 1);
    let result = data.tool_result(&calls[0].1.request_id).unwrap();
    assert_eq!(result.result_json().unwrap().unwrap(), json!({"ok": true}));
    assert!(data.tool_result("nope").is_none());
}

#[test]
fn missing_required_fields_are_errors() {
    for field in ["agent_id", "conversation_id", "status", "metadata"] {
        let mut value = minimal();
        value.as_object_mut().unwrap().remove(field);
        assert!(
            serde_json::from_value::<TranscriptionData>(value).is_err(),
            "{field} should be required"
        );
    }
}
