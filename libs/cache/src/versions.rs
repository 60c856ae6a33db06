//! [`Versions`]: each user's cache version, the one thing every writer bumps and every reader
//! checks, whichever process they run in.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::future::Cache;

use crate::SharedTier;

/// A user's cache version, as read before computing a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// Read from Redis: shared by every process on the same Redis and key prefix.
    Shared(i64),
    /// From this process's counter: used when there is no shared tier or Redis is unreachable.
    Local(u64),
}

/// Per-user versions: in process, and in Redis when a shared tier is configured. Cheap to clone;
/// one handle per process is given to the query service and the workers.
#[derive(Clone)]
pub struct Versions {
    local: Cache<String, u64>,
    next: Arc<AtomicU64>,
    shared: Option<SharedTier>,
}

impl std::fmt::Debug for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Versions")
            .field("shared", &self.shared)
            .finish()
    }
}

impl Versions {
    /// Versions of up to `capacity` users in process, plus `shared` ones in Redis.
    pub fn new(capacity: u64, shared: Option<SharedTier>) -> Self {
        Self {
            local: Cache::builder().max_capacity(capacity.max(1)).build(),
            next: Arc::new(AtomicU64::new(1)),
            shared,
        }
    }

    /// The shared tier, if any.
    pub fn shared(&self) -> Option<&SharedTier> {
        self.shared.as_ref()
    }

    /// The user's current version: from Redis when it answers, else from this process. Read it
    /// before computing a value to cache.
    pub async fn current(&self, user: &str) -> Version {
        if let Some(shared) = &self.shared
            && let Some(version) = shared.version(user).await
        {
            return Version::Shared(version);
        }
        Version::Local(self.local_version(user).await)
    }

    /// Makes every cached value of the user unreachable, here and (through Redis) in every
    /// process sharing the tier. Call after each committed write to the user's data; never
    /// fails (an unreachable Redis is counted and logged).
    pub async fn bump(&self, user: &str) {
        self.bump_local(user).await;
        if let Some(shared) = &self.shared {
            shared.bump(user).await;
        }
    }

    /// Erasure: makes the user's values unreachable here and deletes every Redis key of the
    /// user (version and entries). Returns the number of Redis keys deleted (`None` without a
    /// reachable shared tier; the keys then expire within the shared time to live).
    pub async fn forget(&self, user: &str) -> Option<usize> {
        self.bump_local(user).await;
        match &self.shared {
            Some(shared) => shared.forget(user).await,
            None => None,
        }
    }

    async fn local_version(&self, user: &str) -> u64 {
        let next = &self.next;
        self.local
            .get_with(user.to_owned(), async {
                next.fetch_add(1, Ordering::Relaxed)
            })
            .await
    }

    async fn bump_local(&self, user: &str) {
        let version = self.next.fetch_add(1, Ordering::Relaxed);
        self.local.insert(user.to_owned(), version).await;
    }
}
