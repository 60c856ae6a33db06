//! The end-to-end suites of the `memvox` command in one test binary (one link of every service
//! and the model runtime instead of thirteen): both deployments (SQLite + in-process bus,
//! PostgreSQL + Redis Streams), the command line, backup and restore, erasure, identity,
//! privacy, recovery, the import of past calls from the ElevenLabs API and the custom-LLM proxy.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod audio;
mod backup;
mod cli;
mod dlq;
mod elevenlabs;
mod erasure;
mod erasure_every_copy;
mod identity;
mod import;
mod keys;
mod llm_proxy;
mod migrate_store;
mod pipeline;
mod recall_probe;
mod redaction;
mod redis_outage;
mod retention;
mod stream_entries;
mod support;
mod traces;
