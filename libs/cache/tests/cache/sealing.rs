//! What the Redis tier holds against a real Redis: sealed entries under keyed names, entries
//! that do not open served as misses, and nothing but versions without keys to seal with.

use memvox_cache::Version;
use memvox_crypto::{KeySet, Keyring};
use memvox_testkit::{KeyPrefix, counter, redis_url};

use crate::support::{contains, k, process, process_with, raw_get, raw_set};

#[tokio::test]
async fn redis_holds_no_user_id_question_or_answer_in_plaintext() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (_, cache, _) = process(&url, &prefix);
    let (_, replica, _) = process(&url, &prefix);
    let v = cache.version("user_alice").await;
    cache
        .insert(
            "user_alice",
            v,
            k("what am I allergic to"),
            k("allergic to peanuts"),
        )
        .await;

    let found = prefix.keys().await;
    assert_eq!(found.len(), 2, "version and entry: {found:?}");
    let plain_hash = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(b"user_alice"))[..32].to_owned()
    };
    for key in &found {
        assert!(
            !key.contains("alice") && !key.contains(&plain_hash),
            "{key}"
        );
        assert!(!key.contains("allergic"), "{key}");
    }
    let entry = found.iter().find(|key| !key.ends_with(":v")).unwrap();
    let stored = raw_get(entry).await;
    assert!(!contains(&stored, "peanuts"), "the answer is sealed");
    assert!(!contains(&stored, "allergic"), "the answer is sealed");
    assert_eq!(
        replica
            .get("user_alice", v, &k("what am I allergic to"))
            .await
            .as_deref(),
        Some(&k("allergic to peanuts")),
        "a replica with the same keys opens it"
    );
}

#[tokio::test]
async fn an_altered_moved_or_foreign_entry_is_a_miss_not_an_error() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (_, writer, _) = process(&url, &prefix);
    let v = writer.version("u1").await;
    writer.insert("u1", v, k("q1"), k("a1")).await;
    writer.insert("u1", v, k("q2"), k("a2")).await;
    let entries: Vec<String> = prefix
        .keys()
        .await
        .into_iter()
        .filter(|key| !key.ends_with(":v"))
        .collect();
    assert_eq!(entries.len(), 2);
    let fresh = || process(&url, &prefix);

    let (first, second) = (&entries[0], &entries[1]);
    let (sealed_first, original) = (raw_get(first).await, raw_get(second).await);
    // Moved: the first entry's bytes copied under the second's key.
    raw_set(second, &sealed_first).await;
    // Altered: one bit of the first entry flipped.
    let mut altered = sealed_first;
    let last = altered.len() - 1;
    altered[last] ^= 1;
    raw_set(first, &altered).await;
    let (_, reader, registry) = fresh();
    for q in ["q1", "q2"] {
        assert_eq!(reader.get("u1", v, &k(q)).await, None, "{q}");
    }
    assert_eq!(
        counter(&registry, "memvox_cache_rejected_total", &[("op", "get")]),
        2
    );
    assert_eq!(
        counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("result", "miss")]
        ),
        4,
        "memory and redis misses for each"
    );

    // Sealed under other keys: unreadable, and under names this deployment never asks for.
    raw_set(second, &original).await;
    let other = Keyring::from_key_set(KeySet::generate()).sealer("shared cache");
    let (_, stranger, _) = process_with(&url, &prefix, 1_000, other);
    let theirs = stranger.version("u1").await;
    assert_eq!(stranger.get("u1", theirs, &k("q2")).await, None);
    // The restored entry opens again; the altered one still does not (SCAN order decides
    // which query is which).
    let (_, reader, _) = fresh();
    let mut opened = Vec::new();
    for (q, a) in [("q1", "a1"), ("q2", "a2")] {
        if let Some(answer) = reader.get("u1", v, &k(q)).await {
            assert_eq!(*answer, k(a), "{q}");
            opened.push(q);
        }
    }
    assert_eq!(opened.len(), 1, "{opened:?}");
}

#[tokio::test]
async fn without_keys_redis_holds_versions_only() {
    let url = redis_url();
    let prefix = KeyPrefix::new("test:cache");
    let (_, cache, _) = process_with(&url, &prefix, 1_000, None);
    let (worker, replica, _) = process_with(&url, &prefix, 1_000, None);
    let v = cache.version("u1").await;
    assert!(matches!(v, Version::Shared(_)), "{v:?}");
    cache
        .insert("u1", v, k("q"), k("allergic to peanuts"))
        .await;
    assert_eq!(
        cache.get("u1", v, &k("q")).await.as_deref(),
        Some(&k("allergic to peanuts")),
        "kept in process"
    );
    assert_eq!(replica.get("u1", v, &k("q")).await, None, "not in Redis");
    let found = prefix.keys().await;
    assert_eq!(found.len(), 1, "only the version key: {found:?}");
    worker.versions.bump("u1").await;
    let now = cache.version("u1").await;
    assert_eq!(
        cache.get("u1", now, &k("q")).await,
        None,
        "still invalidated"
    );
}
