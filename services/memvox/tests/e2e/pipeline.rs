//! The write path end to end on both deployments — SQLite + in-process bus, and PostgreSQL +
//! Redis Streams: a post-call webhook's raw event goes through the extraction worker and the
//! embedding worker and ends as memories with provenance, vectors, links and a user summary;
//! repeated facts merge, redelivery changes nothing, and a crash before commit leaves no trace;
//! a memory that becomes searchable is seen by the next query at once, whatever its cache.

use memvox::Config;
use memvox::Memvox;
use memvox_bus::{EVENTS, Envelope, Message};
use memvox_core::MemoryKind;
use memvox_query::search::{Recall, SearchParams, search};
use memvox_store::{EventStatus, MemoryFilter, MemoryOrder};
use std::time::Instant;

use crate::support;
use crate::support::{Deployment, Pipeline, accept, call_payload, drain};

const USER: &str = "mem_usr_8c1f2a";
/// The fixture caller's number. It is bound to `USER` before every test — a returning caller:
/// the number decides who a phone call is with, not the `user_id` the call claims.
const NUMBER: &str = "+14155550199";

async fn app(deployment: Deployment, dir: &std::path::Path) -> support::TestApp {
    app_with(deployment, dir, |_| {}).await
}

async fn app_with(
    deployment: Deployment,
    dir: &std::path::Path,
    adjust: impl FnOnce(&mut Config),
) -> support::TestApp {
    let app = support::app_with(deployment, dir, adjust).await;
    bind(&app, NUMBER, USER).await;
    app
}

async fn bind(app: &Memvox, number: &str, user_id: &str) {
    app.store.ensure_user(user_id, 0).await.unwrap();
    app.store.bind_caller(number, user_id, 0).await.unwrap();
}

