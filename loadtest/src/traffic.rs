//! Realistic, correctly signed post-call webhooks.
//!
//! Each webhook is a `post_call_transcription` with a unique conversation id, an inbound Twilio
//! call from one of a pool of caller numbers (so callers recur, as real users do), a multi-turn
//! transcript with a tool call and its result, analysis, and initiation data with dynamic
//! variables — shaped like `fixtures/elevenlabs/post_call_transcription.json`, 3–6 KB each.
//! Bodies are signed with `memvox_elevenlabs::sign` at generation time, exactly as ElevenLabs
//! signs them; runs are short, far inside the 30-minute tolerance.

use axum::body::Bytes;
use memvox_elevenlabs::sign;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

/// One webhook ready to send.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The exact body.
    pub body: Bytes,
    /// The `ElevenLabs-Signature` header value.
    pub signature: String,
}

const USER_LINES: &[&str] = &[
    "Hi, it's me again, I called last week about my order.",
    "My daughter Maya starts school in Lisbon in September.",
    "I'm allergic to peanuts, so please keep that in mind.",
    "Can you move my appointment to Thursday afternoon?",
    "I prefer email over phone calls, honestly.",
    "We just adopted a beagle called Biscuit.",
    "The last delivery came two days late and the box was damaged.",
    "I'm training for the Berlin marathon next spring.",
    "Yes, that's the right address, 14 Harbour Street.",
    "Thanks, that's all for today.",
];

const AGENT_LINES: &[&str] = &[
    "Welcome back! How can I help you today?",
    "I've noted that. Is there anything else I should know?",
    "Let me check your account for a moment.",
    "Done — you'll get a confirmation by email shortly.",
    "I'm sorry about that; I've issued a credit to your account.",
    "That sounds exciting, good luck with it!",
];

/// Generates webhooks from a seeded random source (runs are reproducible).
pub struct Generator {
    rng: StdRng,
    secret: String,
    callers: Vec<String>,
    run: u64,
    sequence: u64,
}

impl Generator {
    /// A generator signing with `secret`, drawing callers from `callers` numbers.
    pub fn new(secret: &str, callers: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let callers = (0..callers.max(1))
            .map(|_| format!("+1415555{:04}", rng.random_range(0..10_000)))
            .collect();
        Self {
            run: rng.random(),
            rng,
            secret: secret.to_owned(),
            callers,
            sequence: 0,
        }
    }

    /// A generator whose calls all come from `caller`.
    pub fn for_caller(secret: &str, caller: &str, seed: u64) -> Self {
        Self {
            callers: vec![caller.to_owned()],
            ..Self::new(secret, 1, seed)
        }
    }

    /// The next webhook, signed at `now_unix_secs`.
    pub fn next(&mut self, now_unix_secs: u64) -> Webhook {
        let conversation_id = self.next_conversation_id();
        let body =
            serde_json::to_vec(&self.envelope(&conversation_id, now_unix_secs)).unwrap_or_default();
        let signature = sign(self.secret.as_bytes(), now_unix_secs, &body);
        Webhook {
            body: Bytes::from(body),
            signature,
        }
    }

    /// A fresh conversation id; all have the same length.
    fn next_conversation_id(&mut self) -> String {
        self.sequence += 1;
        format!("conv_{:016x}{:08x}", self.run, self.sequence)
    }

    /// A stamper of `variants` bodies rendered now, which then makes webhooks as unique as
    /// [`Generator::next`]'s for the cost of a copy and a signature.
    pub fn stamper(mut self, variants: usize, now_unix_secs: u64) -> Stamper {
        let templates = (0..variants.max(1))
            .map(|_| {
                let conversation_id = self.next_conversation_id();
                let body = serde_json::to_vec(&self.envelope(&conversation_id, now_unix_secs))
                    .unwrap_or_default();
                let at = body
                    .windows(conversation_id.len())
                    .enumerate()
                    .filter(|(_, window)| *window == conversation_id.as_bytes())
                    .map(|(offset, _)| offset)
                    .collect();
                Template { body, at }
            })
            .collect();
        Stamper {
            generator: self,
            templates,
            turn: 0,
        }
    }

