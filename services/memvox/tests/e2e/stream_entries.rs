//! What the bus holds, read from Redis itself: after a call is processed and two fail on a
//! provider that quotes what it was sent (one in each worker), no stream entry or dead letter (any field) holds the
//! caller's number, a guest id anyone could compute from it, transcript text or the provider's
//! words — ids only.

use memvox_bus::{EVENTS, MEMORIES};
use wiremock::{Request, Respond, ResponseTemplate};

use crate::support;
use crate::support::{Deployment, Pipeline, accept, call_payload};

/// The fixture call's caller.
const NUMBER: &str = "+14155550199";

/// A word only the failing call's caller says.
const SECRET_WORD: &str = "zanzibar";

/// An OpenAI-compatible embeddings endpoint that embeds every text, except that it rejects a
/// request holding [`SECRET_WORD`] with a message quoting the request, as real servers do.
struct QuotingEmbeddings {
    dimension: usize,
}

impl Respond for QuotingEmbeddings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let inputs: Vec<String> = match &body["input"] {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().unwrap_or_default().to_owned())
                .collect(),
            other => vec![other.as_str().unwrap_or_default().to_owned()],
        };
        if inputs.iter().any(|i| i.contains(SECRET_WORD)) {
            return ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": {
                "message": format!("Invalid input: '{}'", inputs.join(" | ")),
                "type": "invalid_request_error", "param": "input", "code": null
            }}));
        }
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let mut vector = vec![0.1_f32; self.dimension];
                vector[index % self.dimension] += text.len() as f32;
                serde_json::json!({"object": "embedding", "index": index, "embedding": vector})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "object": "list", "data": data, "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 1, "total_tokens": 1}
        }))
    }
}

#[tokio::test]
async fn stream_entries_and_dead_letters_carry_ids_only() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(QuotingEmbeddings { dimension: 8 })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(Deployment::Distributed, dir.path(), |config| {
        config.embedder.provider = memvox_ai::EmbedderProvider::OpenAi;
        config.embedder.openai.base_url = format!("{}/v1", server.uri());
        config.embedder.openai.api_key = Some(memvox_config::Secret::from("test-key"));
        config.embedder.openai.dimensions = Some(8);
        config.embedder.openai.max_retries = 0;
        config.shared.bus.max_attempts = 1;
    })
    .await;
    let pipeline = Pipeline::new(&app);
    accept(&app, "conv_ok", call_payload("conv_ok", None)).await;
    let says = format!("My locker code is {SECRET_WORD} and my number is {NUMBER}.");
    // The extraction worker embeds the call's summary: this one fails there.
    let mut in_summary: serde_json::Value =
        serde_json::from_str(&call_payload("conv_summary", Some(&says))).unwrap();
    in_summary["data"]["analysis"]["transcript_summary"] = says.clone().into();
    accept(&app, "conv_summary", in_summary.to_string()).await;
    // The embedding worker embeds the call's episodes: this one fails there.
    accept(&app, "conv_turns", call_payload("conv_turns", Some(&says))).await;
    pipeline.run().await;

    let events = app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    let memories = app.bus.list_dead_letters(MEMORIES, None, 10).await.unwrap();
    assert_eq!(events.len(), 1, "the extraction worker gave up on one call");
    assert!(
        !memories.is_empty(),
        "the embedding worker gave up: {memories:?}"
    );
    let letters: Vec<_> = events.iter().chain(&memories).collect();
    for letter in &letters {
        assert!(
            letter.reason.contains("rejected the request (HTTP 400)"),
            "the reason names the failure: {}",
            letter.reason
        );
    }
    let call = app.store.get_call("conv_ok").await.unwrap().unwrap();
    let user = call.conversation.user_id.unwrap();

    let prefix = &app.config.shared.bus.key_prefix;
    let everything = support::redis_contents(&app.config.shared.bus.redis_url, prefix).await;
    assert!(
        everything.iter().any(|value| value.contains("conv_ok")),
        "the streams were read: {everything:?}"
    );
    let plain_guest = memvox_core::guest_user_id(NUMBER);
    assert_ne!(user, plain_guest, "the guest id is keyed");
    for value in &everything {
        for needle in [
            &NUMBER[2..],
            SECRET_WORD,
            "locker",
            "pharmacy",
            "Invalid input",
            plain_guest.as_str(),
        ] {
            assert!(!value.contains(needle), "`{needle}` in Redis: {value}");
        }
    }
    for stream in [EVENTS, MEMORIES] {
        app.bus.purge_dead_letters(stream).await.unwrap();
        app.bus.delete_stream(stream).await.unwrap();
    }
}
