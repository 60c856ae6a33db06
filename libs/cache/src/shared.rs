//! [`SharedTier`]: the Redis side of the caches — per-user version keys and serialized entries,
//! shared by every process pointed at the same Redis and key prefix.
//!
//! Key layout: `{prefix}:{<user hash>}:v` holds the user's version and
//! `{prefix}:{<user hash>}:<cache>:<version>:<key hash>` their entries; query vectors, which
//! belong to no user, live under `{prefix}:qv:<model hash>:<text hash>`. The hashes are keyed
//! ([`Sealer::name`], an HMAC under a key derived from the keyring): no user id or question
//! appears in Redis, nor a plain hash a dictionary of ids or questions could reverse. The user
//! part is wrapped in a hash tag so a user's keys share a cluster slot; erasure finds them with
//! `SCAN MATCH {prefix}:{<user hash>}:*`, never with `KEYS`. Every key has a time to live.
//!
//! Entries are sealed ([`Sealer::seal`], AES-256-GCM bound to the entry's Redis key), so Redis
//! holds no answer or vector in plaintext, and an entry altered, copied under another key or
//! sealed under other keys opens to nothing: a miss, counted in
//! `memvox_cache_rejected_total{op}`, never an error. Without a sealer (encryption off) the
//! hashes are plain SHA-256 and Redis holds versions only: entries stay in process memory.
//!
//! Failures never reach the caller: each operation is bounded by a short timeout, and a failure
//! (refused, timed out, bad reply) is counted in `memvox_cache_degraded_total{op}`, logged at
//! most every [`LOG_EVERY`], and makes the tier skip Redis for `redis_retry_ms`; the next call
//! after that tries Redis again, so the tier comes back on its own.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_redis::{Connection, Manager, Pool, Runtime};
use memvox_crypto::Sealer;
use rand::Rng;
use redis::AsyncConnectionConfig;
use sha2::{Digest, Sha256};

use crate::{CacheError, CacheMetrics, CacheSettings};

/// Shortest interval between two "Redis unavailable" log lines of one tier.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Hex digits of a hash kept in key names (128 bits).
const HASH_HEX: usize = 32;

/// Keys deleted per `UNLINK` during erasure (and asked per `SCAN` step).
const SCAN_BATCH: usize = 500;

/// Every key matching `pattern`, found with `SCAN MATCH` (never `KEYS`, which blocks the
/// server while it walks every key).
pub async fn scan_keys<C>(conn: &mut C, pattern: &str) -> redis::RedisResult<Vec<String>>
where
    C: redis::aio::ConnectionLike + Send,
{
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(SCAN_BATCH)
            .query_async(conn)
            .await?;
        found.extend(keys);
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// The Redis tier. Cheap to clone.
#[derive(Clone)]
pub struct SharedTier {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    prefix: String,
    sealer: Option<Sealer>,
    timeout: Duration,
    retry: Duration,
    ttl_ms: u64,
    metrics: CacheMetrics,
    epoch: Instant,
    /// Milliseconds since `epoch` before which Redis is skipped.
    skip_until_ms: AtomicU64,
    /// Milliseconds since `epoch` of the last warning (0: never).
    logged_at_ms: AtomicU64,
    down: AtomicBool,
}

impl std::fmt::Debug for SharedTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTier")
            .field("prefix", &self.inner.prefix)
            .finish()
    }
}

