//! Targets `envelope_head` and `webhook_event`: a post-call webhook body as the gateway reads it
//! before acknowledging (`EnvelopeHead::parse`) and as the extraction worker reads it in full
//! (`WebhookEvent::parse`), with the accessors the worker then calls.
//!
//! Input: the raw body. Checks: a head's kind is its `type`'s and a documented kind has a
//! conversation id; a body the full parse accepts, the head accepts with the same type,
//! timestamp and conversation id; an accepted event serialises to a body that parses to the
//! same event (parse → serialise → parse is stable; floats within an ulp or two, which is
//! what serde_json promises without `float_roundtrip`).

use memvox_elevenlabs::{EnvelopeHead, EventKind, EventPayload, WebhookEvent};

use crate::same_json;

/// Our number, for the direction-aware caller lookup.
const OWN_NUMBER: &str = "+14155550142";

/// Fuzzes the gateway's envelope head, and its agreement with the full parse.
pub fn envelope_head(data: &[u8]) {
    let head = EnvelopeHead::parse(data);
    if let Ok(head) = &head {
        assert_eq!(head.kind, EventKind::from_type(&head.event_type));
        let undocumented = head.kind == EventKind::Unknown || head.kind.is_unredacted();
        let id = head.conversation_id.as_deref();
        assert!(id != Some(""), "an empty conversation id read as present");
        assert!(
            undocumented || id.is_some(),
            "documented kind without an id"
        );
    }
    let Ok(event) = WebhookEvent::parse(data) else {
        return;
    };
    let head =
        head.unwrap_or_else(|error| panic!("the worker's parse accepts, the head not: {error}"));
    assert_eq!(head.event_type, event.event_type());
    assert_eq!(head.event_timestamp, event.event_timestamp);
    if let Some(id) = event.conversation_id() {
        assert_eq!(head.conversation_id.as_deref(), Some(id));
    }
}

/// Fuzzes the worker's full parse: accessors, kind consistency and the serialisation round trip.
pub fn webhook_event(data: &[u8]) {
    let Ok(event) = WebhookEvent::parse(data) else {
        return;
    };
    let kind = event.kind();
    assert_eq!(kind.is_unredacted(), event.unredacted);
    if kind != EventKind::Unknown {
        assert_eq!(EventKind::from_type(event.event_type()), kind);
        assert!(event.conversation_id().is_some_and(|id| !id.is_empty()));
    }
    if let EventPayload::Transcription(data) = &event.payload {
        for message in data.messages() {
            assert!(!message.text.trim().is_empty(), "a blank message");
            assert!(message.turn_index < data.transcript.len());
        }
        for (_, call) in data.tool_calls() {
            let _ = call.params();
            if let Some(result) = data.tool_result(&call.request_id) {
                let _ = result.result_json();
            }
        }
        let _ = (data.summary(), data.action_items(), data.user_id());
        let _ = data.remote_number(|number| number == OWN_NUMBER);
        let _ = data.end_time_unix_secs();
    }

    let body = serde_json::to_vec(&event).unwrap_or_else(|error| panic!("serialise: {error}"));
    let again = WebhookEvent::parse(&body)
        .unwrap_or_else(|error| panic!("a serialised event does not parse: {error}"));
    assert_eq!(again.event_timestamp, event.event_timestamp);
    assert_eq!(again.unredacted, event.unredacted);
    assert_eq!(again.event_type(), event.event_type());
    if let (EventPayload::Unknown { data: a, .. }, EventPayload::Unknown { data: b, .. }) =
        (&event.payload, &again.payload)
    {
        // Kept raw, and may hold strings that do not decode: compared as written.
        assert_eq!(a.as_ref().map(|a| a.get()), b.as_ref().map(|b| b.get()));
        return;
    }
    let (before, after) = (json(&event), json(&again));
    assert!(
        same_json(&before, &after),
        "parse → serialise → parse changed the event: {event:?} → {again:?}"
    );
}

fn json(event: &WebhookEvent) -> serde_json::Value {
    serde_json::to_value(event).unwrap_or_else(|error| panic!("serialise: {error}"))
}
