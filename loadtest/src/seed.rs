//! Seeding a generated population through the store's bulk load: one transaction per chunk
//! of users, vectors from the real embedder in large batches. Seeding 100,000 users through
//! HTTP would take hours; this takes minutes and writes the rows the store itself writes (the
//! store's own row code seals, fingerprints and tokenises them), so its triggers and indexes see
//! the real data. Call episodes are memories of kind `episode`, as the extraction worker writes
//! them.

use std::time::Instant;

use memvox_ai::Embedder;
use memvox_core::episode::spoken_text;
use memvox_core::{MemoryKind, Provenance, Sector};
use memvox_store::{BulkLink, BulkMemory, BulkUser, EPISODE_SALIENCE, Store};

use crate::population::{GeneratedUser, Shape, user};

/// Users generated, embedded and written per transaction.
const CHUNK_USERS: usize = 1_000;

/// What was written.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Seeded {
    /// Users.
    pub users: usize,
    /// Memories: facts (each with a vector).
    pub memories: usize,
    /// Episodes (each with a vector).
    pub episodes: usize,
    /// Memory links.
    pub links: usize,
    /// Seconds spent.
    pub seconds: f64,
}

/// Writes the population of `shape` (seeded with `seed`) into `store` and logs progress to
/// stderr.
pub async fn seed(
    store: &dyn Store,
    embedder: &dyn Embedder,
    shape: &Shape,
    seed: u64,
    now: i64,
) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let mut seeded = Seeded::default();
    let mut start = 0;
    while start < shape.users {
        let end = (start + CHUNK_USERS).min(shape.users);
        let users: Vec<GeneratedUser> = (start..end).map(|i| user(shape, seed, i, now)).collect();
        // In the order `bulk_user` takes them: each user's facts, then their episodes (embedded
        // as the embedding worker does: the searched turns without speaker labels).
        let texts: Vec<String> = users
            .iter()
            .flat_map(|u| {
                let facts = u.memories.iter().map(|m| m.content.clone());
                facts.chain(u.episodes.iter().map(|e| spoken_text(&e.content)))
            })
            .collect();
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(8_192) {
            let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
            vectors.extend(embedder.embed(&batch).await?);
        }
        let mut vectors = vectors.into_iter();
        let bulk: Vec<BulkUser> = users
            .into_iter()
            .map(|u| bulk_user(u, &mut vectors, now))
            .collect();
        for user in &bulk {
            let facts = user.memories.iter().filter(|m| m.kind == MemoryKind::Fact);
            let fact_count = facts.count();
            seeded.memories += fact_count;
            seeded.episodes += user.memories.len() - fact_count;
            seeded.links += user.links.len();
        }
        seeded.users += bulk.len();
        store.bulk_load(&bulk, now).await?;
        start = end;
        if start % (CHUNK_USERS * 10) == 0 || start == shape.users {
            let elapsed = started.elapsed().as_secs_f64();
            eprintln!(
                "seeded {} / {} users, {} memories, {} episodes, {} links in {elapsed:.1} s \
                 ({:.0} rows/s)",
                seeded.users,
                shape.users,
                seeded.memories,
                seeded.episodes,
                seeded.links,
                (seeded.memories + seeded.episodes) as f64 / elapsed.max(1e-9)
            );
        }
    }
    eprintln!("analysing tables");
    store.analyze().await?;
    seeded.seconds = started.elapsed().as_secs_f64();
    Ok(seeded)
}

/// `user` as the store bulk-loads them: their facts (every fourth linked to the one before),
/// then their episodes citing their call and turns, each with the next of `vectors`.
fn bulk_user(
    user: GeneratedUser,
    vectors: &mut impl Iterator<Item = Vec<f32>>,
    now: i64,
) -> BulkUser {
    let facts = user.memories.len();
    let mut memories = Vec::with_capacity(facts + user.episodes.len());
    for memory in user.memories {
        memories.push(BulkMemory {
            content: memory.content,
            kind: MemoryKind::Fact,
            sector: memory.sector,
            salience: memory.salience,
            last_seen_at: memory.last_seen_at,
            created_at: memory.created_at,
            updated_at: memory.created_at,
            source: None,
            vector: vectors.next(),
        });
    }
    for episode in user.episodes {
        memories.push(BulkMemory {
            content: episode.content,
            kind: MemoryKind::Episode,
            sector: Sector::Episodic,
            salience: EPISODE_SALIENCE,
            last_seen_at: episode.said_at,
            created_at: episode.said_at,
            updated_at: now,
            source: Some(Provenance {
                conversation_id: episode.conversation_id,
                turn_indexes: episode.turn_indexes,
            }),
            vector: vectors.next(),
        });
    }
    let links = (3..facts)
        .step_by(4)
        .map(|position| BulkLink {
            source: position,
            target: position - 1,
            weight: 0.5,
        })
        .collect();
    BulkUser {
        user_id: user.user_id,
        display_name: user.display_name,
        summary: user.summary,
        last_interaction: user.last_interaction,
        created_at: user.created_at,
        caller_number: Some(user.phone),
        memories,
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_then_episodes_take_the_vectors_in_order_and_every_fourth_fact_links_back() {
        let shape = Shape {
            users: 2,
            heavy_users: 1,
            heavy_memories: 8,
            episodes_per_fact: 1,
        };
        let generated = user(&shape, 1, 0, 1_767_225_645_000);
        let mut vectors = (0..16).map(|i| vec![i as f32; 4]);
        let bulk = bulk_user(generated.clone(), &mut vectors, 0);
        assert_eq!(bulk.memories.len(), 16);
        assert!(
            bulk.memories[..8]
                .iter()
                .all(|m| m.kind == MemoryKind::Fact)
        );
        assert!(
            bulk.memories[8..]
                .iter()
                .all(|m| m.kind == MemoryKind::Episode)
        );
        assert_eq!(bulk.memories[0].content, generated.memories[0].content);
        assert_eq!(bulk.memories[9].vector, Some(vec![9.0; 4]));
        assert_eq!(
            bulk.memories[8].source.as_ref().map(|s| &s.conversation_id),
            Some(&generated.episodes[0].conversation_id)
        );
        assert_eq!(
            bulk.caller_number.as_deref(),
            Some(generated.phone.as_str())
        );
        let links: Vec<(usize, usize)> = bulk.links.iter().map(|l| (l.source, l.target)).collect();
        assert_eq!(links, [(3, 2), (7, 6)]);
    }
}
