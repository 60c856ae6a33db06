//! Write-path benchmark on the embedded defaults (SQLite, in-process bus, bundled static model,
//! rule extractor), both workers running as in `memvox serve`:
//!
//! - `call_to_queryable`: one call at a time (each from a new caller, so its facts are new
//!   memories citing it), from the raw event accepted (row written and message published, as the
//!   gateway does) until vector search finds its memories;
//! - `sustained`: a burst of calls accepted back to back, until the last one is embedded.
//!
//! Run: `cargo bench -p memvox --bench pipeline` (`PIPELINE_CALLS=N` for the burst size). The
//! store is encrypted as by default; `MEMVOX_BENCH_ENCRYPTION=off` measures plaintext. Traces
//! are exported as `memvox serve` exports them when the `OTEL_*` variables say so
//! (`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`), to measure their cost.
//! Prints JSON with p50/p95/p99/max in milliseconds, calls per second, and the workers' mean
//! time per stage (from their `*_stage_seconds` metrics, over both phases). Beside the burst's
//! rate it prints a bare reference measured in the same run (the same payloads merely inserted
//! by one SQLite connection, a transaction each) and the ratio of the two, since this machine
//! is shared and its speed varies from run to run.

use std::time::{Duration, Instant};

use memvox::Config;
use memvox::Memvox;
use memvox_bus::{EVENTS, Envelope, Message};
use memvox_store::{EventStatus, MemoryFilter, NewEvent};

const FIXTURE: &str = include_str!("../../../fixtures/elevenlabs/post_call_transcription.json");

/// The number of caller `user_id` (a new one per caller: the number decides who a call is
/// with).
fn number_of(user_id: &str) -> String {
    let tag = user_id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    format!("+1555{:010}", tag % 10_000_000_000)
}

/// The user the worker gives `user_id`'s calls: the guest of their number.
fn guest_of(app: &Memvox, user_id: &str) -> String {
    app.identities.guest_user_id(None, &number_of(user_id))
}

fn payload(conversation_id: &str, user_id: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(FIXTURE).expect("fixture parses");
    let number = number_of(user_id);
    value["data"]["conversation_id"] = conversation_id.into();
    // Each call is from its own caller, and says so everywhere the fixture names a user (its
    // `mem_usr_8c1f2a` would make every call claim one user, so the worker would commit each
    // alone, as it must for one user's calls). The claims are unverified, so the caller is
    // still the guest of their number.
    value["data"]["user_id"] = user_id.into();
    let client = &mut value["data"]["conversation_initiation_client_data"];
    client["user_id"] = user_id.into();
    client["dynamic_variables"]["memory_user_id"] = user_id.into();
    value["data"]["metadata"]["phone_call"]["external_number"] = number.as_str().into();
    value["data"]["conversation_initiation_client_data"]["dynamic_variables"]["system__caller_id"] =
        number.into();
    value["data"]["transcript"][5]["message"] = format!(
        "Mornings work best for callbacks. I'm allergic to peanuts and my name is Dana {user_id}."
    )
    .into();
    // Real calls are longer than the fixture: `PIPELINE_EXTRA_TURNS` more exchanges (default
    // 10, about the probe's mean of 30 turns and 15 caller turns a call), each one more episode.
    let extra: usize = std::env::var("PIPELINE_EXTRA_TURNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    if let Some(turns) = value["data"]["transcript"].as_array_mut() {
        let start = turns.len();
        for i in 0..extra {
            turns.push(serde_json::json!({
                "role": "agent",
                "message": format!("Is there anything else about the order number {i}{user_id}?"),
                "time_in_call_secs": 60 + i * 10,
            }));
            turns.push(serde_json::json!({
                "role": "user",
                "message": format!("Yes, the parcel {i} should go to the side door on Elm Road, number {}.", start + i),
                "time_in_call_secs": 65 + i * 10,
            }));
        }
    }
    value.to_string()
}

async fn accept(app: &Memvox, conversation_id: &str, user_id: &str) -> i64 {
    let recorded = app
        .store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: conversation_id.into(),
            event_timestamp: 1_767_225_645,
            payload: payload(conversation_id, user_id),
            received_at: 0,
            traceparent: None,
        })
        .await
        .expect("record event");
    let message = Message::EventAccepted {
        event_id: recorded.id,
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .expect("publish");
    recorded.id
}

