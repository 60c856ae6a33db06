//! The extraction handler on its own, on both store backends, with a recording extractor: a
//! batch's events of one caller are each extracted once, the later against what the earlier
//! committed, and counted (memories added, episodes stored); one cache bump per call; a
//! redelivered completed event is announced again without extracting or counting again; a
//! malformed payload is dead-lettered at once.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use memvox_ai::{CallTranscript, ExtractError, Extractor};
use memvox_bus::{Bus, Envelope, Handler, HandlerError, InProcessBus, MEMORIES, Message};
use memvox_cache::{Version, Versions};
use memvox_config::WorkerSettings;
use memvox_core::redact::RedactionPolicy;
use memvox_core::{MemoryCandidate, MemoryOp, Sector};
use memvox_extraction_worker::{ExtractionHandler, ExtractionMetrics};
use memvox_identity::Identities;
use memvox_store::{EventStatus, MemoryFilter, MemoryOrder, NewEvent, Store};
use memvox_testkit::{Backend, TestEmbedder, TestStore};

/// The post-call transcription fixture.
const FIXTURE: &str = include_str!("../../../fixtures/elevenlabs/post_call_transcription.json");
const USER: &str = "caller_of_two_numbers";
const NOW: i64 = 1_767_225_645_000;

/// Remembers every call it extracts and proposes one fact naming the conversation.
#[derive(Debug, Default)]
struct Recording {
    calls: Mutex<Vec<CallTranscript>>,
}

#[async_trait]
impl Extractor for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }

    async fn extract(&self, call: &CallTranscript) -> Result<Vec<MemoryCandidate>, ExtractError> {
        self.calls.lock().unwrap().push(call.clone());
        Ok(vec![MemoryCandidate {
            content: format!("Called in {}", call.conversation_id),
            sector: Sector::Episodic,
            salience: 0.6,
            turn_indexes: vec![0],
            op: MemoryOp::Add,
        }])
    }
}

struct Harness {
    _db: TestStore,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    extractor: Arc<Recording>,
    handler: ExtractionHandler,
    registry: prometheus::Registry,
}

impl Harness {
    async fn new(backend: Backend) -> Self {
        let db = TestStore::open(backend).await;
        let store = db.store();
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new(1_000));
        let extractor = Arc::new(Recording::default());
        let registry = prometheus::Registry::new();
        let handler = ExtractionHandler {
            store: store.clone(),
            bus: bus.clone(),
            embedder: Arc::new(TestEmbedder::default()),
            extractor: extractor.clone(),
            settings: WorkerSettings::default(),
            events_per_commit: 2,
            redaction: RedactionPolicy::default(),
            identities: Identities::default(),
            max_attempts: 3,
            metrics: ExtractionMetrics::register(&registry).unwrap(),
            versions: Versions::new(100, None),
        };
        Self {
            _db: db,
            store,
            bus,
            extractor,
            handler,
            registry,
        }
    }

    /// The value of counter `name` with `labels`.
    fn counted(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        memvox_testkit::counter(&self.registry, name, labels)
    }

    /// Records `payload` as an accepted event of `conversation`; its message.
    async fn accept(&self, conversation: &str, payload: String) -> Envelope {
        let recorded = self
            .store
            .record_event(&NewEvent {
                event_type: "post_call_transcription".into(),
                conversation_id: conversation.into(),
                event_timestamp: NOW / 1000,
                payload,
                received_at: NOW,
                traceparent: None,
            })
            .await
            .unwrap();
        Envelope::new(Message::EventAccepted {
            event_id: recorded.id,
            event_type: "post_call_transcription".into(),
            conversation_id: conversation.into(),
        })
    }

    /// The conversations the extractor was run on, in order.
    fn extracted(&self) -> Vec<String> {
        let calls = self.extractor.calls.lock().unwrap();
        calls.iter().map(|c| c.conversation_id.clone()).collect()
    }

    /// Every `MemoriesChanged` published, as (user, memory count).
    async fn announced(&self) -> Vec<(String, usize)> {
        self.bus.ensure_group(MEMORIES, "probe").await.unwrap();
        let read = self
            .bus
            .read(MEMORIES, "probe", "probe", 100, Duration::ZERO);
        read.await
            .unwrap()
            .into_iter()
            .filter_map(|d| match d.envelope.unwrap().message {
                Message::MemoriesChanged {
                    user_id,
                    memory_ids,
                    ..
                } => Some((user_id, memory_ids.len())),
                _ => None,
            })
            .collect()
    }
}

