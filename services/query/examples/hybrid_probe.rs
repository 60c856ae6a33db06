//! Does lexical search help? Recall of the query service's own ranking with the lexical term
//! off and on, on two probes, with the bundled static embedder and a SQLite store.
//!
//! - `probes/retrieval` (paraphrases: 127 questions sharing few or no words with their fact),
//!   each of the ten callers' facts stored as that caller's memories, searched per caller as
//!   memvox does;
//! - `probes/lexical` (38 questions naming an order number, policy, product, medicine or
//!   person), one caller's 40 facts, alone and among generated look-alike memories (other
//!   order, ticket, invoice, policy and flight numbers), as a caller with a long history has.
//!
//! Each question goes through `retrieval::rank` (vector and lexical candidates, composite
//! score); the gold fact's position among the top 10 gives recall@1, recall@5 and MRR@10.
//!
//! ```text
//! cargo run --release -p memvox-query --example hybrid_probe [-- --distractors 5000]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use memvox_ai::eval::ProbeSet;
use memvox_ai::{Embedder, EmbedderSettings, ExtractiveSummarizer, build_embedder};
use memvox_bus::InProcessBus;
use memvox_cache::{CacheSettings, Caching};
use memvox_core::{MemoryId, NewMemory, Sector};
use memvox_query::QuerySettings;
use memvox_query::question::Question;
use memvox_query::{QueryState, retrieval};
use memvox_store::{EmbeddingSpace, MemoryFilter, SqliteStore, Store, StoreSettings};

const NOW: i64 = 1_767_225_645_000;
const CALLERS: [&str; 10] = [
    "Maria", "Daniel", "Priya", "Tom", "Chen", "Fatima", "Lukas", "Sofia", "James", "Aisha",
];

/// One probe loaded into a store: per question, its user, text and gold memory.
struct Loaded {
    state: QueryState,
    questions: Vec<(String, String, MemoryId)>,
    _dir: tempfile::TempDir,
}

async fn load(
    embedder: &Arc<dyn Embedder>,
    set: &ProbeSet,
    owner: impl Fn(&str) -> String,
    extra: &[String],
) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let space = EmbeddingSpace {
        model: embedder.model_id().to_owned(),
        dimension: embedder.dimension(),
    };
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &dir.path().join("probe.db"),
            &StoreSettings::default(),
            space,
            memvox_crypto::Keyring::from_key_set(memvox_crypto::KeySet::generate()),
        )
        .await
        .unwrap(),
    );
    let mut texts: Vec<(String, String)> = set
        .facts
        .iter()
        .map(|(_, fact)| (owner(fact), fact.clone()))
        .collect();
    let first_owner = texts[0].0.clone();
    texts.extend(extra.iter().map(|t| (first_owner.clone(), t.clone())));
    let mut ids = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(500) {
        let vectors = embedder
            .embed(&chunk.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>())
            .await
            .unwrap();
        let mut stored = Vec::with_capacity(chunk.len());
        for ((user, text), vector) in chunk.iter().zip(vectors) {
            let memory = NewMemory {
                user_id: user.clone(),
                content: text.clone(),
                sector: Sector::Semantic,
                salience: 0.5,
                provenance: None,
            };
            let id = store.insert_memory(&memory, NOW).await.unwrap().id;
            ids.push(id);
            stored.push((id, vector));
        }
        store.store_embeddings(&stored, NOW).await.unwrap();
    }
    let questions = set
        .questions
        .iter()
        .map(|(gold, question)| (texts[*gold].0.clone(), question.clone(), ids[*gold]))
        .collect();
    let caching = Caching::new(
        CacheSettings {
            enabled: false,
            ..CacheSettings::default()
        },
        None,
        None,
        memvox_telemetry::Metrics::new().registry(),
    )
    .unwrap();
    let state = QueryState::new(
        store,
        Arc::new(InProcessBus::new(1_000)),
        embedder.clone(),
        Arc::new(ExtractiveSummarizer::default()),
        QuerySettings::default(),
        &caching,
    )
    .unwrap()
    .with_clock(memvox_query::Clock::fixed(NOW));
    Loaded {
        state,
        questions,
        _dir: dir,
    }
}

