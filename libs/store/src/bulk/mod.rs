//! Bulk loading: many new users with their caller numbers, memories (facts and episodes),
//! vectors and links, written in one transaction per call with the row code the product writes
//! with (content sealed and fingerprinted under the store's keys, lexical tokens, the embedding
//! space checked, vectors in the backend's encoding). For seeding — load tests, imports — where
//! writing through the per-call API would take hours.

mod rows;

use async_trait::async_trait;
use memvox_core::{LinkKind, MemoryId, MemoryKind, MemoryLink, Provenance, Sector, UnixMillis};

use crate::{
    StoreError, StoreResult,
    backend::Backend,
    dialect::query,
    links::upsert_links_in,
    written::{Written, flush_written_in},
};

/// A new user and what they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkUser {
    /// The user's id (its scope is the one the id names, as for every user).
    pub user_id: String,
    /// Display name, stored as given.
    pub display_name: Option<String>,
    /// Summary, sealed like every summary.
    pub summary: Option<String>,
    /// When the user last called.
    pub last_interaction: Option<UnixMillis>,
    /// When the user was created.
    pub created_at: UnixMillis,
    /// A phone number bound to the user (sealed, found by its blind index; the first binding
    /// of a number wins).
    pub caller_number: Option<String>,
    /// The user's memories, in the order their ids are handed out.
    pub memories: Vec<BulkMemory>,
    /// Links between the user's memories.
    pub links: Vec<BulkLink>,
}

/// One memory of a [`BulkUser`].
#[derive(Debug, Clone, PartialEq)]
pub struct BulkMemory {
    /// The content, sealed and fingerprinted like every memory's.
    pub content: String,
    /// A fact or an episode.
    pub kind: MemoryKind,
    /// Its sector (its decay rate is the sector's).
    pub sector: Sector,
    /// Salience in `[0, 1]`.
    pub salience: f64,
    /// When it was last seen.
    pub last_seen_at: UnixMillis,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When it was last changed.
    pub updated_at: UnixMillis,
    /// The call and turns it came from.
    pub source: Option<Provenance>,
    /// Its vector in the store's embedding space, if embedded.
    pub vector: Option<Vec<f32>>,
}

/// A link from one of a user's memories to another, by their positions in
/// [`BulkUser::memories`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BulkLink {
    /// Position of the linking memory.
    pub source: usize,
    /// Position of the linked memory.
    pub target: usize,
    /// Strength in `[0, 1]`.
    pub weight: f64,
}

/// Writing many users at once.
#[async_trait]
pub trait BulkLoad: Send + Sync {
    /// Writes `users` (none may exist yet) and everything they hold in one transaction; the ids
    /// of their memories, user after user in the order given. Nothing is written if any row is
    /// refused.
    async fn bulk_load(&self, users: &[BulkUser], now: UnixMillis) -> StoreResult<Vec<MemoryId>>;

    /// Refreshes the planner's statistics (and PostgreSQL's visibility map) after loading.
    async fn analyze(&self) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> BulkLoad for B {
    async fn bulk_load(&self, users: &[BulkUser], now: UnixMillis) -> StoreResult<Vec<MemoryId>> {
        check(self, users)?;
        let count: usize = users.iter().map(|u| u.memories.len()).sum();
        let core = self.core();
        let mut tx = self.begin().await?;
        let ids = if count == 0 {
            Vec::new()
        } else {
            let rows = query::<B::Sql>(B::MEMORY_IDS)
                .bind(i64::try_from(count).unwrap_or(i64::MAX))
                .fetch_all(&mut tx)
                .await?;
            rows::ids(&rows)?
        };
        let params = B::STATEMENT_PARAMS;
        rows::insert_users::<B::Sql>(&mut tx, &core.keyring, users, params).await?;
        rows::insert_callers::<B::Sql>(&mut tx, &core.keyring, users, params).await?;
        rows::insert_memories::<B::Sql>(&mut tx, &core.keyring, users, &ids, params).await?;
        let mut written = Written::default();
        let mut vectors = Vec::new();
        let mut links = Vec::new();
        let mut next = ids.iter().copied();
        for user in users {
            let user_ids: Vec<MemoryId> = next.by_ref().take(user.memories.len()).collect();
            for (memory, &id) in user.memories.iter().zip(&user_ids) {
                let terms = core.lexical.memory_terms(&user.user_id, &memory.content);
                written.index_terms(id, &user.user_id, terms);
                if let Some(vector) = &memory.vector {
                    vectors.push((id, vector.clone()));
                }
            }
            links.extend(user.links.iter().map(|link| MemoryLink {
                source: user_ids[link.source],
                target: user_ids[link.target],
                weight: link.weight,
                kind: LinkKind::Automatic,
            }));
        }
        flush_written_in::<B::Sql>(&mut tx, &mut written).await?;
        self.write_vectors(&mut tx, &vectors, now).await?;
        upsert_links_in::<B::Sql>(&mut tx, &links, now).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn analyze(&self) -> StoreResult<()> {
        query::<B::Sql>(B::ANALYZE)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(())
    }
}

/// Refuses vectors outside the embedding space and links that leave their user's memories or
/// point at their own source.
fn check<B: Backend>(store: &B, users: &[BulkUser]) -> StoreResult<()> {
    for user in users {
        for memory in &user.memories {
            if let Some(vector) = &memory.vector {
                store.core().space.check_dimension(vector.len())?;
            }
        }
        let count = user.memories.len();
        if let Some(link) = user
            .links
            .iter()
            .find(|l| l.source >= count || l.target >= count || l.source == l.target)
        {
            return Err(StoreError::Invalid(format!(
                "user {}: link {} -> {} is not between two of their {count} memories",
                user.user_id, link.source, link.target
            )));
        }
    }
    Ok(())
}
