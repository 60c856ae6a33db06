//! Envelope tests on inline bodies; the fixture files are covered in `tests/fixtures.rs`.

use super::*;

const AUDIO: &[u8] = br#"{"type":"post_call_audio","event_timestamp":1767225647,"data":{"agent_id":"agent_1","conversation_id":"conv_1","full_audio":"SUQz"}}"#;

#[test]
fn full_parse_reports_the_data_field_path() {
    let body = br#"{"type":"post_call_transcription","event_timestamp":5,"data":{
        "agent_id":"a","conversation_id":"c","status":"done",
        "metadata":{"start_time_unix_secs":1,"call_duration_secs":2},
        "transcript":[{"role":"user","message":"hi","time_in_call_secs":0},
                      {"role":"agent","message":"yo","time_in_call_secs":"soon"}]}}"#;
    let error = WebhookEvent::parse(body).unwrap_err();
    assert_eq!(error.path(), "data.transcript[1].time_in_call_secs");
}

#[test]
fn full_parse_types_known_events_and_keeps_unknown_data_raw() {
    let audio = WebhookEvent::parse(AUDIO).unwrap();
    assert_eq!(audio.kind(), EventKind::Audio);
    assert_eq!(audio.event_type(), "post_call_audio");
    assert_eq!(audio.conversation_id(), Some("conv_1"));
    assert!(matches!(&audio.payload, EventPayload::Audio(data) if data.full_audio == "SUQz"));

    let body =
        br#"{"type":"answering_machine_detection","event_timestamp":7,"data":{"a": [1, 2]}}"#;
    let unknown = WebhookEvent::parse(body).unwrap();
    assert_eq!(unknown.kind(), EventKind::Unknown);
    assert_eq!(unknown.event_type(), "answering_machine_detection");
    assert_eq!(unknown.conversation_id(), None);
    match &unknown.payload {
        EventPayload::Unknown {
            data: Some(data), ..
        } => assert_eq!(data.get(), r#"{"a": [1, 2]}"#),
        other => panic!("expected unknown with data, got {other:?}"),
    }
}

#[test]
fn known_type_with_empty_conversation_id_is_an_error() {
    let body = br#"{"type":"post_call_audio","event_timestamp":7,"data":{"agent_id":"a","conversation_id":"","full_audio":""}}"#;
    let error = WebhookEvent::parse(body).unwrap_err();
    assert_eq!(error.path(), "data.conversation_id");
    assert!(error.to_string().contains("non-empty"), "{error}");
}

#[test]
fn known_type_with_null_data_is_an_error() {
    let body = br#"{"type":"post_call_audio","event_timestamp":7,"data":null}"#;
    assert!(WebhookEvent::parse(body).is_err());
}

#[test]
fn serialising_gives_back_an_equivalent_envelope() {
    let event = WebhookEvent::parse(AUDIO).unwrap();
    let json = serde_json::to_vec(&event).unwrap();
    let original: serde_json::Value = serde_json::from_slice(AUDIO).unwrap();
    let again: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(original, again);
}

#[test]
fn kinds_round_trip_through_their_wire_type() {
    for kind in [
        EventKind::Transcription,
        EventKind::Audio,
        EventKind::InitiationFailure,
        EventKind::UnredactedTranscription,
        EventKind::UnredactedAudio,
    ] {
        let wire = kind.wire_type().unwrap();
        assert_eq!(EventKind::from_type(wire), kind);
    }
    assert_eq!(EventKind::Unknown.wire_type(), None);
    assert_eq!(EventKind::from_type("transcript"), EventKind::Unknown);
}

#[test]
fn unredacted_variants_read_as_their_redacted_counterparts_and_keep_their_type() {
    let body = br#"{"type":"unredacted_audio","event_timestamp":7,"data":{"agent_id":"a","conversation_id":"conv_1","full_audio":"SUQz"}}"#;
    let event = WebhookEvent::parse(body).unwrap();
    assert_eq!(event.kind(), EventKind::UnredactedAudio);
    assert_eq!(event.kind().redacted(), EventKind::Audio);
    assert!(event.kind().is_unredacted() && !EventKind::Audio.is_unredacted());
    assert!(matches!(&event.payload, EventPayload::Audio(data) if data.full_audio == "SUQz"));
    let again = WebhookEvent::parse(serde_json::to_string(&event).unwrap().as_bytes()).unwrap();
    assert_eq!(
        again.event_type(),
        "unredacted_audio",
        "serialised with its own type"
    );

    let body = br#"{"type":"unredacted_transcript","event_timestamp":5,"data":{
        "agent_id":"a","conversation_id":"c","status":"done",
        "metadata":{"start_time_unix_secs":1,"call_duration_secs":2},
        "transcript":[{"role":"user","message":"my card is 4111 1111 1111 1111","time_in_call_secs":0}]}}"#;
    let event = WebhookEvent::parse(body).unwrap();
    assert_eq!(event.kind(), EventKind::UnredactedTranscription);
    assert!(
        matches!(&event.payload, EventPayload::Transcription(data) if data.conversation_id == "c")
    );
}
