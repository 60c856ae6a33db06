//! The seed corpora, built from `fixtures/elevenlabs/`: every signature vector and every
//! post-call fixture (signed) for `signature`; the post-call fixtures for `envelope_head` and
//! `webhook_event`; the initiation and tool request fixtures (and variants that reach the
//! outbound and identity-token paths) for `init_request` and `tool_request`; the transcription
//! fixture's call in the extractor's line format; its caller turns and one sentence per kind of
//! personal data for `redaction`.
//!
//! `examples/seed_corpus.rs` writes them to `fuzz/corpus/<target>/seed-<name>`; a test checks
//! the committed files are current.

use std::fmt::Write as _;
use std::path::Path;

use memvox_elevenlabs::post_call::Role;
use memvox_elevenlabs::{EventPayload, WebhookEvent, sign};
use serde_json::{Value, json};

use crate::signature::SECRETS;
use crate::{NOW_UNIX_SECS, requests::KEYS};

/// One seed input of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target (a name of [`crate::TARGETS`]).
    pub target: &'static str,
    /// The file name under `fuzz/corpus/<target>/`.
    pub file: String,
    /// The input.
    pub bytes: Vec<u8>,
}

/// Post-call webhook fixtures.
const POST_CALL: [&str; 6] = [
    "post_call_transcription",
    "post_call_audio",
    "call_initiation_failure",
    "call_initiation_failure_sip",
    "unredacted_transcript",
    "unredacted_audio",
];

/// One sentence per kind of personal data, as speech-to-text writes it.
const SPOKEN_PII: [(&str, &str); 8] = [
    (
        "card",
        "Sure, my card is 4111 1111 1111 1111, expiry oh four twenty-eight.",
    ),
    ("ssn", "My social is 123-45-6789 and the order is 55012."),
    ("iban", "Send it to GB82 WEST 1234 5698 7654 32 please."),
    (
        "account",
        "My account number is 12345678, sort code 40-47-84.",
    ),
    ("email", "Email me at dana.r@example.com tomorrow."),
    ("phone", "Call me back on (415) 555-0199 after 5."),
    ("address", "I moved to 742 Evergreen Terrace, Springfield."),
    ("birth", "I was born on March 3, 1984, four one one one."),
];

/// Short calls in the extractor's line format: each reaches other rules than the fixture's.
const SHORT_CALLS: [(&str, &str); 3] = [
    (
        "facts",
        "U:I'm allergic to peanuts and my daughter's name is Ava.\nA:Noted.\nU:Actually, I moved to Denver last month.\n",
    ),
    (
        "preferences",
        "~60\n@1767225600000\nU:I prefer texts over calls, and I don't like mornings.\nA:I've booked you for Tuesday at 3.\nE:Prefers calls\n",
    ),
    (
        "questions",
        "U:Could you remind me what I said last time?\nT:\nA:You said you work at Acme.\nS:Caller asked about a past call.\nI:Call back on Friday\nO:failure\n",
    ),
];

/// Every seed, built from the fixtures under `fixtures` (`fixtures/elevenlabs`).
///
/// # Errors
/// A fixture that cannot be read or is not the JSON it should be, as a message.
pub fn seeds(fixtures: &Path) -> Result<Vec<Seed>, String> {
    let read = |name: &str| {
        std::fs::read(fixtures.join(format!("{name}.json"))).map_err(|e| format!("{name}: {e}"))
    };
    let json = |name: &str| -> Result<Value, String> {
        serde_json::from_slice(&read(name)?).map_err(|e| format!("{name}: {e}"))
    };
    let mut seeds = Vec::new();
    let mut add = |target, file: &str, bytes: Vec<u8>| {
        seeds.push(Seed {
            target,
            file: format!("seed-{file}"),
            bytes,
        });
    };

    let vectors = json("signature_vectors")?;
    for vector in vectors["vectors"].as_array().into_iter().flatten() {
        let text = |key: &str| vector[key].as_str().unwrap_or_default().to_owned();
        add(
            "signature",
            &text("id"),
            format!("{}\n{}", text("header"), text("body")).into_bytes(),
        );
    }
    for name in POST_CALL {
        let body = read(name)?;
        let header = sign(SECRETS[0].as_bytes(), NOW_UNIX_SECS - 60, &body);
        let mut signed = format!("{header}\n").into_bytes();
        signed.extend_from_slice(&body);
        add("signature", name, signed);
        add("envelope_head", name, body.clone());
        add("webhook_event", name, body);
    }

    let init = json("conversation_init_request")?;
    add(
        "init_request",
        "conversation_init_request",
        read("conversation_init_request")?,
    );
    let mut outbound = init.clone();
    outbound["caller_id"] = json!("+14155550142");
    outbound["called_number"] = json!("+14155550199");
    outbound["sip_headers"] = json!({"X-Call": "a", "n": [1, 2.5, null, true]});
    add("init_request", "outbound_sip", to_bytes(&outbound));

    let tool = json("memory_query_tool_request")?["body"].clone();
    add("tool_request", "memory_query_tool_request", to_bytes(&tool));
    let mut with_token = tool.clone();
    let agent = init["agent_id"].as_str().unwrap_or_default();
    let conversation = tool["conversation_id"].as_str();
    let token = KEYS.issue("usr_fuzz", agent, conversation, NOW_UNIX_SECS);
    with_token["user_id"] = json!(token);
    with_token["agent_id"] = json!(agent);
    with_token["sectors"] = json!(["semantic", "episodic"]);
    add("tool_request", "identity_token", to_bytes(&with_token));

    let transcription = read("post_call_transcription")?;
    let event = WebhookEvent::parse(&transcription).map_err(|e| e.to_string())?;
    let EventPayload::Transcription(data) = &event.payload else {
        return Err("post_call_transcription is not a transcription".to_owned());
    };
    let mut call = format!("@{}\n", data.metadata.start_time_unix_secs * 1000);
    for (index, turn) in data.transcript.iter().enumerate() {
        let (prefix, text) = match (&turn.role, turn.text()) {
            (_, None) => ("T:", ""),
            (Role::User, Some(text)) => ("U:", text),
            (_, Some(text)) => ("A:", text),
        };
        let _ = writeln!(call, "{prefix}{text}");
        if let (Role::User, Some(text)) = (&turn.role, turn.text()) {
            add(
                "redaction",
                &format!("turn-{index}"),
                text.as_bytes().to_vec(),
            );
        }
    }
    for line in data.summary().map(|s| format!("S:{s}")).into_iter().chain(
        data.action_items()
            .into_iter()
            .map(|item| format!("I:{item}")),
    ) {
        let _ = writeln!(call, "{line}");
    }
    call.push_str("E:Prefers the pharmacy on Main Street\nO:success\n@1767139200000\n~-480\n");
    add("extractor", "post_call_transcription", call.into_bytes());
    for (name, call) in SHORT_CALLS {
        add("extractor", name, call.as_bytes().to_vec());
    }
    for (name, sentence) in SPOKEN_PII {
        add("redaction", name, sentence.as_bytes().to_vec());
    }
    Ok(seeds)
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}
