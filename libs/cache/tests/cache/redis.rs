//! The two tiers against a real Redis (`MEMVOX_TEST_REDIS_URL`, default 127.0.0.1:6379): each
//! test uses its own key prefix and deletes its keys. Two [`Caching`] instances on one prefix
//! stand for two processes (a query replica and a worker, or two replicas), holding the same
//! keys, as the processes of one deployment do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use memvox_cache::{CacheSettings, Caching, Version};
use memvox_testkit::{KeyPrefix, counter, redis_url};
use prometheus::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::support::{k, process, process_retrying, sealer};

#[tokio::test]
async fn a_write_in_another_process_invalidates_both_tiers_at_once() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (_, query, query_metrics) = process(&url, &prefix);
    let (_, replica, _) = process(&url, &prefix);
    let (worker, _, _) = process(&url, &prefix);

    let v = query.version("u1").await;
    assert!(matches!(v, Version::Shared(_)), "{v:?}");
    query.insert("u1", v, k("q"), k("old answer")).await;
    // Another replica finds the entry in Redis.
    let seen = replica.version("u1").await;
    assert_eq!(seen, v);
    assert_eq!(
        replica.get("u1", seen, &k("q")).await.as_deref(),
        Some(&k("old answer"))
    );

    worker.versions.bump("u1").await;
    let now = query.version("u1").await;
    assert_ne!(now, v);
    assert_eq!(query.get("u1", now, &k("q")).await, None);
    let replica_now = replica.version("u1").await;
    assert_eq!(replica.get("u1", replica_now, &k("q")).await, None);
    assert_eq!(
        counter(
            &query_metrics,
            "memvox_cache_degraded_total",
            &[("op", "version")]
        ),
        0
    );
}

#[tokio::test]
async fn a_value_computed_across_a_bump_is_never_served() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (_, query, _) = process(&url, &prefix);
    let (_, replica, _) = process(&url, &prefix);
    let (worker, _, _) = process(&url, &prefix);

    let before = query.version("u1").await;
    worker.versions.bump("u1").await;
    query.insert("u1", before, k("q"), k("stale")).await;
    for cache in [&query, &replica] {
        let v = cache.version("u1").await;
        assert_ne!(v, before);
        assert_eq!(cache.get("u1", v, &k("q")).await, None);
    }
}

#[tokio::test]
async fn unreachable_redis_degrades_to_process_memory_without_errors() {
    let prefix = KeyPrefix::new("test:cache");
    let (caching, cache, registry) = process("redis://127.0.0.1:1", &prefix);

    let v = cache.version("u1").await;
    assert!(matches!(v, Version::Local(_)), "{v:?}");
    assert_eq!(cache.get("u1", v, &k("q")).await, None);
    cache.insert("u1", v, k("q"), k("answer")).await;
    let again = cache.version("u1").await;
    assert_eq!(
        cache.get("u1", again, &k("q")).await.as_deref(),
        Some(&k("answer"))
    );
    // This process's own writes still invalidate.
    caching.versions.bump("u1").await;
    let after = cache.version("u1").await;
    assert_eq!(cache.get("u1", after, &k("q")).await, None);
    assert_eq!(caching.versions.forget("u1").await, None);

    assert!(
        counter(
            &registry,
            "memvox_cache_degraded_total",
            &[("op", "version")]
        ) >= 1
    );
    assert!(
        counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("tier", "memory")]
        ) >= 3,
        "memory-tier lookups are counted"
    );
}

/// A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and
/// restored.
struct Proxy {
    url: String,
    cut: Arc<AtomicBool>,
    connections: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = redis_url()
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let (flag, set) = (cut.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if flag.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                set.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            url: format!("redis://127.0.0.1:{port}"),
            cut,
            connections,
        }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn redis_is_used_again_when_it_returns() {
    let proxy = Proxy::start().await;
    let prefix = KeyPrefix::new("test:cache");
    // No skip interval: every call after the cut tries Redis again.
    let (_, cache, registry) = process_retrying(&proxy.url, &prefix, 0);

    assert!(matches!(cache.version("u1").await, Version::Shared(_)));
    proxy.cut().await;
    let down = cache.version("u1").await;
    assert!(matches!(down, Version::Local(_)), "{down:?}");
    cache.insert("u1", down, k("q"), k("answer")).await;
    let still_down = cache.version("u1").await;
    assert_eq!(
        cache.get("u1", still_down, &k("q")).await.as_deref(),
        Some(&k("answer")),
        "served from process memory while Redis is cut"
    );
    assert!(
        counter(
            &registry,
            "memvox_cache_degraded_total",
            &[("op", "version")]
        ) >= 1
    );

    proxy.restore();
    // The pool may first hand out a connection the cut broke: a few calls at most.
    let mut back = false;
    for _ in 0..3 {
        if matches!(cache.version("u1").await, Version::Shared(_)) {
            back = true;
            break;
        }
    }
    assert!(back, "the shared tier is used again once Redis answers");
}

#[tokio::test]
async fn erasure_deletes_every_key_of_the_user_and_only_theirs() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (caching, cache, _) = process(&url, &prefix);
    for user in ["gone", "kept"] {
        let v = cache.version(user).await;
        cache.insert(user, v, k("q1"), k("a1")).await;
        cache.insert(user, v, k("q2"), k("a2")).await;
    }
    assert_eq!(prefix.keys().await.len(), 6);

    assert_eq!(caching.versions.forget("gone").await, Some(3));
    let left = prefix.keys().await;
    assert_eq!(left.len(), 3, "{left:?}");
    let v = cache.version("gone").await;
    assert_eq!(cache.get("gone", v, &k("q1")).await, None);
    let kept = cache.version("kept").await;
    assert_eq!(
        cache.get("kept", kept, &k("q1")).await.as_deref(),
        Some(&k("a1"))
    );
}

#[tokio::test]
async fn query_vectors_embedded_by_one_replica_are_found_by_another() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let settings = CacheSettings {
        key_prefix: prefix.to_string(),
        redis_timeout_ms: 1_000,
        shared_query_vectors: true,
        ..CacheSettings::default()
    };
    let vectors = |url: &str| {
        Caching::new(settings.clone(), Some(url), sealer(), &Registry::new())
            .unwrap()
            .query_vectors("model-a")
            .unwrap()
    };
    let (first, second) = (vectors(&url), vectors(&url));
    assert_eq!(second.get("what is my dog called").await, None);
    first.insert("what is my dog called", &[0.5, -0.25]).await;
    assert_eq!(
        second.get("what is my dog called").await.as_deref(),
        Some(&[0.5_f32, -0.25][..])
    );
    let other_model = Caching::new(settings.clone(), Some(&url), sealer(), &Registry::new())
        .unwrap()
        .query_vectors("model-b")
        .unwrap();
    assert_eq!(other_model.get("what is my dog called").await, None);

    let down = vectors("redis://127.0.0.1:1");
    down.insert("q", &[1.0]).await;
    assert_eq!(down.get("q").await.as_deref(), Some(&[1.0_f32][..]));
    let off = Caching::new(
        CacheSettings::default(),
        Some(&url),
        sealer(),
        &Registry::new(),
    )
    .unwrap();
    assert!(off.query_vectors("model-a").is_none());
    let unsealed = Caching::new(settings.clone(), Some(&url), None, &Registry::new()).unwrap();
    assert!(
        unsealed.query_vectors("model-a").is_none(),
        "no vectors in Redis without keys to seal them"
    );
}
