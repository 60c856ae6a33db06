//! A local fake of the ElevenLabs conversations API (wiremock) speaking the documented shapes
//! (`fixtures/elevenlabs/api_*.json`), and an importer of a test gateway pointed at it.

use std::sync::OnceLock;

use memvox_config::Secret;
use memvox_gateway::import::{ElevenLabsSettings, ImportMetrics, Importer, PollSettings};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Gateway, fixture};

/// The API key the importer sends.
pub const KEY: &str = "sk_test_import";
/// The list endpoint.
pub const LIST: &str = "/v1/convai/conversations";
/// The fixture conversation (the webhook fixture's call).
pub const FIXTURE_CALL: &str = "conv_5201kf3r7e9yq2m8vx4pn0td6h";
/// The other finished call of the page fixtures.
pub const OTHER_CALL: &str = "conv_3001kf3m9c4rd2v8kw6tz1yq5n";
/// The page fixtures' running, analysing and failed calls.
pub const RUNNING: [&str; 2] = [
    "conv_7301kf3vb2nq8r4m6xt0pw9c1e",
    "conv_6201kf3t4x8pm1q7rz5vn3bw0k",
];
/// The page fixtures' cursor.
pub const CURSOR: &str = "cur_8f2e1d7c0b9a";

/// The fake API.
pub struct FakeApi {
    /// The mock server.
    pub server: MockServer,
    /// The importers' metrics, registered on the first importer's gateway.
    metrics: OnceLock<ImportMetrics>,
}

impl FakeApi {
    /// A fake answering nothing yet.
    pub async fn start() -> Self {
        Self {
            server: MockServer::start().await,
            metrics: OnceLock::new(),
        }
    }

    /// Settings pointing at the fake, with short backoffs.
    pub fn settings(&self) -> ElevenLabsSettings {
        ElevenLabsSettings {
            api_key: Some(Secret::from(KEY)),
            api_url: self.server.uri(),
            max_attempts: 3,
            backoff_base_ms: 5,
            backoff_max_ms: 2_000,
            page_size: 3,
            ..ElevenLabsSettings::default()
        }
    }

    /// An importer of `gateway` with these settings (its metrics on the gateway's registry).
    pub fn importer(&self, gateway: &Gateway) -> Importer {
        let metrics = self
            .metrics
            .get_or_init(|| ImportMetrics::register(&gateway.registry).unwrap());
        Importer::new(gateway.state.clone(), &self.settings(), metrics.clone()).unwrap()
    }

    /// The first page fixture for a first page request, the second for its cursor.
    pub async fn serve_fixture_pages(&self) {
        self.serve_page(None, ok(fixture("api_conversations_page_1.json")), 1)
            .await;
        self.serve_page(
            Some(CURSOR),
            ok(fixture("api_conversations_page_2.json")),
            1,
        )
        .await;
    }

    /// Answers list requests with (`cursor`) or without one with `answer`, `times` times at
    /// most (later ones fall through to mocks mounted after).
    pub async fn serve_page(&self, cursor: Option<&str>, answer: ResponseTemplate, times: u64) {
        let list = Mock::given(method("GET")).and(path(LIST));
        let list = match cursor {
            Some(cursor) => list.and(query_param("cursor", cursor)),
            None => list.and(query_param_is_missing("cursor")),
        };
        list.respond_with(answer)
            .up_to_n_times(times)
            .mount(&self.server)
            .await;
    }

    /// Answers the details of `conversation_id` with `answer`, `times` times at most.
    pub async fn serve_details(&self, conversation_id: &str, answer: ResponseTemplate, times: u64) {
        Mock::given(method("GET"))
            .and(path(format!("{LIST}/{conversation_id}")))
            .respond_with(answer)
            .up_to_n_times(times)
            .mount(&self.server)
            .await;
    }

    /// The finished calls' details: the fixture's, and one made from it for the other call.
    pub async fn serve_finished_details(&self) {
        self.serve_details(
            FIXTURE_CALL,
            ok(fixture("api_conversation_details.json")),
            10,
        )
        .await;
        self.serve_details(
            OTHER_CALL,
            ok(details(OTHER_CALL, "done", 1_767_218_400)),
            10,
        )
        .await;
    }

    /// The paths (with queries) requested so far, in order.
    pub async fn requested(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| match r.url.query() {
                Some(query) => format!("{}?{query}", r.url.path()),
                None => r.url.path().to_owned(),
            })
            .collect()
    }

    /// How many details requests were made for `conversation_id`.
    pub async fn details_requests(&self, conversation_id: &str) -> usize {
        let wanted = format!("{LIST}/{conversation_id}");
        self.requested()
            .await
            .iter()
            .filter(|p| **p == wanted)
            .count()
    }
}

/// A 200 with a JSON body.
pub fn ok(body: impl Into<Vec<u8>>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into(), "application/json")
}

/// A page of `conversations` (`(id, status, start, duration)`), with `next` as its cursor.
pub fn page(conversations: &[(&str, &str, u64, u64)], next: Option<&str>) -> Vec<u8> {
    let conversations: Vec<Value> = conversations
        .iter()
        .map(|(id, status, start, duration)| {
            json!({
                "agent_id": "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
                "conversation_id": id,
                "start_time_unix_secs": start,
                "call_duration_secs": duration,
                "message_count": 4,
                "status": status,
                "call_successful": "success",
            })
        })
        .collect();
    json!({"conversations": conversations, "next_cursor": next, "has_more": next.is_some()})
        .to_string()
        .into_bytes()
}

/// The fixture details as another conversation's, of `status`, started at `start`.
pub fn details(conversation_id: &str, status: &str, start: u64) -> Vec<u8> {
    let mut data: Value =
        serde_json::from_slice(&fixture("api_conversation_details.json")).unwrap();
    data["conversation_id"] = json!(conversation_id);
    data["status"] = json!(status);
    data["metadata"]["start_time_unix_secs"] = json!(start);
    data.to_string().into_bytes()
}

/// Poll settings looking back a day, leaving calls of the last five minutes to their webhook.
pub fn poll_settings() -> PollSettings {
    PollSettings {
        enabled: true,
        interval_secs: 600,
        lookback_secs: 86_400,
        settle_secs: 300,
        agent_ids: vec!["agent_4701kf3qz8mrx2v9tn6bq0c5wd".into()],
    }
}
