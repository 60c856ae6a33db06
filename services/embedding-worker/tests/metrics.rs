//! The embedding worker's metrics move with real batches on the embedded deployment (SQLite,
//! in-process bus, bundled static model): memories embedded, batch size, stage times, links
//! created then strengthened, summaries written then debounced, recall, embedder and summarizer
//! errors (classified for the bus, quoting nothing the provider said), a change to memories
//! deleted meanwhile, the bus runner's batch times and message ages, and the requests of a
//! chat-model summarizer.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use memvox_ai::Summary;
use memvox_ai::{
    AiError, ChatModelSettings, Embedder, ProviderError, SummarizeError, Summarizer,
    SummarizerProvider, SummaryMemory,
};
use memvox_bus::HandlerError;
use memvox_bus::{Envelope, Handler, MEMORIES, Message, Worker};
use memvox_config::SharedConfig;
use memvox_core::{NewMemory, Sector};
use memvox_embedding_worker::{EmbeddingConfig, EmbeddingHandler, EmbeddingMetrics};
use memvox_runtime::App;
use memvox_store::EmbeddingSpace;
use prometheus::Registry;

const USER: &str = "usr_metrics";

/// The embedding worker's process on the embedded deployment: its app, its configuration and
/// its embedder.
async fn app(dir: &std::path::Path) -> (App, EmbeddingConfig, Arc<dyn Embedder>) {
    let (mut shared, mut config) = (SharedConfig::default(), EmbeddingConfig::default());
    config.embedder.model_path = Some(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/static-minilm-256"
        )
        .into(),
    );
    shared.bus.claim_idle_ms = 60_000;
    shared.bus.block_ms = 0;
    shared.store.url = format!("sqlite://{}/memvox.db", dir.display());
    let embedder = memvox_ai::build_embedder(&config.embedder).unwrap();
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    (App::build(shared, space).await.unwrap(), config, embedder)
}

