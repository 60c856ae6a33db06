//! Head parsing tests on inline bodies; the fixture files are covered in `tests/fixtures.rs`.

use super::*;

const AUDIO: &[u8] = br#"{"type":"post_call_audio","event_timestamp":1767225647,"data":{"agent_id":"agent_1","conversation_id":"conv_1","full_audio":"SUQz"}}"#;

#[test]
fn head_reads_ids_and_borrows_them_from_the_body() {
    let head = EnvelopeHead::parse(AUDIO).unwrap();
    assert_eq!(head.kind, EventKind::Audio);
    assert_eq!(head.event_timestamp, 1_767_225_647);
    assert_eq!(head.conversation_id.as_deref(), Some("conv_1"));
    assert_eq!(head.agent_id.as_deref(), Some("agent_1"));
    assert!(matches!(head.event_type, Cow::Borrowed(_)));
    assert!(matches!(head.conversation_id, Some(Cow::Borrowed(_))));
}

#[test]
fn head_unescapes_ids_with_escapes() {
    let body = br#"{"type":"post_call_audio","event_timestamp":1,"data":{"conversation_id":"conv_\u0031"}}"#;
    let head = EnvelopeHead::parse(body).unwrap();
    assert_eq!(head.conversation_id.as_deref(), Some("conv_1"));
}

#[test]
fn head_accepts_a_numeric_string_timestamp() {
    let body = br#"{"data":{"conversation_id":"c"},"event_timestamp":"1767225647","type":"post_call_transcription"}"#;
    let head = EnvelopeHead::parse(body).unwrap();
    assert_eq!(head.event_timestamp, 1_767_225_647);
    assert_eq!(head.kind, EventKind::Transcription);
}

#[test]
fn unknown_types_parse_with_or_without_ids() {
    let bare = br#"{"type":"answering_machine_detection","event_timestamp":5}"#;
    let head = EnvelopeHead::parse(bare).unwrap();
    assert_eq!(head.kind, EventKind::Unknown);
    assert_eq!(head.event_type, "answering_machine_detection");
    assert_eq!(head.conversation_id, None);

    let with_id =
        br#"{"type":"voice_removed","event_timestamp":5,"data":{"conversation_id":"c9","x":[1]}}"#;
    assert_eq!(
        EnvelopeHead::parse(with_id)
            .unwrap()
            .conversation_id
            .as_deref(),
        Some("c9")
    );
}

#[test]
fn known_types_need_a_conversation_id() {
    let body = br#"{"type":"post_call_transcription","event_timestamp":5,"data":{"agent_id":"a"}}"#;
    let error = EnvelopeHead::parse(body).unwrap_err();
    assert_eq!(error.path(), "data.conversation_id");
    let no_data = br#"{"type":"post_call_audio","event_timestamp":5}"#;
    assert_eq!(
        EnvelopeHead::parse(no_data).unwrap_err().path(),
        "data.conversation_id"
    );
}

#[test]
fn envelope_field_errors_carry_their_path() {
    let no_type = br#"{"event_timestamp":5,"data":{}}"#;
    assert_eq!(EnvelopeHead::parse(no_type).unwrap_err().path(), ".");
    let bad_ts =
        br#"{"type":"post_call_audio","event_timestamp":-5,"data":{"conversation_id":"c"}}"#;
    assert_eq!(
        EnvelopeHead::parse(bad_ts).unwrap_err().path(),
        "event_timestamp"
    );
    assert!(EnvelopeHead::parse(b"{\"type\":").unwrap_err().is_syntax());
}

#[test]
fn unknown_types_with_odd_data_are_still_readable() {
    for data in [
        r#""text""#,
        "[1,{}]",
        "7",
        "true",
        r#"{"conversation_id":42,"agent_id":{"x":[1]}}"#,
    ] {
        let body = format!(r#"{{"type":"mystery","event_timestamp":1,"data":{data}}}"#);
        let head = EnvelopeHead::parse(body.as_bytes()).unwrap();
        assert_eq!(head.kind, EventKind::Unknown, "{data}");
        assert_eq!(head.conversation_id, None, "{data}");
        assert_eq!(head.agent_id, None, "{data}");
    }
}

#[test]
fn known_types_reject_non_string_or_empty_conversation_ids() {
    for id in ["42", r#""""#, "null", "[]"] {
        let body = format!(
            r#"{{"type":"post_call_audio","event_timestamp":1,"data":{{"conversation_id":{id}}}}}"#
        );
        let error = EnvelopeHead::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "data.conversation_id", "{id}");
    }
}

#[test]
fn unredacted_variants_without_a_conversation_id_are_still_readable() {
    for event_type in ["unredacted_transcript", "unredacted_audio"] {
        let body = format!(r#"{{"type":"{event_type}","event_timestamp":1,"data":{{}}}}"#);
        let head = EnvelopeHead::parse(body.as_bytes()).unwrap();
        assert!(head.kind.is_unredacted(), "{event_type}");
        assert_eq!(head.conversation_id, None);
    }
}

#[test]
fn undocumented_types_with_undecodable_strings_in_data_are_still_readable() {
    // Found by the `envelope_head` fuzz target: an escaped lone surrogate is valid JSON that
    // does not decode. The workers keep an unknown type's `data` raw and accept the body, so
    // the gateway must acknowledge it too (a 4xx counts towards disabling the webhook).
    let data = r#""data":{"agent_id":"agent_\ud8003q","conversation_id":"conv_1"}"#;
    let unknown = format!(r#"{{"type":"cald_initiation_failure","event_timestamp":7,{data}}}"#);
    let head = EnvelopeHead::parse(unknown.as_bytes()).unwrap();
    assert_eq!(head.kind, EventKind::Unknown);
    assert_eq!(head.event_type, "cald_initiation_failure");
    assert_eq!(head.event_timestamp, 7);
    assert_eq!((head.conversation_id, head.agent_id), (None, None));
    assert!(crate::WebhookEvent::parse(unknown.as_bytes()).is_ok());

    // A documented type with that `data` is refused by both, as before.
    let known = format!(r#"{{"type":"call_initiation_failure","event_timestamp":7,{data}}}"#);
    assert!(EnvelopeHead::parse(known.as_bytes()).is_err());
    assert!(crate::WebhookEvent::parse(known.as_bytes()).is_err());
}