    fn envelope(&mut self, conversation_id: &str, now: u64) -> Value {
        let caller = self
            .callers
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_default();
        let turns = self.rng.random_range(6..=16);
        let duration = turns * 9;
        let start = now.saturating_sub(duration + 5);
        json!({
            "type": "post_call_transcription",
            "event_timestamp": now,
            "data": {
                "agent_id": "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
                "agent_name": "Front desk",
                "conversation_id": conversation_id,
                "status": "done",
                "user_id": caller,
                "transcript": self.transcript(turns),
                "metadata": {
                    "start_time_unix_secs": start,
                    "accepted_time_unix_secs": start,
                    "call_duration_secs": duration,
                    "cost": 420,
                    "termination_reason": "Call ended by remote party",
                    "main_language": "en",
                    "conversation_initiation_source": "twilio",
                    "phone_call": {
                        "type": "twilio", "direction": "inbound",
                        "phone_number_id": "phnum_0801kf3qz8", "agent_number": "+14155550100",
                        "external_number": caller, "call_result": "answered",
                        "call_sid": format!("CA{:032x}", self.rng.random::<u128>()),
                    },
                },
                "analysis": {
                    "call_successful": "success",
                    "transcript_summary": "The caller updated personal details and asked for help with an order.",
                    "call_summary_title": "Order follow-up",
                    "evaluation_criteria_results": {},
                    "data_collection_results": {},
                },
                "conversation_initiation_client_data": {
                    "user_id": caller,
                    "dynamic_variables": {
                        "memory_user_id": caller,
                        "system__caller_id": caller,
                        "system__conversation_id": conversation_id,
                    },
                },
                "has_audio": true, "has_user_audio": true, "has_response_audio": true,
                "user_message_count": turns / 2, "agent_message_count": turns - turns / 2,
            },
        })
    }

    fn transcript(&mut self, turns: u64) -> Vec<Value> {
        let mut transcript = Vec::new();
        for index in 0..turns {
            let time_in_call_secs = index * 9;
            if index == 1 {
                let request_id = format!("memory_query_{:032x}", self.rng.random::<u128>());
                transcript.push(json!({
                    "role": "agent", "message": null, "time_in_call_secs": time_in_call_secs,
                    "tool_calls": [{"type": "webhook", "request_id": request_id, "tool_name": "memory_query",
                        "params_as_json": "{\"query\":\"recent orders\"}", "tool_has_been_called": true}],
                }));
                continue;
            }
            let (role, lines) = if index % 2 == 0 {
                ("user", USER_LINES)
            } else {
                ("agent", AGENT_LINES)
            };
            let message = lines.choose(&mut self.rng).copied().unwrap_or_default();
            transcript.push(json!({
                "role": role, "message": message, "time_in_call_secs": time_in_call_secs,
                "interrupted": false, "source_medium": "audio",
            }));
        }
        transcript
    }
}

/// Webhooks re-stamped from a few rendered bodies (see [`Generator::stamper`]): each gets a
/// fresh conversation id wherever its template has one, and its own signature. A closed loop
/// sends them so that the sender spends its CPU on sending, not on rendering JSON.
pub struct Stamper {
    generator: Generator,
    templates: Vec<Template>,
    turn: usize,
}

/// A rendered body and where its conversation id stands in it.
struct Template {
    body: Vec<u8>,
    at: Vec<usize>,
}

impl Stamper {
    /// The next webhook, signed at `now_unix_secs`.
    pub fn next(&mut self, now_unix_secs: u64) -> Webhook {
        let conversation_id = self.generator.next_conversation_id();
        let template = &self.templates[self.turn % self.templates.len()];
        self.turn += 1;
        let mut body = template.body.clone();
        for &offset in &template.at {
            body[offset..offset + conversation_id.len()]
                .copy_from_slice(conversation_id.as_bytes());
        }
        let signature = sign(self.generator.secret.as_bytes(), now_unix_secs, &body);
        Webhook {
            body: Bytes::from(body),
            signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memvox_elevenlabs::{SignatureVerifier, WebhookEvent};

    #[test]
    fn webhooks_are_valid_signed_and_unique() {
        let mut generator = Generator::new("wsec_load", 50, 7);
        let first = generator.next(1_767_225_645);
        let second = generator.next(1_767_225_645);
        let verifier = SignatureVerifier::new(["wsec_load"]).unwrap();
        assert!(
            verifier
                .verify(Some(first.signature.as_bytes()), &first.body, 1_767_225_650)
                .is_ok()
        );
        let a = WebhookEvent::parse(&first.body).unwrap();
        let b = WebhookEvent::parse(&second.body).unwrap();
        assert_ne!(a.conversation_id(), b.conversation_id());
        assert!(first.body.len() > 2_000, "{} bytes", first.body.len());
    }

    #[test]
    fn stamped_webhooks_are_valid_signed_and_unique_wherever_the_id_appears() {
        let mut stamper = Generator::new("wsec_load", 50, 7).stamper(2, 1_767_225_645);
        let verifier = SignatureVerifier::new(["wsec_load"]).unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5 {
            let webhook = stamper.next(1_767_225_700);
            assert!(
                verifier
                    .verify(
                        Some(webhook.signature.as_bytes()),
                        &webhook.body,
                        1_767_225_705
                    )
                    .is_ok()
            );
            let event = WebhookEvent::parse(&webhook.body).unwrap();
            let id = event.conversation_id().unwrap().to_owned();
            let body: Value = serde_json::from_slice(&webhook.body).unwrap();
            let dynamic = &body["data"]["conversation_initiation_client_data"]["dynamic_variables"];
            assert_eq!(dynamic["system__conversation_id"], id.as_str());
            assert!(seen.insert(id), "conversation ids repeat");
        }
    }
}