/// The value of a counter or gauge, or the (count, sum) of a histogram, with these labels.
fn sample(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> (f64, f64) {
    for family in registry.gather() {
        if family.name() != name {
            continue;
        }
        for metric in family.get_metric() {
            let matches = labels.iter().all(|(key, value)| {
                metric
                    .get_label()
                    .iter()
                    .any(|l| l.name() == *key && l.value() == *value)
            });
            if !matches {
                continue;
            }
            if metric.get_histogram().get_sample_count() > 0 {
                let histogram = metric.get_histogram();
                return (
                    histogram.get_sample_count() as f64,
                    histogram.get_sample_sum(),
                );
            }
            return (metric.get_counter().get_value(), 0.0);
        }
    }
    (0.0, 0.0)
}

fn count(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(registry, name, labels).0
}

async fn drain(worker: &Worker) {
    for _ in 0..100 {
        let report = worker.process_batch().await.unwrap();
        if report.claimed + report.read == 0 {
            return;
        }
    }
    panic!("the worker never went idle");
}

/// The message announcing that `USER`'s memory `id` changed, outside any call.
fn change_of(id: i64) -> Envelope {
    Envelope::new(Message::MemoriesChanged {
        user_id: USER.into(),
        memory_ids: vec![id],
        conversation_id: None,
    })
}

async fn remember(app: &App, content: &str) -> i64 {
    remember_for(app, USER, content).await
}

async fn remember_for(app: &App, user_id: &str, content: &str) -> i64 {
    app.store
        .insert_memory(
            &NewMemory {
                user_id: user_id.into(),
                content: content.into(),
                sector: Sector::Semantic,
                salience: 0.5,
                provenance: None,
            },
            1_767_225_645_000,
        )
        .await
        .unwrap()
        .id
}

async fn publish(app: &App, message: Message) {
    app.bus
        .publish(MEMORIES, &Envelope::new(message))
        .await
        .unwrap();
}

/// Tells the worker that `memory_ids` of `user_id` changed.
async fn changed(app: &App, user_id: &str, memory_ids: Vec<i64>) {
    let message = Message::MemoriesChanged {
        user_id: user_id.into(),
        memory_ids,
        conversation_id: None,
    };
    publish(app, message).await;
}

#[tokio::test]
async fn a_real_batch_moves_every_counter() {
    let dir = tempfile::tempdir().unwrap();
    let (app, config, embedder) = app(dir.path()).await;
    let worker = memvox_embedding_worker::build(&app, &config, embedder).unwrap();
    let registry = app.metrics.registry();
    // Two identical texts are certain to be linked; the third is about something else.
    let peanuts = remember(&app, "Allergic to peanuts").await;
    let again = remember(&app, "Allergic to peanuts").await;
    let mornings = remember(&app, "Prefers mornings for callbacks").await;
    changed(&app, USER, vec![peanuts, again, mornings]).await;
    publish(
        &app,
        Message::MemoryRecalled {
            user_id: USER.into(),
            memory_ids: vec![mornings],
        },
    )
    .await;
    drain(&worker).await;

    assert_eq!(count(registry, "memvox_embedding_memories_total", &[]), 3.0);
    assert_eq!(
        sample(registry, "memvox_embedding_batch_memories", &[]),
        (1.0, 3.0),
        "one batch of three memories"
    );
    for stage in ["load", "embed", "store", "links", "summary"] {
        assert_eq!(
            count(
                registry,
                "memvox_embedding_stage_seconds",
                &[("stage", stage)]
            ),
            1.0,
            "stage {stage} timed once"
        );
    }
    assert_eq!(
        count(
            registry,
            "memvox_embedding_links_total",
            &[("op", "created")]
        ),
        2.0,
        "the identical pair is linked both ways, once"
    );
    assert_eq!(
        count(
            registry,
            "memvox_embedding_links_total",
            &[("op", "strengthened")]
        ),
        0.0
    );
    let links = app.store.links_from(&[peanuts, again]).await.unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(
        count(
            registry,
            "memvox_embedding_summaries_total",
            &[("outcome", "written")]
        ),
        1.0
    );
    assert_eq!(
        count(registry, "memvox_embedding_recalled_memories_total", &[]),
        1.0
    );
    let stream = [("stream", "memories"), ("group", "embedding")];
    assert_eq!(
        count(registry, "memvox_bus_message_age_seconds", &stream),
        2.0,
        "both messages aged when acknowledged"
    );
    assert!(count(registry, "memvox_bus_batch_seconds", &stream) >= 1.0);

    // The same memory again: its links exist (strengthened), the summary is debounced.
    changed(&app, USER, vec![peanuts]).await;
    drain(&worker).await;
    assert_eq!(count(registry, "memvox_embedding_memories_total", &[]), 4.0);
    assert_eq!(
        count(
            registry,
            "memvox_embedding_links_total",
            &[("op", "strengthened")]
        ),
        2.0
    );
    assert_eq!(
        count(
            registry,
            "memvox_embedding_links_total",
            &[("op", "created")]
        ),
        2.0
    );
    assert_eq!(
        count(
            registry,
            "memvox_embedding_summaries_total",
            &[("outcome", "debounced")]
        ),
        1.0
    );
    assert_eq!(
        count(
            registry,
            "memvox_embedding_errors_total",
            &[("stage", "embed")]
        ),
        0.0
    );
}

#[tokio::test]
async fn one_batch_summarises_each_caller_from_their_own_memories() {
    let dir = tempfile::tempdir().unwrap();
    let (app, config, embedder) = app(dir.path()).await;
    let worker = memvox_embedding_worker::build(&app, &config, embedder).unwrap();
    let callers = [
        ("usr_dana", "Allergic to peanuts"),
        ("usr_omar", "Prefers mornings for callbacks"),
        ("usr_lena", "Picks up refills at the Elm Road pharmacy"),
    ];
    for (user_id, fact) in callers {
        let id = remember_for(&app, user_id, fact).await;
        changed(&app, user_id, vec![id]).await;
    }
    drain(&worker).await;

    assert_eq!(
        count(
            app.metrics.registry(),
            "memvox_embedding_summaries_total",
            &[("outcome", "written")]
        ),
        3.0,
        "one summary per caller of the batch"
    );
    for (user_id, fact) in callers {
        let summary = app.store.get_user(user_id).await.unwrap().unwrap().summary;
        let summary = summary.unwrap_or_default();
        assert!(summary.contains(fact), "{user_id}'s summary: {summary}");
        for (other, other_fact) in callers {
            assert!(
                other == user_id || !summary.contains(other_fact),
                "{user_id}'s summary quotes {other}: {summary}"
            );
        }
    }
}

/// An embedder whose provider is down.
#[derive(Debug)]
struct Down;

#[async_trait]
impl Embedder for Down {
    fn model_id(&self) -> &str {
        "static-minilm-256"
    }

    fn dimension(&self) -> usize {
        256
    }

    async fn embed(&self, _texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        Err(AiError::LocalModel("the model crashed".into()))
    }
}

#[tokio::test]
async fn an_embedder_failure_is_counted_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (app, config, embedder) = app(dir.path()).await;
    let registry = Registry::new();
    let summarizer = memvox_ai::build_summarizer(&config.summarizer).unwrap();
    let handler = handler_with(&app, &config, Arc::new(Down), summarizer, &registry);
    let peanuts = remember(&app, "Allergic to peanuts").await;
    let outcome = handler.handle(&change_of(peanuts)).await;
    assert!(outcome.is_err());
    assert_eq!(
        count(
            &registry,
            "memvox_embedding_errors_total",
            &[("stage", "embed")]
        ),
        1.0
    );
    assert_eq!(
        count(&registry, "memvox_embedding_memories_total", &[]),
        0.0
    );
    let probe = embedder.embed(&["peanuts"]).await.unwrap();
    assert!(
        app.store
            .search_memories(USER, &probe[0], &memvox_store::MemoryFilter::default(), 5)
            .await
            .unwrap()
            .is_empty(),
        "no vector was stored"
    );
}

