//! Lexical search on both backends, answered from the per-user in-memory postings: it finds
//! what a memory's words say (names, numbers, rare words, memories without a vector yet), the
//! same set an exact reference over the memories' words finds, honours the filter, sees every
//! write of any process at the next search, and answers the same after a reload.

use std::collections::BTreeSet;

use memvox_core::{
    MemoryId, MemoryState, NewMemory, Sector, episode::searchable_text, text::lexical_terms,
};
use memvox_store::{LexicalSearch, MemoryEdit, MemoryFilter, Store};
use memvox_testkit::{TestStore, space};

use crate::support::{with_harness, with_store};

const NOW: i64 = 1_767_225_645_000;

fn memory(user_id: &str, content: &str, sector: Sector, salience: f64) -> NewMemory {
    NewMemory {
        user_id: user_id.into(),
        content: content.into(),
        sector,
        salience,
        provenance: None,
    }
}

async fn lexical_search_finds_exact_words_filters_and_isolates(harness: &TestStore) {
    let store = harness.store();
    let add = |user: &'static str, content: &'static str| {
        let store = store.clone();
        async move {
            store
                .insert_memory(&memory(user, content, Sector::Semantic, 0.5), NOW)
                .await
                .unwrap()
        }
    };
    let wrong = add("u1", "Order 58213 was delivered to the wrong address").await;
    let waiting = add("u1", "Order 58231 is waiting for a part").await;
    let refunded = add("u1", "Order 60417 was refunded").await;
    let email = add("u1", "Prefers email").await;
    let paused = add("u1", "Order 58213 needs a second look").await;
    let other = add("u2", "Order 58213 belongs to someone else").await;
    store
        .edit_memory(
            "u1",
            paused.id,
            &MemoryEdit {
                state: Some(MemoryState::Paused),
                ..MemoryEdit::default()
            },
            NOW,
        )
        .await
        .unwrap();
    let vector = vec![0.5_f32; 4];
    store
        .store_embeddings(
            &[
                (wrong.id, vector.clone()),
                (waiting.id, vec![1.0, 0.0, 0.0, 0.0]),
                (email.id, vector.clone()),
                (other.id, vector.clone()),
            ],
            NOW,
        )
        .await
        .unwrap();
    let query = vec![1.0_f32, 0.0, 0.0, 0.0];
    let found = store
        .search_lexical(
            "u1",
            "What happened to order 58213?",
            &query,
            &MemoryFilter::default(),
            10,
            0,
        )
        .await
        .unwrap();
    // Query words: happen, order, 58213. Five u1 memories are indexed (the paused one too).
    assert_eq!(found.memories, 5);
    assert_eq!(found.document_frequency, [0, 4, 2]);
    let ids: Vec<_> = found.hits.iter().map(|h| h.memory.id).collect();
    assert_eq!(ids[0], wrong.id, "the memory with the number ranks first");
    let mut rest = ids[1..].to_vec();
    rest.sort_unstable();
    assert_eq!(
        rest,
        [waiting.id, refunded.id],
        "paused, other users' and wordless excluded"
    );
    assert_eq!(found.hits[0].matched, [1, 2]);
    assert!((found.hits[0].similarity - 0.5).abs() < 1e-6);
    let hit = |id| found.hits.iter().find(|h| h.memory.id == id).unwrap();
    assert!((hit(waiting.id).similarity - 1.0).abs() < 1e-6);
    assert_eq!(hit(refunded.id).similarity, 0.0, "no vector yet");
    assert_eq!(hit(refunded.id).matched, [1]);

    let only_email = MemoryFilter {
        sectors: vec![Sector::Emotional],
        ..MemoryFilter::default()
    };
    let filtered = store
        .search_lexical("u1", "order 58213", &query, &only_email, 10, 0)
        .await
        .unwrap();
    assert!(filtered.hits.is_empty(), "the sector filter applies");
    let nothing = store
        .search_lexical("u1", "is it the", &query, &MemoryFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(nothing, memvox_store::LexicalSearch::default());
    let small = store
        .search_lexical("u1", "order 58213", &query, &MemoryFilter::default(), 10, 5)
        .await
        .unwrap();
    assert_eq!(
        (small.memories, small.hits.len()),
        (3, 0),
        "fewer embedded memories (3) than asked for (5): not searched"
    );

    store
        .edit_memory(
            "u1",
            waiting.id,
            &MemoryEdit {
                content: Some("Prefers phone calls".into()),
                ..MemoryEdit::default()
            },
            NOW + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        store.memory_page("u1", None, 1_000).await.unwrap().1,
        [(
            waiting.id,
            "Order 58231 is waiting for a part".to_owned(),
            NOW + 1
        )],
        "an edit keeps the old text"
    );
    assert!(store.delete_memory("u1", wrong.id).await.unwrap());
    let after = store
        .search_lexical(
            "u1",
            "order 58213 phone",
            &query,
            &MemoryFilter::default(),
            10,
            0,
        )
        .await
        .unwrap();
    let ids: Vec<_> = after.hits.iter().map(|h| h.memory.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&waiting.id) && ids.contains(&refunded.id));
    assert_eq!(after.memories, 4);
    assert_eq!(
        after.document_frequency,
        [2, 1, 1],
        "counts follow the edit and the deletion"
    );

    harness.execute("DELETE FROM memory_terms").await;
    let reopened = harness.reopen(space()).await.unwrap();
    let again = reopened
        .search_lexical("u2", "58213", &query, &MemoryFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(
        again.hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        [other.id],
        "memories written before the index are indexed on open"
    );
}

/// A heavy caller's word counts come from their cached index, and follow every write at once:
/// a new memory is counted and found before it has a vector.
async fn word_counts_follow_writes<'a>(store: &'a dyn Store) {
    let mut ids = Vec::new();
    for i in 0..250 {
        let content = format!("Note number {i} about the garden");
        let stored = store
            .insert_memory(&memory("u1", &content, Sector::Semantic, 0.5), NOW)
            .await
            .unwrap();
        ids.push((stored.id, vec![0.5_f32; 4]));
    }
    store.store_embeddings(&ids, NOW).await.unwrap();
    let query = vec![0.5_f32; 4];
    let search = |text: &'static str| {
        let query = query.clone();
        async move {
            store
                .search_lexical("u1", text, &query, &MemoryFilter::default(), 10, 100)
                .await
                .unwrap()
        }
    };
    let first = search("invoice garden").await;
    assert_eq!(
        (first.memories, first.document_frequency.clone()),
        (250, vec![0, 250])
    );
    assert_eq!(
        search("invoice garden").await,
        first,
        "the same answer from the cached index"
    );

    let version = |store: &'a dyn Store| async move {
        store.user_version("u1").await.unwrap().unwrap().vectors
    };
    let unchanged = version(store).await;
    let invoice = store
        .insert_memory(
            &memory("u1", "Invoice 4411 is overdue", Sector::Semantic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    assert_ne!(
        version(store).await,
        unchanged,
        "new tokens move the index's version"
    );
    let after = search("invoice garden").await;
    assert_eq!(
        (after.memories, after.document_frequency),
        (251, vec![1, 250])
    );
    assert_eq!(
        after.hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        [invoice.id],
        "found before the embedding worker gives it a vector"
    );
    assert_eq!(after.hits[0].similarity, 0.0);
}

const NAMES: [&str; 5] = ["Priya", "Okonkwo", "Dmitri", "Saoirse", "Thandiwe"];
const THINGS: [&str; 10] = [
    "umbrella", "bicycle", "invoice", "kettle", "passport", "guitar", "lantern", "ticket",
    "blanket", "wallet",
];
const RARE: [&str; 6] = [
    "penicillin",
    "zanzibar",
    "xylophone",
    "anchovies",
    "origami",
    "kilimanjaro",
];

/// Memory `i` of the reference user: a name, a thing, an order number, and now and then a
/// rare word.
fn reference_content(i: usize) -> String {
    let rare = if i % 50 == 7 { RARE[i / 50] } else { "" };
    format!(
        "{} left the {} with order {} {rare}",
        NAMES[i % 5],
        THINGS[i % 10],
        58_000 + i % 37
    )
}

/// Most memories a word looked up may be in (`lexical::MAX_SEARCHED_FREQUENCY`): "left" and
/// "order", in every reference memory, find nothing but count for what the others find.
const SEARCHED_FREQUENCY: usize = 200;

/// The memories of `contents` (id, text, sector, superseded) that hold a word of `query` in at
/// most [`SEARCHED_FREQUENCY`] memories and pass `filter`, with the indexes of the query words
/// each holds, and each word's document frequency: what the lexical search must find, computed
/// here from the words themselves.
fn reference(
    contents: &[(MemoryId, String, Sector, bool)],
    query: &str,
    filter: &MemoryFilter,
) -> (Vec<usize>, BTreeSet<(MemoryId, Vec<usize>)>) {
    let words = lexical_terms(query);
    let terms: Vec<Vec<String>> = contents
        .iter()
        .map(|(_, text, ..)| lexical_terms(searchable_text(text)))
        .collect();
    let frequency: Vec<usize> = words
        .iter()
        .map(|word| terms.iter().filter(|t| t.contains(word)).count())
        .collect();
    let found = contents
        .iter()
        .zip(&terms)
        .filter(|((_, _, sector, superseded), _)| {
            filter.admits(
                memvox_core::MemoryKind::Fact,
                *sector,
                MemoryState::Active,
                *superseded,
                NOW,
            )
        })
        .map(|((id, ..), terms)| {
            let matched: Vec<usize> = (0..words.len())
                .filter(|&i| terms.contains(&words[i]))
                .collect();
            (*id, matched)
        })
        .filter(|(_, matched)| matched.iter().any(|&i| frequency[i] <= SEARCHED_FREQUENCY))
        .collect();
    (frequency, found)
}

fn found(search: &LexicalSearch) -> BTreeSet<(MemoryId, Vec<usize>)> {
    search
        .hits
        .iter()
        .map(|hit| (hit.memory.id, hit.matched.clone()))
        .collect()
}

/// 300 memories (a cached index), a third without a vector, some superseded: every query finds
/// exactly the reference's memories, with its counts; a shorter limit keeps the best of the
/// same ranking; a fresh store (another process, nothing cached) answers the same.
async fn lexical_search_equals_an_exact_reference(harness: &TestStore) {
    let store = harness.store();
    let mut contents = Vec::new();
    let mut vectors = Vec::new();
    for i in 0..300 {
        let text = reference_content(i);
        let sector = Sector::ALL[i % Sector::ALL.len()];
        let stored = store
            .insert_memory(&memory("u1", &text, sector, 0.5), NOW)
            .await
            .unwrap();
        if i % 3 != 0 {
            vectors.push((stored.id, vec![0.5_f32; 4]));
        }
        contents.push((stored.id, text, sector, false));
    }
    store.store_embeddings(&vectors, NOW).await.unwrap();
    for i in (11..300).step_by(40) {
        let (old, new) = (contents[i].0, contents[i + 1].0);
        store.supersede_memory("u1", old, new, NOW).await.unwrap();
        contents[i].3 = true;
    }
    let filters = [
        MemoryFilter::default(),
        MemoryFilter {
            include_superseded: true,
            ..MemoryFilter::default()
        },
        MemoryFilter {
            sectors: vec![Sector::Emotional, Sector::Procedural],
            ..MemoryFilter::default()
        },
    ];
    let queries = [
        "What did Priya say about penicillin?",
        "order 58013",
        "Okonkwo, the kettle and 58021",
        "Zanzibar",
        "anything about xylophone or origami lessons",
        "nothing here matches",
    ];
    let query_vector = [0.5_f32; 4];
    let fresh = harness.reopen(space()).await.unwrap();
    for filter in &filters {
        for query in queries {
            let search = store
                .search_lexical("u1", query, &query_vector, filter, 1_000, 0)
                .await
                .unwrap();
            let (frequency, expected) = reference(&contents, query, filter);
            assert_eq!(search.memories, 300, "{query}");
            assert_eq!(search.document_frequency, frequency, "{query}");
            assert_eq!(found(&search), expected, "{query} {filter:?}");
            for hit in &search.hits {
                let embedded = vectors.iter().any(|(id, _)| *id == hit.memory.id);
                assert_eq!(hit.similarity > 0.0, embedded, "{query}");
            }
            let best = store
                .search_lexical("u1", query, &query_vector, filter, 3, 0)
                .await
                .unwrap();
            assert_eq!(
                best.hits,
                search.hits[..search.hits.len().min(3)],
                "the limit cuts one ranking: {query}"
            );
            let reloaded = fresh
                .search_lexical("u1", query, &query_vector, filter, 1_000, 0)
                .await
                .unwrap();
            assert_eq!(reloaded, search, "the same after a reload: {query}");
        }
    }
    let rare = store
        .search_lexical("u1", "penicillin", &query_vector, &filters[0], 10, 0)
        .await
        .unwrap();
    assert_eq!(rare.hits.len(), 1, "a rare word finds its one memory");
    assert_eq!(rare.hits[0].memory.content, reference_content(7));
}

/// What another store instance on the same database writes (another process, with its own
/// cache) is seen by the very next lexical search of a cached caller: a new memory without a
/// vector, a supersession, an edit, a deletion, an erasure.
async fn lexical_search_sees_every_write_of_another_process(harness: &TestStore) {
    let reader = harness.store();
    let writer = harness.reopen(space()).await.unwrap();
    let mut vectors = Vec::new();
    for i in 0..150 {
        let stored = writer
            .insert_memory(
                &memory("u1", &reference_content(i), Sector::Semantic, 0.5),
                NOW,
            )
            .await
            .unwrap();
        vectors.push((stored.id, vec![0.5_f32; 4]));
    }
    writer.store_embeddings(&vectors, NOW).await.unwrap();
    let query_vector = [0.5_f32; 4];
    let search = |text: &'static str, filter: MemoryFilter| {
        let reader = reader.clone();
        async move {
            reader
                .search_lexical("u1", text, &query_vector, &filter, 10, 100)
                .await
                .unwrap()
        }
    };
    let ids = |search: &LexicalSearch| -> Vec<MemoryId> {
        search.hits.iter().map(|hit| hit.memory.id).collect()
    };
    assert!(
        search("Lisbon", MemoryFilter::default())
            .await
            .hits
            .is_empty()
    );

    let first = writer
        .insert_memory(
            &memory("u1", "Flying to Lisbon on Friday", Sector::Episodic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    let found = search("Lisbon", MemoryFilter::default()).await;
    assert_eq!(ids(&found), [first.id], "a new memory, no vector yet");
    assert_eq!((found.memories, found.document_frequency), (151, vec![1]));

    let second = writer
        .insert_memory(
            &memory(
                "u1",
                "Flying to Lisbon on Saturday instead",
                Sector::Episodic,
                0.5,
            ),
            NOW,
        )
        .await
        .unwrap();
    writer
        .supersede_memory("u1", first.id, second.id, NOW)
        .await
        .unwrap();
    assert_eq!(
        ids(&search("Lisbon", MemoryFilter::default()).await),
        [second.id],
        "the superseded memory is hidden"
    );
    let with_superseded = MemoryFilter {
        include_superseded: true,
        ..MemoryFilter::default()
    };
    let mut both = ids(&search("Lisbon", with_superseded).await);
    both.sort_unstable();
    assert_eq!(both, [first.id, second.id]);
    let other_sector = MemoryFilter {
        sectors: vec![Sector::Semantic],
        ..MemoryFilter::default()
    };
    assert!(search("Lisbon", other_sector).await.hits.is_empty());

    writer
        .edit_memory(
            "u1",
            second.id,
            &MemoryEdit {
                content: Some("Flying to Porto on Saturday".into()),
                ..MemoryEdit::default()
            },
            NOW,
        )
        .await
        .unwrap();
    assert!(
        search("Lisbon", MemoryFilter::default())
            .await
            .hits
            .is_empty()
    );
    assert_eq!(
        ids(&search("Porto", MemoryFilter::default()).await),
        [second.id],
        "an edit re-indexes the words"
    );

    let before = search("Priya", MemoryFilter::default()).await;
    assert!(
        writer
            .delete_memory("u1", before.hits[0].memory.id)
            .await
            .unwrap()
    );
    let after = search("Priya", MemoryFilter::default()).await;
    assert_eq!(
        after.document_frequency[0] + 1,
        before.document_frequency[0],
        "a deletion leaves the counts"
    );
    assert!(!ids(&after).contains(&before.hits[0].memory.id));

    writer.erase_user("u1", NOW).await.unwrap();
    let erased = search("Priya", MemoryFilter::default()).await;
    assert_eq!(erased, LexicalSearch::default(), "nothing after erasure");
}

memvox_testkit::both_backends!(
    with_store => word_counts_follow_writes;
    with_harness =>
        lexical_search_finds_exact_words_filters_and_isolates,
        lexical_search_equals_an_exact_reference,
        lexical_search_sees_every_write_of_another_process,
);