impl SharedTier {
    /// A tier on the Redis at `url`; connects lazily, so an unreachable Redis is not an error.
    /// `sealer` seals entries and keys names; without one Redis holds versions only.
    ///
    /// # Errors
    /// [`CacheError::Invalid`] for a malformed URL.
    pub fn new(
        url: &str,
        settings: &CacheSettings,
        sealer: Option<Sealer>,
        metrics: CacheMetrics,
    ) -> Result<Self, CacheError> {
        let timeout = Duration::from_millis(settings.redis_timeout_ms);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(url, config)
            .map_err(|e| CacheError::Invalid(format!("cache redis url: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .build()
            .map_err(|e| CacheError::Invalid(format!("cache redis pool: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                prefix: settings.key_prefix.clone(),
                sealer,
                timeout,
                retry: Duration::from_millis(settings.redis_retry_ms),
                ttl_ms: settings.shared_ttl_ms,
                metrics,
                epoch: Instant::now(),
                skip_until_ms: AtomicU64::new(0),
                logged_at_ms: AtomicU64::new(0),
                down: AtomicBool::new(false),
            }),
        })
    }

    /// The user's version, creating it at a random value when Redis has none (first use,
    /// expiry, a Redis restart): a random start makes reusing an old value as unlikely as a
    /// 62-bit collision. `None` when Redis cannot be used.
    pub(crate) async fn version(&self, user: &str) -> Option<i64> {
        let key = self.version_key(user);
        let ttl = self.inner.ttl_ms;
        self.run("version", |mut conn| async move {
            let current: Option<i64> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
            if let Some(v) = current {
                return Ok(v);
            }
            let (v,): (i64,) = creating_version(&key, ttl)
                .cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await?;
            Ok(v)
        })
        .await
    }

    /// Moves the user's version on (creating it at a random value first if missing).
    pub(crate) async fn bump(&self, user: &str) {
        let key = self.version_key(user);
        let ttl = self.inner.ttl_ms;
        self.run("bump", |mut conn| async move {
            creating_version(&key, ttl)
                .cmd("INCR")
                .arg(&key)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl)
                .ignore()
                .exec_async(&mut conn)
                .await
        })
        .await;
    }

    /// Whether entries are kept in Redis: only when they can be sealed.
    pub(crate) fn holds_entries(&self) -> bool {
        self.inner.sealer.is_some()
    }

    /// The bytes stored under `key`, opened; `None` when absent, when Redis cannot be used, or
    /// when the entry does not open (counted as rejected).
    pub(crate) async fn get(&self, key: String) -> Option<Vec<u8>> {
        let sealer = self.inner.sealer.as_ref()?;
        let aad = key.clone();
        let sealed = self
            .run("get", |mut conn| async move {
                redis::cmd("GET")
                    .arg(&key)
                    .query_async::<Option<Vec<u8>>>(&mut conn)
                    .await
            })
            .await
            .flatten()?;
        let opened = sealer.open(&sealed, aad.as_bytes());
        if opened.is_none() {
            self.inner.metrics.rejected("get");
            tracing::debug!("a redis cache entry did not open: served as a miss");
        }
        opened
    }

    /// Stores `value` sealed under `key`, with the shared time to live (nothing without a
    /// sealer).
    pub(crate) async fn put(&self, key: String, value: &[u8]) {
        let Some(sealed) = self
            .inner
            .sealer
            .as_ref()
            .and_then(|sealer| sealer.seal(value, key.as_bytes()).ok())
        else {
            return;
        };
        let ttl = self.inner.ttl_ms;
        self.run("put", |mut conn| async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(sealed)
                .arg("PX")
                .arg(ttl)
                .exec_async(&mut conn)
                .await
        })
        .await;
    }

    /// Deletes every key of `user` (version and entries); the number deleted, `None` when
    /// Redis could not be used (the keys then expire within the shared time to live).
    pub(crate) async fn forget(&self, user: &str) -> Option<usize> {
        let pattern = format!("{}:{{{}}}:*", self.inner.prefix, self.user_part(user));
        // Erasure may cover many keys: allow it more than one operation's timeout.
        self.run_within("forget", self.inner.timeout * 20, |mut conn| async move {
            let mut deleted = 0;
            for keys in scan_keys(&mut conn, &pattern).await?.chunks(SCAN_BATCH) {
                let n: usize = redis::cmd("UNLINK")
                    .arg(keys)
                    .query_async(&mut conn)
                    .await?;
                deleted += n;
            }
            Ok(deleted)
        })
        .await
    }