#[tokio::test]
async fn a_chat_model_summarizers_requests_are_counted_in_the_workers_registry() {
    let server = wiremock::MockServer::start().await;
    let answer = serde_json::json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_767_225_700,
        "model": "m",
        "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Allergic to peanuts.", "refusal": null}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 6, "total_tokens": 126}
    });
    wiremock::Mock::given(wiremock::matchers::path("/v1/chat/completions"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (app, mut config, embedder) = app(dir.path()).await;
    config.summarizer.provider = SummarizerProvider::OpenAi;
    config.summarizer.deadline_ms = 10_000;
    config.summarizer.openai = ChatModelSettings {
        base_url: format!("{}/v1", server.uri()),
        model: "worker-summary-model".into(),
        ..ChatModelSettings::default()
    };
    let worker = memvox_embedding_worker::build(&app, &config, embedder).unwrap();
    let peanuts = remember(&app, "Allergic to peanuts").await;
    changed(&app, USER, vec![peanuts]).await;
    drain(&worker).await;

    let registry = app.metrics.registry();
    let model = ("model", "worker-summary-model");
    let ok = [("operation", "summarize"), model, ("outcome", "ok")];
    assert_eq!(count(registry, "memvox_ai_requests_total", &ok), 1.0);
    let completion = [("operation", "summarize"), model, ("kind", "completion")];
    assert_eq!(count(registry, "memvox_ai_tokens_total", &completion), 6.0);
    let summary = app.store.get_user(USER).await.unwrap().unwrap().summary;
    assert_eq!(summary.as_deref(), Some("Allergic to peanuts."));
}

/// A chat-model summarizer whose provider is down, with words of its own in the error.
#[derive(Debug)]
struct SummarizerDown;

/// What the provider said: it must not reach a dead letter or a log line.
const PROVIDER_WORDS: &str = "upstream said: quota of org-7731 exhausted";

#[async_trait]
impl Summarizer for SummarizerDown {
    fn name(&self) -> &'static str {
        "openai"
    }

    async fn summarize_for_query(
        &self,
        _query: &str,
        _memories: &[SummaryMemory],
    ) -> Result<Summary, SummarizeError> {
        self.summarize_user(&[]).await
    }

    async fn summarize_user(&self, _memories: &[SummaryMemory]) -> Result<Summary, SummarizeError> {
        Err(SummarizeError::Provider(ProviderError::Unavailable {
            provider: "openai",
            message: PROVIDER_WORDS.into(),
        }))
    }
}

/// The handler of the worker on `app`, with its own registry and `summarizer`.
fn handler_with(
    app: &App,
    config: &EmbeddingConfig,
    embedder: Arc<dyn Embedder>,
    summarizer: Arc<dyn Summarizer>,
    registry: &Registry,
) -> EmbeddingHandler {
    EmbeddingHandler {
        store: app.store.clone(),
        embedder,
        summarizer,
        settings: config.workers.clone(),
        summarized: Mutex::new(HashMap::new()),
        metrics: EmbeddingMetrics::register(registry).unwrap(),
    }
}

#[tokio::test]
async fn a_summarizer_outage_is_retried_and_its_words_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (app, config, embedder) = app(dir.path()).await;
    let registry = Registry::new();
    let handler = handler_with(&app, &config, embedder, Arc::new(SummarizerDown), &registry);
    let peanuts = remember(&app, "Allergic to peanuts").await;
    let outcome = handler.handle(&change_of(peanuts)).await;

    let Err(HandlerError::Retryable(reason)) = outcome else {
        panic!("an unavailable provider is worth a retry: {outcome:?}");
    };
    assert!(reason.contains("openai"), "{reason}");
    assert!(
        !reason.contains("org-7731"),
        "the provider's words: {reason}"
    );
    assert_eq!(
        count(
            &registry,
            "memvox_embedding_errors_total",
            &[("stage", "summary")]
        ),
        1.0
    );
    assert_eq!(
        count(&registry, "memvox_embedding_memories_total", &[]),
        1.0,
        "the vectors are written before the summary, so a retry finds them in place"
    );
    let summary = app
        .store
        .get_user(USER)
        .await
        .unwrap()
        .and_then(|u| u.summary);
    assert_eq!(summary, None, "no summary is written from a failed call");
}

#[tokio::test]
async fn a_change_to_memories_deleted_meanwhile_is_done_with_nothing_to_embed() {
    let dir = tempfile::tempdir().unwrap();
    let (app, config, embedder) = app(dir.path()).await;
    let registry = Registry::new();
    let summarizer = memvox_ai::build_summarizer(&config.summarizer).unwrap();
    let handler = handler_with(&app, &config, embedder, summarizer, &registry);
    let forgotten = remember(&app, "Allergic to peanuts").await;
    assert!(app.store.delete_memory(USER, forgotten).await.unwrap());
    let outcome = handler.handle(&change_of(forgotten)).await;

    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        count(&registry, "memvox_embedding_memories_total", &[]),
        0.0
    );
    assert_eq!(
        count(
            &registry,
            "memvox_embedding_errors_total",
            &[("stage", "load")]
        ),
        0.0
    );
}
