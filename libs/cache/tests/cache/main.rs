//! The two cache tiers against a real Redis (`MEMVOX_TEST_REDIS_URL`, default 127.0.0.1:6379),
//! in one test binary: invalidation across processes and degradation (`redis`), what Redis holds
//! (`sealing`). Each test uses its own key prefix; its keys go when the prefix guard drops.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod redis;
mod sealing;
mod support;