/// `payload` as a call from `number`.
fn from_number(payload: &str, number: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(payload).unwrap();
    value["data"]["metadata"]["phone_call"]["external_number"] = number.into();
    value["data"]["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] =
        number.into();
    value.to_string()
}

/// Every memory of `USER`, superseded ones too (the audit view).
async fn audited_memories(app: &Memvox) -> Vec<memvox_core::Memory> {
    let audit = MemoryFilter {
        include_superseded: true,
        ..MemoryFilter::default()
    };
    app.store
        .list_memories(USER, &audit, MemoryOrder::Newest, 100)
        .await
        .unwrap()
}

async fn active_memories(app: &Memvox) -> Vec<memvox_core::Memory> {
    app.store
        .list_memories(USER, &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap()
}

async fn fixture_call_becomes_linked_embedded_memories(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = app(deployment, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let event_id = accept(&app, "conv_first", call_payload("conv_first", None)).await;
    pipeline.run().await;

    assert_eq!(
        app.store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::Completed
    );
    let call = app.store.get_call("conv_first").await.unwrap().unwrap();
    assert_eq!(call.conversation.user_id.as_deref(), Some(USER));
    assert_eq!(call.turns.len(), 9);
    assert_eq!(
        app.store
            .user_for_caller("+14155550199")
            .await
            .unwrap()
            .as_deref(),
        Some(USER),
        "the caller number is bound to the user"
    );
    let memories = active_memories(&app).await;
    assert!(!memories.is_empty());
    let mornings = memories
        .iter()
        .find(|m| m.content == "Prefers mornings for callbacks")
        .unwrap();
    let source = mornings.provenance.as_ref().unwrap();
    assert_eq!(source.conversation_id, "conv_first");
    assert_eq!(source.turn_indexes, vec![5]);
    let started = call.conversation.started_at;
    assert!(
        memories.iter().all(|m| m.created_at == started),
        "a memory carries its call's time, not the processing time"
    );
    let episode_filter = MemoryFilter {
        kinds: vec![MemoryKind::Episode],
        ..MemoryFilter::default()
    };
    let episodes = app
        .store
        .list_memories(USER, &episode_filter, MemoryOrder::Newest, 100)
        .await
        .unwrap();
    let caller_turns = call
        .turns
        .iter()
        .filter(|t| t.role == memvox_core::Role::User && t.message.is_some())
        .count();
    assert_eq!(episodes.len(), caller_turns, "one episode per caller turn");
    assert!(episodes.iter().all(|e| e.created_at >= started
        && e.provenance.as_ref().unwrap().conversation_id == "conv_first"
        && e.content.contains("caller: ")));

    let query = app
        .embedder
        .embed(&["when should we call her back"])
        .await
        .unwrap();
    let hits = app
        .store
        .search_memories(USER, &query[0], &MemoryFilter::both_layers(), 100)
        .await
        .unwrap();
    assert_eq!(
        hits.len(),
        memories.len() + episodes.len(),
        "every fact and episode has a vector"
    );
    let user = app.store.get_user(USER).await.unwrap().unwrap();
    assert!(
        user.summary.as_deref().is_some_and(|s| !s.is_empty()),
        "the user summary is written"
    );

    // A second call repeating the fact merges into the same memory.
    accept(&app, "conv_second", call_payload("conv_second", None)).await;
    pipeline.run().await;
    let again = active_memories(&app).await;
    let repeated: Vec<_> = again
        .iter()
        .filter(|m| m.content == "Prefers mornings for callbacks")
        .collect();
    assert_eq!(repeated.len(), 1, "a repeated fact is not duplicated");
    assert!(
        repeated[0].salience > mornings.salience,
        "repeating a fact reinforces it"
    );

    // Redelivery of an already processed event changes nothing.
    let before = active_memories(&app).await;
    let message = Message::EventAccepted {
        event_id,
        event_type: "post_call_transcription".into(),
        conversation_id: "conv_first".into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .unwrap();
    pipeline.run().await;
    assert_eq!(active_memories(&app).await, before);
}

/// A payload for `user_id` (`None`: no user id, so the caller is known only by number).
fn call_payload_for(conversation_id: &str, user_id: Option<&str>, caller_says: &str) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&call_payload(conversation_id, Some(caller_says))).unwrap();
    match user_id {
        Some(user_id) => value["data"]["user_id"] = user_id.into(),
        None => {
            value["data"].as_object_mut().unwrap().remove("user_id");
            value["data"]["conversation_initiation_client_data"]["dynamic_variables"]
                .as_object_mut()
                .unwrap()
                .retain(|name, _| name.starts_with("system__"));
        }
    }
    value.to_string()
}

/// Calls read in one batch are committed together, yet each is prepared against what the
/// earlier ones wrote: a contradiction of an earlier call in the batch supersedes it, a caller
/// known by number is recognised, another caller's call stays theirs, and a duplicate delivery
/// in the same batch changes nothing.
async fn a_batch_of_calls_commits_as_if_one_at_a_time(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = app(deployment, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let denver = call_payload_for(
        "conv_a",
        Some(USER),
        "I live in Denver. I'm allergic to peanuts.",
    );
    let first = accept(&app, "conv_a", denver.clone()).await;
    bind(&app, "+14155550111", "other_user").await;
    let boston = call_payload_for("conv_b", Some("other_user"), "I live in Boston.");
    accept(&app, "conv_b", from_number(&boston, "+14155550111")).await;
    let austin = call_payload_for("conv_c", Some(USER), "I moved to Austin last month.");
    accept(&app, "conv_c", austin).await;
    let by_number = call_payload_for("conv_d", None, "I'm allergic to shellfish.");
    accept(&app, "conv_d", by_number).await;
    let message = Message::EventAccepted {
        event_id: first,
        event_type: "post_call_transcription".into(),
        conversation_id: "conv_a".into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .unwrap();
    let report = pipeline.extraction.process_batch().await.unwrap();
    assert_eq!(report.read, 5, "the five deliveries are one batch");
    assert_eq!(report.processed, 5);
    drain(&pipeline.embedding).await;

    let all = audited_memories(&app).await;
    let with = |needle: &str| -> Vec<&memvox_core::Memory> {
        all.iter().filter(|m| m.content.contains(needle)).collect()
    };
    let (denver, austin) = (with("Denver"), with("Austin"));
    assert_eq!((denver.len(), austin.len()), (1, 1), "{all:#?}");
    assert_eq!(
        denver[0].superseded_by,
        Some(austin[0].id),
        "the later call in the batch saw the earlier one's memory"
    );
    assert_eq!(
        with("peanut").len(),
        1,
        "the duplicate delivery added nothing"
    );
    assert_eq!(
        with("shellfish").len(),
        1,
        "the caller known by number is the same user"
    );
    let by_number = app.store.get_call("conv_d").await.unwrap().unwrap();
    assert_eq!(by_number.conversation.user_id.as_deref(), Some(USER));
    let other = app
        .store
        .list_memories(
            "other_user",
            &MemoryFilter::default(),
            MemoryOrder::Newest,
            10,
        )
        .await
        .unwrap();
    assert!(
        other.iter().any(|m| m.content.contains("Boston")),
        "{other:#?}"
    );
    assert!(other.iter().all(|m| !m.content.contains("Denver")));
}

/// A batch of independent calls is written `workers.events_per_commit` events to a
/// transaction: every call is committed, each under its own caller.
async fn a_batch_commits_a_few_events_to_a_transaction(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(deployment, dir.path(), |config| {
        config.workers.events_per_commit = Some(2);
    })
    .await;
    let pipeline = Pipeline::new(&app);
    for n in 0..7 {
        let (user, number) = (format!("caller_{n}"), format!("+1415555020{n}"));
        bind(&app, &number, &user).await;
        let conversation = format!("conv_split_{n}");
        let text = format!("My locker number is {n}0{n}.");
        let payload = call_payload_for(&conversation, Some(&user), &text);
        accept(&app, &conversation, from_number(&payload, &number)).await;
    }
    let report = pipeline.extraction.process_batch().await.unwrap();
    assert_eq!((report.read, report.processed), (7, 7));
    for n in 0..7 {
        let call = app
            .store
            .get_call(&format!("conv_split_{n}"))
            .await
            .unwrap();
        let user = call.unwrap().conversation.user_id;
        assert_eq!(user.as_deref(), Some(format!("caller_{n}").as_str()));
    }
}

async fn a_crash_before_commit_leaves_no_trace(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = app(deployment, dir.path()).await;
    let event_id = accept(&app, "conv_crash", call_payload("conv_crash", None)).await;
    let pipeline = Pipeline::new(&app);
    let worker = pipeline.extraction.clone();
    let running = {
        let worker = worker.clone();
        tokio::spawn(async move { worker.process_batch().await })
    };
    running.abort();
    let _ = running.await;
    let status = app.store.get_event(event_id).await.unwrap().unwrap().status;
    let memories = active_memories(&app).await;
    match status {
        EventStatus::Pending => assert!(memories.is_empty(), "nothing half-written"),
        EventStatus::Completed => assert!(!memories.is_empty(), "a commit that happened is whole"),
        EventStatus::DeadLetter => panic!("an aborted worker must not dead-letter"),
    }
    // Another worker finishes the job after the first one's message becomes claimable: here the
    // pending entry is re-read by republishing, as the outbox reconciler would.
    let message = Message::EventAccepted {
        event_id,
        event_type: "post_call_transcription".into(),
        conversation_id: "conv_crash".into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .unwrap();
    pipeline.run().await;
    let clean = active_memories(&app).await;
    let contents: Vec<_> = clean.iter().map(|m| m.content.clone()).collect();
    let mut unique = contents.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        contents.len(),
        unique.len(),
        "no duplicate memories: {contents:?}"
    );
    assert!(
        contents
            .iter()
            .any(|c| c == "Prefers mornings for callbacks")
    );
}

async fn contradictions_supersede_and_distinct_facts_stay_distinct(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = app(deployment, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let calls = [
        (
            "conv_a",
            "I live in Denver. I'm allergic to peanuts. Please email me the details.",
        ),
        (
            "conv_b",
            "I'm also allergic to shellfish. I moved to Austin last month.",
        ),
    ];
    for (conversation, words) in calls {
        accept(&app, conversation, call_payload(conversation, Some(words))).await;
        pipeline.run().await;
    }
    let all = audited_memories(&app).await;
    let find = |needle: &str| {
        all.iter()
            .find(|m| m.content.contains(needle))
            .unwrap_or_else(|| panic!("no memory mentions {needle}: {all:#?}"))
    };
    let (denver, austin) = (find("Denver"), find("Austin"));
    assert_eq!(
        denver.superseded_by,
        Some(austin.id),
        "moving supersedes the old city"
    );
    assert!(austin.superseded_by.is_none());
    let (peanuts, shellfish) = (find("peanut"), find("shellfish"));
    assert_ne!(peanuts.id, shellfish.id);
    assert!(
        peanuts.superseded_by.is_none() && shellfish.superseded_by.is_none(),
        "distinct allergies stay distinct"
    );
    let visible = active_memories(&app).await;
    assert!(
        visible.iter().all(|m| !m.content.contains("Denver")),
        "superseded memories are hidden"
    );
}

/// The sum of the cache lookup counters of `app` with `result`.
fn cache_lookups(app: &Memvox, result: &str) -> u64 {
    memvox_testkit::counter(
        app.metrics.registry(),
        "memvox_cache_lookups_total",
        &[("result", result)],
    )
}

async fn a_new_memory_is_seen_by_the_next_query_without_waiting(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let distributed = matches!(deployment, Deployment::Distributed);
    // Cached answers live an hour: only the version bump can make the new memory visible.
    let app = app_with(deployment, dir.path(), |config| {
        config.shared.cache.local_ttl_ms = 3_600_000;
    })
    .await;
    // Embedded: the query service shares the workers' process (and version handle).
    // Distributed: a separate process sharing only the store and Redis.
    let query_app = if distributed {
        Memvox::build((*app.config).clone()).await.unwrap()
    } else {
        app.clone()
    };
    let state = query_app.query().unwrap();
    let ask = || async {
        let params = SearchParams {
            query: "what should I know about the caller".into(),
            limit: Some(20),
            sectors: None,
            explain: false,
        };
        search(
            &state,
            Some(USER),
            &params,
            Instant::now(),
            Recall::Reinforce,
        )
        .await
        .unwrap()
        .memories
    };
    let mentions = |memories: &[memvox_query::present::MemoryView], needle: &str| {
        memories.iter().any(|m| m.content.contains(needle))
    };
    let pipeline = Pipeline::new(&app);
    accept(
        &app,
        "conv_a",
        call_payload("conv_a", Some("I live in Denver.")),
    )
    .await;
    pipeline.run().await;

    let first = ask().await;
    assert!(mentions(&first, "Denver"), "{first:#?}");
    assert!(!mentions(&first, "peanut"));
    assert_eq!(ask().await, first);
    assert!(
        cache_lookups(&query_app, "hit") >= 1,
        "the answer is cached"
    );

    accept(
        &app,
        "conv_b",
        call_payload("conv_b", Some("I'm allergic to peanuts.")),
    )
    .await;
    drain(&pipeline.extraction).await;
    assert!(
        !mentions(&ask().await, "peanut"),
        "not searchable before it is embedded"
    );
    drain(&pipeline.embedding).await;
    let next = ask().await;
    assert!(
        mentions(&next, "peanut"),
        "the embedding worker's bump makes it visible at once: {next:#?}"
    );
}

#[tokio::test]
async fn embedded_new_memories_are_seen_by_the_next_query_at_once() {
    Box::pin(a_new_memory_is_seen_by_the_next_query_without_waiting(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_new_memories_are_seen_by_every_query_process_at_once() {
    Box::pin(a_new_memory_is_seen_by_the_next_query_without_waiting(
        Deployment::Distributed,
    ))
    .await;
}

/// An OpenAI-compatible extractor that answers garbage: the event is dead-lettered with its
/// reason and nothing is written.
async fn garbage_from_the_llm_dead_letters_the_event(deployment: Deployment, status: u16) {
    let server = wiremock::MockServer::start().await;
    let body = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "this is not json"}}]
    });
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(deployment, dir.path(), |config| {
        config.extractor.provider = memvox_ai::ExtractorProvider::OpenAi;
        config.extractor.openai.base_url = format!("{}/v1", server.uri());
        config.extractor.openai.api_key = Some(memvox_config::Secret::from("test-key"));
        config.shared.bus.max_attempts = 1;
    })
    .await;
    let pipeline = Pipeline::new(&app);
    let event_id = accept(&app, "conv_llm", call_payload("conv_llm", None)).await;
    let report = pipeline.extraction.process_batch().await.unwrap();
    assert_eq!(report.dead_lettered, 1, "{report:?}");
    let event = app.store.get_event(event_id).await.unwrap().unwrap();
    assert_eq!(event.status, EventStatus::DeadLetter);
    assert!(event.error_message.unwrap().contains("extractor"));
    assert!(
        active_memories(&app).await.is_empty(),
        "nothing half-written"
    );
    assert!(app.store.get_call("conv_llm").await.unwrap().is_none());
    let letters = app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].reason.contains("extractor"),
        "{}",
        letters[0].reason
    );
}

#[tokio::test]
async fn embedded_contradictions_supersede_and_distinct_facts_stay_distinct() {
    Box::pin(contradictions_supersede_and_distinct_facts_stay_distinct(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_contradictions_supersede_and_distinct_facts_stay_distinct() {
    Box::pin(contradictions_supersede_and_distinct_facts_stay_distinct(
        Deployment::Distributed,
    ))
    .await;
}

#[tokio::test]
async fn embedded_llm_garbage_dead_letters_the_event() {
    Box::pin(garbage_from_the_llm_dead_letters_the_event(
        Deployment::Embedded,
        200,
    ))
    .await;
}

#[tokio::test]
async fn distributed_llm_outage_dead_letters_after_the_last_attempt() {
    Box::pin(garbage_from_the_llm_dead_letters_the_event(
        Deployment::Distributed,
        503,
    ))
    .await;
}

#[tokio::test]
async fn embedded_fixture_call_becomes_linked_embedded_memories() {
    Box::pin(fixture_call_becomes_linked_embedded_memories(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_fixture_call_becomes_linked_embedded_memories() {
    Box::pin(fixture_call_becomes_linked_embedded_memories(
        Deployment::Distributed,
    ))
    .await;
}

#[tokio::test]
async fn embedded_batch_of_calls_commits_as_if_one_at_a_time() {
    Box::pin(a_batch_of_calls_commits_as_if_one_at_a_time(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_batch_of_calls_commits_as_if_one_at_a_time() {
    Box::pin(a_batch_of_calls_commits_as_if_one_at_a_time(
        Deployment::Distributed,
    ))
    .await;
}

#[tokio::test]
async fn embedded_batch_commits_a_few_events_to_a_transaction() {
    Box::pin(a_batch_commits_a_few_events_to_a_transaction(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_batch_commits_a_few_events_to_a_transaction() {
    Box::pin(a_batch_commits_a_few_events_to_a_transaction(
        Deployment::Distributed,
    ))
    .await;
}

#[tokio::test]
async fn embedded_crash_before_commit_leaves_no_trace() {
    Box::pin(a_crash_before_commit_leaves_no_trace(Deployment::Embedded)).await;
}

#[tokio::test]
async fn distributed_crash_before_commit_leaves_no_trace() {
    Box::pin(a_crash_before_commit_leaves_no_trace(
        Deployment::Distributed,
    ))
    .await;
}
