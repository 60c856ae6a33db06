//! Importing past calls from the ElevenLabs conversations API (a local fake speaking the
//! documented shapes), on SQLite with the in-process bus and on PostgreSQL with Redis: pages are
//! followed with the cursor and the filters sent; only finished calls are stored, as the event
//! their webhook delivers, and published; a call imported and delivered by webhook, in either
//! order, is one call; rate limits and server errors are retried; a refused key stops the import
//! with a clear error; an interrupted import resumes at its last page; calls not done yet are
//! imported by a later run; details that do not fit change nothing; the poll imports what
//! settled and leaves its turn to whoever holds the lease.

use axum::http::StatusCode;
use memvox_bus::Message;
use memvox_elevenlabs::WebhookEvent;
use memvox_gateway::import::{ImportError, Outcome, Report, RunOptions, Window};
use memvox_store::ImportState;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::ResponseTemplate;

use crate::fake_api::{
    CURSOR, FIXTURE_CALL, FakeApi, LIST, OTHER_CALL, RUNNING, details, ok, page, poll_settings,
};
use crate::support::{Backend, BusKind, Gateway, NOW, fixture};

const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";

/// Runs each case on SQLite with the in-process bus and on PostgreSQL with Redis.
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;

            #[tokio::test]
            async fn sqlite_in_process() {
                let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
                super::$case(&gateway, &FakeApi::start().await).await;
            }

            #[tokio::test]
            async fn postgres_redis() {
                let gateway = Gateway::start(Backend::Postgres, BusKind::Redis).await;
                super::$case(&gateway, &FakeApi::start().await).await;
            }
        }
    )*};
}

on_both_stores!(
    pages_are_followed_and_only_finished_calls_are_imported,
    a_webhook_after_the_import_is_a_duplicate,
    an_import_after_the_webhook_is_a_duplicate_without_fetching_details,
    rate_limits_and_server_errors_are_retried,
    a_refused_key_stops_the_import_with_a_clear_error,
    an_interrupted_import_resumes_at_its_last_page,
    calls_not_done_are_imported_by_a_later_run,
    details_that_do_not_fit_change_nothing,
    the_poll_imports_settled_calls_and_respects_the_lease,
    the_poll_runs_until_shutdown,
);

fn agent_options() -> RunOptions {
    RunOptions {
        agent_ids: vec![AGENT.into()],
        ..RunOptions::default()
    }
}

async fn run(gateway: &Gateway, api: &FakeApi, options: &RunOptions) -> Report {
    let report = api
        .importer(gateway)
        .run(options, &mut |_| {})
        .await
        .unwrap();
    gateway.settle().await;
    report
}

/// `(imported, duplicate, pending, skipped, failed)` of a report.
fn tally(report: &Report) -> [u64; 5] {
    [
        Outcome::Imported,
        Outcome::Duplicate,
        Outcome::Pending,
        Outcome::Skipped,
        Outcome::Failed,
    ]
    .map(|o| report.of(o))
}

/// The conversations of the stored events.
async fn stored(gateway: &Gateway) -> Vec<String> {
    let mut ids: Vec<String> = gateway
        .events()
        .await
        .into_iter()
        .map(|e| e.conversation_id)
        .collect();
    ids.sort();
    ids
}

/// Where import `name` stands.
async fn state_of(gateway: &Gateway, name: &str) -> Option<ImportState> {
    gateway.state.store.import_state(name).await.unwrap()
}

async fn pending(gateway: &Gateway) -> Vec<String> {
    let mut ids: Vec<String> = gateway
        .state
        .store
        .pending_conversations(100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.conversation_id)
        .collect();
    ids.sort();
    ids
}