/// Waits until a search over the user's memories finds one from `conversation_id`.
async fn wait_queryable(app: &Memvox, user_id: &str, conversation_id: &str, probe: &[f32]) {
    loop {
        let hits = app
            .store
            .search_memories(user_id, probe, &MemoryFilter::default(), 20)
            .await
            .expect("search");
        if hits.iter().any(|h| {
            h.memory
                .provenance
                .as_ref()
                .is_some_and(|p| p.conversation_id == conversation_id)
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Mean milliseconds and count per stage of every `*_stage_seconds` histogram, from the app's
/// registry (both workers' metrics), to see where a call's time goes.
fn stage_report(app: &Memvox) -> serde_json::Value {
    let mut report = serde_json::Map::new();
    for family in app.metrics.registry().gather() {
        if !family.name().ends_with("_stage_seconds") {
            continue;
        }
        let mut stages = serde_json::Map::new();
        for metric in family.get_metric() {
            let stage = metric
                .get_label()
                .iter()
                .find(|l| l.name() == "stage")
                .map_or("?", |l| l.value());
            let histogram = metric.get_histogram();
            let count = histogram.get_sample_count();
            stages.insert(
                stage.to_owned(),
                serde_json::json!({
                    "count": count,
                    "mean_ms": histogram.get_sample_sum() * 1000.0 / count.max(1) as f64,
                    "total_s": histogram.get_sample_sum(),
                }),
            );
        }
        report.insert(family.name().to_owned(), stages.into());
    }
    report.into()
}

/// The bare reference, measured in the same run because the machine is shared and noisy: how
/// many of the same payloads per second one SQLite connection (WAL, `synchronous = NORMAL`, as
/// the store opens it) merely inserts, one transaction each, with no memvox code around it.
async fn bare_inserts_per_second(dir: &std::path::Path, calls: usize) -> f64 {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("bare.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("bare database");
    sqlx::query(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, conversation_id TEXT UNIQUE, payload TEXT)",
    )
    .execute(&pool)
    .await
    .expect("table");
    let payloads: Vec<(String, String)> = (0..calls)
        .map(|i| {
            let conversation = format!("conv_bare_{i}");
            let body = payload(&conversation, &format!("bare_user_{i}"));
            (conversation, body)
        })
        .collect();
    let started = Instant::now();
    for (conversation, body) in &payloads {
        sqlx::query("INSERT INTO events (conversation_id, payload) VALUES ($1, $2)")
            .bind(conversation)
            .bind(body)
            .execute(&pool)
            .await
            .expect("insert");
    }
    calls as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.shared.store.url = format!("sqlite://{}/bench.db", dir.path().display());
    config.embedder.model_path = Some(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/static-minilm-256"
        )
        .into(),
    );
    config.shared.log.filter = "warn".into();
    let _traces = memvox_telemetry::init_logging(&config.shared.log).expect("logging");
    config.shared.encryption.enabled =
        std::env::var("MEMVOX_BENCH_ENCRYPTION").map_or(true, |v| v != "off");
    let app = Memvox::build(config).await.expect("app");
    let workers = {
        let app = app.clone();
        tokio::spawn(async move { tokio::join!(app.run_extraction(), app.run_embedding()) })
    };
    let probe = app
        .embedder
        .embed(&["when to call back"])
        .await
        .expect("embed")[0]
        .clone();

    let rounds = 200;
    let mut latencies = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let conversation = format!("conv_latency_{i}");
        let user = format!("user_{i}");
        let started = Instant::now();
        accept(&app, &conversation, &user).await;
        wait_queryable(&app, &guest_of(&app, &user), &conversation, &probe).await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);

    let calls: usize = std::env::var("PIPELINE_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let started = Instant::now();
    let mut last = 0;
    for i in 0..calls {
        last = accept(&app, &format!("conv_burst_{i}"), &format!("burst_user_{i}")).await;
    }
    let accepted = started.elapsed();
    loop {
        let event = app
            .store
            .get_event(last)
            .await
            .expect("event")
            .expect("row");
        if event.status == EventStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let last_user = format!("burst_user_{}", calls - 1);
    wait_queryable(
        &app,
        &guest_of(&app, &last_user),
        &format!("conv_burst_{}", calls - 1),
        &probe,
    )
    .await;
    let elapsed = started.elapsed();
    app.shutdown.cancel();
    let _ = workers.await;
    let bare = bare_inserts_per_second(dir.path(), calls).await;
    let calls_per_second = calls as f64 / elapsed.as_secs_f64();

    let report = serde_json::json!({
        "machine": format!("{} cores", std::thread::available_parallelism().map_or(0, usize::from)),
        "call_to_queryable_ms": {
            "rounds": rounds,
            "p50": percentile(&latencies, 0.50),
            "p95": percentile(&latencies, 0.95),
            "p99": percentile(&latencies, 0.99),
            "max": latencies.last(),
        },
        "sustained": {
            "calls": calls,
            "accept_seconds": accepted.as_secs_f64(),
            "total_seconds": elapsed.as_secs_f64(),
            "calls_per_second": calls_per_second,
            "bare_inserts_per_second": bare,
            "ratio_to_bare": calls_per_second / bare,
        },
        "stages": stage_report(&app),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