async fn score(loaded: &mut Loaded, lexical_weight: f64) -> (f64, f64, f64) {
    loaded.state.weights.lexical = lexical_weight;
    let (mut at1, mut at5, mut mrr) = (0.0, 0.0, 0.0);
    for (user, question, gold) in &loaded.questions {
        let question = Question::read(question);
        let vector = loaded
            .state
            .embedder
            .embed_one(&question.embedded)
            .await
            .unwrap();
        let view = loaded.state.store.user_view(user).await.unwrap();
        let ranked = retrieval::rank(
            &loaded.state,
            &view,
            user,
            &question,
            &vector,
            &MemoryFilter::default(),
            10,
        )
        .await
        .unwrap();
        if let Some(position) = ranked.iter().position(|r| r.memory.id == *gold) {
            at1 += f64::from(u8::from(position == 0));
            at5 += f64::from(u8::from(position < 5));
            mrr += 1.0 / (position + 1) as f64;
        }
    }
    let n = loaded.questions.len() as f64;
    (at1 / n, at5 / n, mrr / n)
}

/// Look-alike memories: the kinds of records a long-time caller accumulates.
fn distractors(count: usize) -> Vec<String> {
    let mut x: u64 = 12_345;
    let mut next = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    (0..count)
        .map(|i| {
            let (a, b) = (next(), next());
            match i % 5 {
                0 => format!(
                    "Order {} was {}.",
                    10_000 + a % 90_000,
                    [
                        "delivered late",
                        "refunded",
                        "lost in transit",
                        "shipped",
                        "cancelled"
                    ][b % 5]
                ),
                1 => format!(
                    "Ticket SR-{} about the {} is {}.",
                    10_000 + a % 90_000,
                    [
                        "billing error",
                        "app crash",
                        "login problem",
                        "slow internet"
                    ][b % 4],
                    ["open", "closed", "escalated"][b % 3]
                ),
                2 => format!(
                    "Invoice INV-2024-{:04} was {}.",
                    a % 10_000,
                    ["paid", "disputed", "paid late", "voided"][b % 4]
                ),
                3 => format!(
                    "The policy number HX-{:04}-{} is {}.",
                    a % 10_000,
                    ["A", "B", "C"][b % 3],
                    ["active", "lapsed", "pending"][b % 3]
                ),
                _ => format!(
                    "Flight {} {} to {} was {}.",
                    ["UA", "DL", "AA", "BA"][a % 4],
                    100 + b % 9_000,
                    ["Chicago", "Atlanta", "Denver", "London"][b % 4],
                    ["booked", "cancelled", "delayed"][a % 3]
                ),
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let many: usize = args
        .iter()
        .position(|a| a == "--distractors")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(5_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../probes");
    let embedder = build_embedder(&EmbedderSettings::default()).expect("static model");
    let paraphrases = ProbeSet::load(&root.join("retrieval")).unwrap();
    let exact = ProbeSet::load(&root.join("lexical")).unwrap();
    let per_caller = |fact: &str| {
        CALLERS
            .iter()
            .find(|name| fact.contains(*name))
            .map_or("nobody", |name| name)
            .to_owned()
    };
    let one_caller = |_: &str| "caller".to_owned();
    let mut probes = vec![
        (
            "paraphrases, per caller".to_owned(),
            load(&embedder, &paraphrases, per_caller, &[]).await,
        ),
        (
            "exact words, 40 memories".to_owned(),
            load(&embedder, &exact, one_caller, &[]).await,
        ),
        (
            format!("exact words, {} memories", 40 + many),
            load(&embedder, &exact, one_caller, &distractors(many)).await,
        ),
    ];
    println!("| probe | questions | lexical weight | R@1 | R@5 | MRR@10 |");
    println!("|---|---|---|---|---|---|");
    for (name, loaded) in &mut probes {
        for weight in [0.0, 0.1, 0.15, 0.25] {
            let (at1, at5, mrr) = score(loaded, weight).await;
            println!(
                "| {name} | {} | {weight} | {at1:.3} | {at5:.3} | {mrr:.3} |",
                loaded.questions.len()
            );
        }
    }
}