async fn pages_are_followed_and_only_finished_calls_are_imported(gateway: &Gateway, api: &FakeApi) {
    api.serve_fixture_pages().await;
    api.serve_finished_details().await;
    let options = RunOptions {
        window: Window {
            after: Some(1_767_200_000),
            before: None,
        },
        ..agent_options()
    };
    let report = run(gateway, api, &options).await;
    assert_eq!((report.pages, report.seen), (2, 5));
    assert_eq!(tally(&report), [2, 0, 2, 1, 0]);

    let lists: Vec<String> = api
        .requested()
        .await
        .into_iter()
        .filter(|p| p.starts_with(&format!("{LIST}?")))
        .collect();
    let query = format!(
        "page_size=3&agent_id={AGENT}&call_start_after_unix=1767200000&call_start_before_unix={NOW}"
    );
    assert_eq!(
        lists,
        [
            format!("{LIST}?{query}"),
            format!("{LIST}?{query}&cursor={CURSOR}")
        ]
    );
    assert_eq!(api.details_requests(FIXTURE_CALL).await, 1);
    assert_eq!(api.details_requests(OTHER_CALL).await, 1);
    for running in RUNNING {
        assert_eq!(api.details_requests(running).await, 0, "{running}");
    }

    let events = gateway.events().await;
    assert_eq!(stored(gateway).await, [OTHER_CALL, FIXTURE_CALL]);
    let row = events
        .iter()
        .find(|e| e.conversation_id == FIXTURE_CALL)
        .unwrap();
    assert_eq!(row.event_type, "post_call_transcription");
    assert_eq!(row.event_timestamp, 1_767_225_631, "the call's end");
    assert!(row.published_at.is_some(), "marked published");
    let imported: Value = serde_json::from_str(&row.payload).unwrap();
    let webhook: Value = serde_json::from_slice(&fixture("post_call_transcription.json")).unwrap();
    assert_eq!(imported["type"], webhook["type"]);
    assert_eq!(imported["data"], webhook["data"], "the webhook's data");
    WebhookEvent::parse(row.payload.as_bytes()).expect("the workers read it");
    let mut published: Vec<String> = gateway
        .published()
        .await
        .into_iter()
        .map(|m| match m {
            Message::EventAccepted {
                conversation_id, ..
            } => conversation_id,
            other => panic!("{other:?}"),
        })
        .collect();
    published.sort();
    assert_eq!(published, [OTHER_CALL, FIXTURE_CALL]);

    assert_eq!(pending(gateway).await, [RUNNING[1], RUNNING[0]]);
    let state = state_of(gateway, &format!("import:{AGENT}")).await;
    let finished = ImportState {
        name: format!("import:{AGENT}"),
        imported_until: Some(i64::try_from(NOW).unwrap()),
        ..ImportState::default()
    };
    assert_eq!(state, Some(finished));
}

async fn a_webhook_after_the_import_is_a_duplicate(gateway: &Gateway, api: &FakeApi) {
    let listed = page(&[(FIXTURE_CALL, "done", 1_767_225_600, 31)], None);
    api.serve_page(None, ok(listed), 5).await;
    api.serve_finished_details().await;
    let report = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&report), [1, 0, 0, 0, 0]);

    let (status, ack) = gateway
        .post_signed(&fixture("post_call_transcription.json"))
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack, json!({"status": "accepted", "duplicate": true}));
    assert_eq!(stored(gateway).await, [FIXTURE_CALL]);
    assert_eq!(gateway.published().await.len(), 1);

    let again = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&again), [0, 1, 0, 0, 0]);
    assert_eq!(
        api.details_requests(FIXTURE_CALL).await,
        1,
        "not fetched again"
    );
    assert_eq!(gateway.published().await.len(), 1);
}

