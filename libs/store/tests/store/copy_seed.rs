//! What the copy suite copies and how it compares: a store with rows in every table, what it
//! answers through the memory-query path, and every table of two SQLite files compared with
//! plain SQL.

use std::path::Path;

use memvox_core::{LinkKind, MemoryLink, Provenance, Sector};
use memvox_store::{
    EventStatus, ImportState, MemoryEdit, MemoryFilter, NewEvent, PendingConversation, Store,
    StoreSettings, ToolInvocation, copied_tables,
};
use memvox_testkit::TABLES;
use sqlx::{Connection, SqliteConnection};

use crate::{
    bulk::users,
    contract::{NOW, call, memory},
};

/// Tables every store has that a copy does not copy: migration bookkeeping, SQLite's id
/// counters and the version clock (both advanced instead, compared apart), the copy's own.
const NOT_COPIED: [&str; 4] = [
    "_sqlx_migrations",
    "sqlite_sequence",
    "vectors_clock",
    "store_copy_progress",
];

/// A store with something in every table: bulk-loaded users with vectors and links, recorded
/// calls with their events (one dead-lettered), facts with history, a supersession, recall,
/// logged tool calls, an erased caller's tombstones, and ElevenLabs imports (one under way, a
/// poll lease, a pending conversation).
pub async fn seed(store: &dyn Store) {
    store.bulk_load(&users(), NOW).await.unwrap();
    for (i, user) in ["u1", "u2", "gone"].iter().enumerate() {
        let conversation = format!("conv_{i}");
        let event = store
            .record_event(&NewEvent {
                event_type: "post_call_transcription".into(),
                conversation_id: conversation.clone(),
                event_timestamp: NOW / 1000,
                payload: format!(r#"{{"data":{{"conversation_id":"{conversation}"}}}}"#),
                received_at: NOW,
                traceparent: None,
            })
            .await
            .unwrap();
        store
            .record_call(&call(&conversation, user, 6), NOW)
            .await
            .unwrap();
        let status = if i == 1 {
            EventStatus::DeadLetter
        } else {
            EventStatus::Completed
        };
        store
            .finish_event(event.id, status, None, NOW + 1)
            .await
            .unwrap();
    }
    let mut sourced = memory("u1", "Prefers morning appointments", Sector::Semantic, 0.6);
    sourced.provenance = Some(Provenance {
        conversation_id: "conv_0".into(),
        turn_indexes: vec![1, 3],
    });
    let old = store.insert_memory(&sourced, NOW).await.unwrap();
    let new = store
        .insert_memory(
            &memory("u1", "Prefers evening appointments", Sector::Semantic, 0.7),
            NOW,
        )
        .await
        .unwrap();
    let tea = store
        .insert_memory(
            &memory("u1", "Drinks green tea", Sector::Emotional, 0.4),
            NOW,
        )
        .await
        .unwrap();
    store
        .supersede_memory("u1", old.id, new.id, NOW + 1)
        .await
        .unwrap();
    let edit = MemoryEdit {
        content: Some("Prefers evening appointments after six".into()),
        ..MemoryEdit::default()
    };
    store
        .edit_memory("u1", new.id, &edit, NOW + 2)
        .await
        .unwrap();
    let vectors = vec![
        (old.id, vec![1.0, 0.0, 0.0, 0.0]),
        (new.id, vec![0.9, 0.1, 0.0, 0.0]),
        (tea.id, vec![0.0, 0.0, 0.0, 1.0]),
    ];
    store.store_embeddings(&vectors, NOW + 2).await.unwrap();
    let link = MemoryLink {
        source: new.id,
        target: tea.id,
        weight: 0.25,
        kind: LinkKind::Automatic,
    };
    store.upsert_links(&[link], NOW + 2).await.unwrap();
    store
        .reinforce_memories("u1", &[tea.id], 0.1, NOW + 3)
        .await
        .unwrap();
    let tool_call = ToolInvocation {
        tool_name: "memory_query".into(),
        conversation_id: Some("conv_0".into()),
        user_id: Some("u1".into()),
        request_params: serde_json::json!({"query": "appointments"}),
        response_data: Some(serde_json::json!({"memories": []})),
        latency_ms: 3,
        success: true,
        error_message: None,
        created_at: NOW + 3,
    };
    let failed = ToolInvocation {
        success: false,
        response_data: None,
        error_message: Some("timeout".into()),
        ..tool_call.clone()
    };
    store
        .log_tool_invocations(&[tool_call, failed])
        .await
        .unwrap();
    store.erase_user("gone", NOW + 4).await.unwrap();
    let import = ImportState {
        name: "import:agent_1".into(),
        window_after: Some(NOW / 1000 - 86_400),
        window_before: Some(NOW / 1000),
        cursor: Some("cursor_2".into()),
        imported_until: None,
    };
    store.save_import_state(&import, NOW + 5).await.unwrap();
    assert!(
        store
            .claim_import_lease("poll", NOW, NOW + 60_000)
            .await
            .unwrap()
    );
    let pending = PendingConversation {
        conversation_id: "conv_running".into(),
        agent_id: "agent_1".into(),
        first_seen_at: NOW + 5,
    };
    store.add_pending_conversations(&[pending]).await.unwrap();
}

/// The settings of the SQLite file `path`.
pub fn sqlite(path: &Path) -> StoreSettings {
    StoreSettings {
        url: format!("sqlite://{}", path.display()),
        ..StoreSettings::default()
    }
}

/// What the memory-query path answers about `u1`: vector search over both layers, and words.
pub async fn answers(store: &dyn Store) -> String {
    let filter = MemoryFilter::both_layers();
    let query = [0.95, 0.05, 0.0, 0.0];
    let dense = store
        .search_memories("u1", &query, &filter, 10)
        .await
        .unwrap();
    let lexical = store
        .search_lexical("u1", "evening tea", &query, &filter, 10, 0)
        .await
        .unwrap();
    let view = store.user_view("bulk_u1").await.unwrap();
    let bulk = view.search(&[1.0, 0.0, 0.0, 0.0], &filter, 10).unwrap();
    format!("{dense:?}\n{lexical:?}\n{bulk:?}")
}

/// Asserts that every table of the SQLite files `a` and `b` holds the same rows, with plain
/// SQL (`EXCEPT` both ways), and that the copy covers every table the schema has.
pub async fn assert_same_tables(a: &Path, b: &Path) {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", b.display()))
        .await
        .unwrap();
    sqlx::query("ATTACH DATABASE ?1 AS original")
        .bind(a.display().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM original.sqlite_master WHERE type = 'table' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut expected: Vec<String> = copied_tables()
        .into_iter()
        .chain(NOT_COPIED)
        .map(str::to_owned)
        .collect();
    expected.sort();
    assert_eq!(
        tables, expected,
        "the copy covers every table of the schema"
    );
    for table in TABLES.iter().chain(&[
        "erasure_tombstones",
        "sqlite_sequence",
        "elevenlabs_imports",
        "elevenlabs_pending_conversations",
    ]) {
        let count = |side: &str| format!("SELECT COUNT(*) FROM {side}.{table}");
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count("original")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(rows > 0, "the seed leaves {table} empty");
        for (x, y) in [("main", "original"), ("original", "main")] {
            let sql = format!(
                "SELECT COUNT(*) FROM (SELECT * FROM {x}.{table} EXCEPT SELECT * FROM {y}.{table})"
            );
            let differ: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(differ, 0, "{table}: rows of {x} missing from {y}");
        }
        let copied: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count("main")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(copied, rows, "{table}");
    }
    let clocks: Vec<i64> = sqlx::query_scalar(
        "SELECT value FROM original.vectors_clock UNION ALL SELECT value FROM main.vectors_clock",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        clocks[1] >= clocks[0],
        "the clock never goes back: {clocks:?}"
    );
}
