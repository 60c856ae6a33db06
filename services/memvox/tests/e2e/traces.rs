//! Traces end to end on both deployments (SQLite + in-process bus, PostgreSQL + Redis
//! Streams): one post-call webhook through the real gateway, the events stream, the extraction
//! worker, the memories stream and the embedding worker yields one trace, whose spans hang
//! from the webhook's request across both hops of the bus down to `memories_queryable`; and no
//! span attribute carries the caller's number, user id, conversation id or words.
//!
//! Spans are captured with the SDK's in-memory exporter behind the production layer
//! (`memvox_telemetry::trace::capture`), on the test's current-thread runtime.

use std::collections::HashMap;

use memvox_config::Secret;
use memvox_telemetry::trace::capture::{Captured, capture};
use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::SpanData;

use crate::support::{self, Deployment, Pipeline, serve};

const SECRET: &str = "wsec_trace_test";
const USER: &str = "mem_usr_trace_7d1";
const NUMBER: &str = "+14155550142";
const CONVERSATION: &str = "conv_trace_9f3a";
const WORDS: &str = "My sister Marguerite keeps bees in Ottawa";

/// The fixture call from `NUMBER`, with `WORDS` in the caller's turn.
fn payload() -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&support::call_payload(CONVERSATION, Some(WORDS))).unwrap();
    value["data"]["metadata"]["phone_call"]["external_number"] = NUMBER.into();
    value["data"]["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] =
        NUMBER.into();
    value.to_string()
}

/// The span named `name`; fails when there is not exactly one.
fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "spans named {name}: {:?}", names(spans));
    found[0]
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_ref()).collect()
}

/// The names of `span` and its ancestors, up to the root this trace holds.
fn ancestry<'a>(spans: &'a [SpanData], span: &'a SpanData) -> Vec<&'a str> {
    let by_id: HashMap<SpanId, &SpanData> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut chain = vec![span.name.as_ref()];
    let mut current = span;
    while let Some(parent) = by_id.get(&current.parent_span_id) {
        chain.push(parent.name.as_ref());
        current = parent;
    }
    chain
}

/// Spans that end last.
const LAST: [&str; 2] = ["memories_queryable", "http_request"];