async fn an_import_after_the_webhook_is_a_duplicate_without_fetching_details(
    gateway: &Gateway,
    api: &FakeApi,
) {
    let (status, ack) = gateway
        .post_signed(&fixture("post_call_transcription.json"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ack, json!({"status": "accepted", "duplicate": false}));
    api.serve_fixture_pages().await;
    api.serve_finished_details().await;
    let report = run(gateway, api, &agent_options()).await;
    assert_eq!(tally(&report), [1, 1, 2, 1, 0]);
    assert_eq!(api.details_requests(FIXTURE_CALL).await, 0);
    assert_eq!(stored(gateway).await, [OTHER_CALL, FIXTURE_CALL]);
    let webhook = fixture("post_call_transcription.json");
    let row = gateway.events().await;
    let first = row.iter().find(|e| e.conversation_id == FIXTURE_CALL);
    assert_eq!(
        first.unwrap().payload.as_bytes(),
        &webhook[..],
        "the webhook's row stays"
    );
    assert_eq!(gateway.published().await.len(), 2);
}

async fn rate_limits_and_server_errors_are_retried(gateway: &Gateway, api: &FakeApi) {
    let busy = ResponseTemplate::new(429)
        .insert_header("retry-after", "0")
        .set_body_raw(fixture("api_error_429.json"), "application/json");
    api.serve_page(None, busy, 1).await;
    let listed = page(&[(FIXTURE_CALL, "done", 1_767_225_600, 31)], None);
    api.serve_page(None, ok(listed), 1).await;
    api.serve_details(FIXTURE_CALL, ResponseTemplate::new(502), 1)
        .await;
    api.serve_finished_details().await;
    let report = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&report), [1, 0, 0, 0, 0]);
    assert_eq!(stored(gateway).await, [FIXTURE_CALL]);
    let retries = |reason| {
        memvox_testkit::counter(
            &gateway.registry,
            "memvox_elevenlabs_api_retries_total",
            &[("reason", reason)],
        )
    };
    assert_eq!((retries("rate_limited"), retries("server_error")), (1, 1));
    let imported = memvox_testkit::counter(
        &gateway.registry,
        "memvox_elevenlabs_import_conversations_total",
        &[("outcome", "imported")],
    );
    assert_eq!(imported, 1);
}

async fn a_refused_key_stops_the_import_with_a_clear_error(gateway: &Gateway, api: &FakeApi) {
    let refused =
        ResponseTemplate::new(401).set_body_raw(fixture("api_error_401.json"), "application/json");
    api.serve_page(None, refused.clone(), 1).await;
    let text = refused_run(gateway, api).await.to_string();
    assert!(
        text.contains("refused the API key (401: invalid_api_key"),
        "{text}"
    );
    assert_eq!(api.requested().await.len(), 1, "a 401 is not retried");

    let listed = page(&[(FIXTURE_CALL, "done", 1_767_225_600, 31)], None);
    api.serve_page(None, ok(listed), 1).await;
    api.serve_details(FIXTURE_CALL, refused, 1).await;
    refused_run(gateway, api).await;
    assert!(gateway.events().await.is_empty());
    assert!(pending(gateway).await.is_empty());
}

/// An import that the key's refusal stops; its error.
async fn refused_run(gateway: &Gateway, api: &FakeApi) -> ImportError {
    let error = api
        .importer(gateway)
        .run(&RunOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, ImportError::Api(ref e) if e.is_credentials()),
        "{error}"
    );
    error
}

async fn an_interrupted_import_resumes_at_its_last_page(gateway: &Gateway, api: &FakeApi) {
    api.serve_page(None, ok(fixture("api_conversations_page_1.json")), 1)
        .await;
    api.serve_page(Some(CURSOR), ResponseTemplate::new(500), 3)
        .await;
    api.serve_finished_details().await;
    let error = api
        .importer(gateway)
        .run(&agent_options(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(error.to_string().contains("3 attempts"), "{error}");
    assert_eq!(stored(gateway).await, [FIXTURE_CALL], "page 1 stays");
    let name = format!("import:{AGENT}");
    let state = state_of(gateway, &name).await.unwrap();
    assert_eq!(state.cursor.as_deref(), Some(CURSOR));
    assert_eq!(state.window_before, Some(i64::try_from(NOW).unwrap()));

    api.serve_page(
        Some(CURSOR),
        ok(fixture("api_conversations_page_2.json")),
        1,
    )
    .await;
    for running in RUNNING {
        api.serve_details(running, ok(details(running, "processing", NOW - 60)), 1)
            .await;
    }
    let report = run(gateway, api, &agent_options()).await;
    assert_eq!((report.pages, report.seen), (1, 4));
    assert_eq!(tally(&report), [1, 0, 2, 1, 0]);
    let first_pages = api
        .requested()
        .await
        .iter()
        .filter(|p| p.starts_with(&format!("{LIST}?")) && !p.contains("cursor="))
        .count();
    assert_eq!(first_pages, 1, "the first page is not read again");
    assert_eq!(stored(gateway).await, [OTHER_CALL, FIXTURE_CALL]);
    let state = state_of(gateway, &name).await.unwrap();
    assert_eq!((state.window_before, state.cursor), (None, None));
}

async fn calls_not_done_are_imported_by_a_later_run(gateway: &Gateway, api: &FakeApi) {
    let call = "conv_later01";
    let listed = page(&[(call, "processing", NOW - 120, 60)], None);
    api.serve_page(None, ok(listed), 1).await;
    api.serve_page(None, ok(page(&[], None)), 5).await;
    let first = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&first), [0, 0, 1, 0, 0]);
    assert_eq!(pending(gateway).await, [call]);
    assert!(gateway.events().await.is_empty());

    api.serve_details(call, ok(details(call, "done", NOW - 120)), 1)
        .await;
    let second = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&second), [1, 0, 0, 0, 0]);
    assert_eq!(stored(gateway).await, [call]);
    assert!(pending(gateway).await.is_empty());
}