    fn version_key(&self, user: &str) -> String {
        format!("{}:{{{}}}:v", self.inner.prefix, self.user_part(user))
    }

    /// The key of (`cache`, `version`, `key`) of `user`.
    pub(crate) fn entry_key(&self, user: &str, cache: &str, version: i64, key: &[u8]) -> String {
        format!(
            "{}:{{{}}}:{cache}:{version}:{}",
            self.inner.prefix,
            self.user_part(user),
            self.hash(b"entry", key)
        )
    }

    /// The key of the query vector of `text` by `model` (no user's: a vector of a query text
    /// is the same for everyone).
    pub(crate) fn vector_key(&self, model: &str, text: &str) -> String {
        format!(
            "{}:qv:{}:{}",
            self.inner.prefix,
            self.hash(b"model", model.as_bytes()),
            self.hash(b"query", text.as_bytes())
        )
    }

    /// The part of a key naming `user`.
    fn user_part(&self, user: &str) -> String {
        self.hash(b"user", user.as_bytes())
    }

    /// 32 hex digits naming `data` of kind `domain`: keyed with a sealer, else a plain SHA-256.
    fn hash(&self, domain: &[u8], data: &[u8]) -> String {
        match &self.inner.sealer {
            Some(sealer) => sealer.name(&[domain, b"\0", data].concat()),
            None => hash_hex(data),
        }
    }

    async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.run_within(op, self.inner.timeout, f).await
    }

    /// Runs `f` on a pooled connection within `limit`, unless Redis is being skipped; a
    /// failure is counted, logged (rate-limited) and starts a skip interval.
    async fn run_within<T, F, Fut>(&self, op: &'static str, limit: Duration, f: F) -> Option<T>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let inner = &self.inner;
        if self.now_ms() < inner.skip_until_ms.load(Ordering::Relaxed) {
            inner.metrics.degraded(op);
            return None;
        }
        let attempt = async {
            let conn = inner.pool.get().await.map_err(|e| e.to_string())?;
            f(conn).await.map_err(|e| e.to_string())
        };
        let outcome = match tokio::time::timeout(limit, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
        };
        match outcome {
            Ok(value) => {
                if inner.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(op, "redis cache tier reachable again");
                }
                Some(value)
            }
            Err(error) => {
                self.fail(op, &error);
                None
            }
        }
    }

    fn fail(&self, op: &'static str, error: &str) {
        let inner = &self.inner;
        inner.metrics.degraded(op);
        inner.down.store(true, Ordering::Relaxed);
        let now = self.now_ms();
        let retry = u64::try_from(inner.retry.as_millis()).unwrap_or(u64::MAX);
        inner
            .skip_until_ms
            .store(now.saturating_add(retry), Ordering::Relaxed);
        let last = inner.logged_at_ms.load(Ordering::Relaxed);
        let every = u64::try_from(LOG_EVERY.as_millis()).unwrap_or(u64::MAX);
        if (last == 0 || now.saturating_sub(last) >= every)
            && inner
                .logged_at_ms
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(op, %error, "redis cache tier unavailable: serving from process memory");
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// An atomic pipeline that starts by setting `key` to a fresh random version (expiring in
/// `ttl_ms`) unless it already has one: the start of every version command, which then reads
/// or moves the version on.
fn creating_version(key: &str, ttl_ms: u64) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("SET")
        .arg(key)
        .arg(random_version())
        .arg("NX")
        .arg("PX")
        .arg(ttl_ms)
        .ignore();
    pipe
}

/// A fresh version start: random, positive, far from `i64::MAX` so `INCR` never overflows.
fn random_version() -> i64 {
    rand::rng().random_range(1..(1_i64 << 62))
}

/// The first 128 bits of SHA-256, in hex.
fn hash_hex(bytes: &[u8]) -> String {
    let mut hex = hex::encode(Sha256::digest(bytes));
    hex.truncate(HASH_HEX);
    hex
}
