//! Redis keys of one test: a random prefix whose keys are deleted when its guard is dropped,
//! even when the test panicked.

use redis::TypedCommands as _;

use crate::env::{redis_url, unique};

/// A fresh key prefix (`<name>:<random>`); every key under it is deleted on drop.
#[derive(Debug)]
pub struct KeyPrefix {
    prefix: String,
}

impl KeyPrefix {
    /// A fresh prefix starting with `name`.
    pub fn new(name: &str) -> Self {
        Self {
            prefix: unique(&format!("{name}:")),
        }
    }

    /// The prefix, without the trailing `:`.
    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// Every key under the prefix.
    pub async fn keys(&self) -> Vec<String> {
        keys(&self.prefix).await
    }
}

impl Drop for KeyPrefix {
    fn drop(&mut self) {
        delete_keys(&self.prefix);
    }
}

/// Every key under `prefix` (`<prefix>:*`), found with `SCAN`.
pub async fn keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut found: Vec<String> = Vec::new();
    let mut iter: redis::AsyncIter<'_, String> =
        redis::AsyncTypedCommands::scan_match(&mut conn, format!("{prefix}:*"))
            .await
            .unwrap();
    while let Some(key) = iter.next_item().await {
        found.push(key.unwrap());
    }
    found
}

/// Deletes every key under `prefix`; silent when Redis is gone (a clean-up must not panic
/// while a failed test unwinds).
pub fn delete_keys(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = match conn.scan_match::<_, String>(format!("{prefix}:*")) {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => return,
    };
    if !keys.is_empty() {
        let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
    }
}

impl std::ops::Deref for KeyPrefix {
    type Target = str;

    fn deref(&self) -> &str {
        &self.prefix
    }
}