/// Every span `captured` holds once those of [`LAST`] have ended, waiting up to five seconds.
/// On SQLite, sqlx's connection worker thread keeps the span current at a connection's last
/// statement until that connection's next statement, so a span that ran statements (the
/// extraction's) may end, and be exported, only later.
fn ended(captured: &Captured) -> Vec<SpanData> {
    for _ in 0..100 {
        let spans = captured.spans();
        if LAST
            .iter()
            .all(|name| spans.iter().any(|s| s.name == *name))
        {
            return spans;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    captured.spans()
}

/// Runs the call on a runtime of its own, then drops it (every task and pool with it) and
/// checks the spans.
fn one_call_is_one_trace(deployment: Deployment) {
    let captured = capture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let held = matches!(deployment, Deployment::Embedded);
    runtime.block_on(Box::pin(one_call(deployment)));
    drop(runtime);
    check(&ended(&captured), held);
}

/// One post-call webhook through the gateway and both workers.
async fn one_call(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(deployment, dir.path(), |config| {
        config.gateway.webhook_secrets = vec![Secret::from(SECRET)];
        config.gateway.rate_limit_per_second = 0;
    })
    .await;
    app.store.ensure_user(USER, 0).await.unwrap();
    app.store.bind_caller(NUMBER, USER, 0).await.unwrap();
    let gateway_state = app.gateway().unwrap();
    // The request span comes from the middleware every service's HTTP server wraps its routes in.
    let gateway = serve(memvox_telemetry::instrument(
        memvox_gateway::router(gateway_state.clone()),
        "gateway",
        memvox_telemetry::Metrics::new(),
    ))
    .await;
    let body = payload();
    let now = memvox_core::Clock::system().now_secs();
    let response = reqwest::Client::new()
        .post(format!("{gateway}/webhook/post-call"))
        .header("content-type", "application/json")
        .header(
            memvox_elevenlabs::SIGNATURE_HEADER,
            memvox_elevenlabs::sign(SECRET.as_bytes(), now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // On SQLite the delivery waits in the ingest file until the gateway's mover announces it.
    gateway_state.staged.drain().await.unwrap();
    Pipeline::new(&app).run().await;
    let memories = app
        .store
        .list_memories(
            USER,
            &memvox_store::MemoryFilter::default(),
            memvox_store::MemoryOrder::Newest,
            100,
        )
        .await
        .unwrap();
    assert!(!memories.is_empty(), "the call left no memories");
}

/// One trace from the request to `memories_queryable`, without caller data. `held` is true on
/// SQLite, where the extraction's or the embedding's span may not have ended yet (see
/// [`ended`]): their children then show where they hang.
fn check(spans: &[SpanData], held: bool) {
    let request = spans
        .iter()
        .find(|s| s.name == "http_request")
        .unwrap_or_else(|| panic!("no request span: {:?}", names(spans)));
    let trace = request.span_context.trace_id();
    for name in [
        "publish_event",
        "extractor",
        "commit_extractions",
        "embedder",
        "store_embeddings",
        "memories_queryable",
    ] {
        let span = spans.iter().find(|s| s.name == name);
        let span = span.unwrap_or_else(|| panic!("no {name} span: {:?}", names(spans)));
        assert_eq!(
            span.span_context.trace_id(),
            trace,
            "{name} in the call's trace"
        );
    }
    let publish = one(spans, "publish_event");
    assert_eq!(ancestry(spans, publish), ["publish_event", "http_request"]);
    // The extraction's span (the child of the publish, across the events stream) is the parent
    // of the extractor, the commit, and (across the memories stream) `memories_queryable`.
    let extraction = one(spans, "extractor").parent_span_id;
    assert_eq!(one(spans, "commit_extractions").parent_span_id, extraction);
    let queryable = one(spans, "memories_queryable");
    assert_eq!(queryable.parent_span_id, extraction, "{:?}", names(spans));
    // The embedding's span (the child of the extraction's, across the memories stream) is the
    // parent of the vectors' write; on SQLite it too may not have ended yet.
    let embedding = one(spans, "store_embeddings").parent_span_id;
    let embedded = spans.iter().find(|s| s.name == "embed_memories");
    if !held || embedded.is_some() {
        let embedded = one(spans, "embed_memories");
        assert_eq!(embedded.span_context.span_id(), embedding);
        assert_eq!(embedded.parent_span_id, extraction);
    }
    if !held || spans.iter().any(|s| s.name == "extract_event") {
        let chain = ancestry(spans, queryable);
        assert_eq!(
            chain,
            [
                "memories_queryable",
                "extract_event",
                "publish_event",
                "http_request"
            ]
        );
        if let Some(embedded) = embedded {
            assert_eq!(
                ancestry(spans, embedded),
                [
                    "embed_memories",
                    "extract_event",
                    "publish_event",
                    "http_request"
                ]
            );
        }
    }

    // No caller data in any attribute, link or event of any span.
    let digits = NUMBER.trim_start_matches('+');
    for span in spans {
        let text = format!("{:?} {:?} {:?}", span.attributes, span.events, span.links);
        for secret in [digits, USER, CONVERSATION, "Marguerite", "Ottawa"] {
            assert!(
                !text.contains(secret),
                "span {} carries {secret:?}: {text}",
                span.name
            );
        }
    }
}

#[test]
fn embedded_call_is_one_trace_across_the_in_process_bus() {
    one_call_is_one_trace(Deployment::Embedded);
}

#[test]
fn distributed_call_is_one_trace_across_redis_streams() {
    one_call_is_one_trace(Deployment::Distributed);
}