async fn details_that_do_not_fit_change_nothing(gateway: &Gateway, api: &FakeApi) {
    let listed = page(
        &[
            ("conv_broken", "done", NOW - 900, 30),
            ("conv_mixed", "done", NOW - 800, 30),
        ],
        None,
    );
    api.serve_page(None, ok(listed), 1).await;
    api.serve_details("conv_broken", ok(r#"{"conversation_id":"conv_broken"}"#), 1)
        .await;
    api.serve_details(
        "conv_mixed",
        ok(details("conv_other", "done", NOW - 800)),
        1,
    )
    .await;
    let report = run(gateway, api, &RunOptions::default()).await;
    assert_eq!(tally(&report), [0, 0, 0, 0, 2]);
    assert!(gateway.events().await.is_empty());
    assert!(gateway.published().await.is_empty());
    assert!(pending(gateway).await.is_empty());
}

async fn the_poll_imports_settled_calls_and_respects_the_lease(gateway: &Gateway, api: &FakeApi) {
    let listed = page(
        &[
            ("conv_settled", "done", NOW - 3_600, 60),
            ("conv_just_ended", "done", NOW - 200, 100),
            ("conv_running", "in-progress", NOW - 30, 30),
        ],
        None,
    );
    api.serve_page(None, ok(listed), 5).await;
    api.serve_details(
        "conv_settled",
        ok(details("conv_settled", "done", NOW - 3_600)),
        5,
    )
    .await;
    let importer = api.importer(gateway);
    let report = importer.poll(&poll_settings()).await.unwrap().unwrap();
    gateway.settle().await;
    assert_eq!(
        report.seen, 2,
        "the call that just ended is left to its webhook"
    );
    assert_eq!(tally(&report), [1, 0, 1, 0, 0]);
    assert_eq!(stored(gateway).await, ["conv_settled"]);
    assert_eq!(pending(gateway).await, ["conv_running"]);
    let after = NOW - 86_400;
    assert_eq!(
        api.requested().await[0],
        format!("{LIST}?page_size=3&agent_id={AGENT}&call_start_after_unix={after}")
    );
    assert_eq!(api.details_requests("conv_just_ended").await, 0);

    let requests = api.requested().await.len();
    assert!(
        importer.poll(&poll_settings()).await.unwrap().is_none(),
        "lease held"
    );
    assert_eq!(api.requested().await.len(), requests, "nothing asked");
}

async fn the_poll_runs_until_shutdown(gateway: &Gateway, api: &FakeApi) {
    let listed = page(&[("conv_polled", "done", NOW - 3_600, 60)], None);
    api.serve_page(None, ok(listed), 5).await;
    api.serve_details(
        "conv_polled",
        ok(details("conv_polled", "done", NOW - 3_600)),
        5,
    )
    .await;
    let shutdown = CancellationToken::new();
    let mut settings = api.settings();
    settings.poll = poll_settings();
    let task = memvox_gateway::import::poll_task(
        &gateway.state,
        &settings,
        &gateway.registry,
        shutdown.clone(),
    )
    .unwrap()
    .expect("enabled");
    let task = tokio::spawn(task);
    let polls = || {
        memvox_testkit::counter(
            &gateway.registry,
            "memvox_elevenlabs_poll_runs_total",
            &[("result", "ok")],
        )
    };
    while polls() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    task.await.unwrap();
    gateway.settle().await;
    assert_eq!(stored(gateway).await, ["conv_polled"]);
}