/// The fixture call as `conversation` from `number`, with no claimed identity.
fn call(conversation: &str, number: &str) -> String {
    FIXTURE
        .replace("conv_5201kf3r7e9yq2m8vx4pn0td6h", conversation)
        .replace("+14155550199", number)
        .replace("\"mem_usr_8c1f2a\"", "\"\"")
}

async fn events_of_one_caller_are_each_extracted_once(backend: Backend) {
    let h = Harness::new(backend).await;
    h.store.ensure_user(USER, NOW).await.unwrap();
    for number in ["+14155550101", "+14155550102"] {
        h.store.bind_caller(number, USER, NOW).await.unwrap();
    }
    // Nothing in the payloads tells the two apart as one caller: different conversations and
    // numbers, no claimed identity. Both numbers resolve to the same caller.
    let batch = [
        h.accept("conv_a", call("conv_a", "+14155550101")).await,
        h.accept("conv_b", call("conv_b", "+14155550102")).await,
    ];
    let outcomes = h.handler.handle_batch(&batch).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        h.extracted(),
        ["conv_a", "conv_b"],
        "each call extracted once"
    );
    let calls = h.extractor.calls.lock().unwrap().clone();
    assert!(
        calls[1]
            .existing
            .iter()
            .any(|m| m.content == "Called in conv_a"),
        "the later call was prepared against what the earlier one committed: {:?}",
        calls[1].existing
    );
    let memories = h
        .store
        .list_memories(USER, &MemoryFilter::default(), MemoryOrder::Newest, 10)
        .await
        .unwrap();
    assert_eq!(memories.len(), 2);
    // One announcement per call, naming its fact and its episodes (the calls have one shape).
    let announced = h.announced().await;
    assert_eq!(announced.len(), 2, "{announced:?}");
    assert!(announced.iter().all(|(user, _)| user == USER));
    assert_eq!(announced[0].1, announced[1].1);
    assert!(
        announced[0].1 >= 2,
        "the fact and the episodes: {announced:?}"
    );
    let added = [("op", "add")];
    assert_eq!(h.counted("memvox_extraction_memories_total", &added), 2);
    let episodes = announced.iter().map(|(_, n)| n - 1).sum::<usize>();
    assert_eq!(
        h.counted("memvox_extraction_episodes_total", &[]),
        episodes as u64,
        "every announced memory but the fact is an episode"
    );
}

async fn each_call_bumps_its_callers_cache_version_once(backend: Backend) {
    let h = Harness::new(backend).await;
    h.store.ensure_user(USER, NOW).await.unwrap();
    h.store
        .bind_caller("+14155550101", USER, NOW)
        .await
        .unwrap();
    let Version::Local(before) = h.handler.versions.current(USER).await else {
        panic!("no shared tier");
    };
    let message = h.accept("conv_a", call("conv_a", "+14155550101")).await;
    h.handler.handle(&message).await.unwrap();
    assert_eq!(
        h.handler.versions.current(USER).await,
        Version::Local(before + 1),
        "one bump for the call"
    );
}

async fn a_completed_event_is_announced_again_without_extracting(backend: Backend) {
    let h = Harness::new(backend).await;
    let message = h.accept("conv_a", call("conv_a", "+14155550101")).await;
    h.handler.handle(&message).await.unwrap();
    h.handler.handle(&message).await.unwrap();
    assert_eq!(h.extracted(), ["conv_a"]);
    let announced = h.announced().await;
    assert_eq!(announced.len(), 2, "{announced:?}");
    assert_eq!(announced[0], announced[1]);
    let once = (announced[0].1 - 1) as u64;
    assert_eq!(h.counted("memvox_extraction_episodes_total", &[]), once);
    let added = [("op", "add")];
    assert_eq!(h.counted("memvox_extraction_memories_total", &added), 1);
}

async fn a_malformed_payload_is_dead_lettered_at_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let message = h.accept("conv_bad", "{\"type\": ".into()).await;
    let outcome = h.handler.handle(&message).await;
    assert!(
        matches!(outcome, Err(HandlerError::Permanent(_))),
        "{outcome:?}"
    );
    let Message::EventAccepted { event_id, .. } = message.message else {
        unreachable!("an accepted event")
    };
    let event = h.store.get_event(event_id).await.unwrap().unwrap();
    assert_eq!(event.status, EventStatus::DeadLetter);
    assert!(h.extracted().is_empty());
    assert!(h.announced().await.is_empty());
}

memvox_testkit::both_backends!(
    events_of_one_caller_are_each_extracted_once,
    each_call_bumps_its_callers_cache_version_once,
    a_completed_event_is_announced_again_without_extracting,
    a_malformed_payload_is_dead_lettered_at_once,
);
