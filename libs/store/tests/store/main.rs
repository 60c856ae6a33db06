//! The store's suites in one test binary (one link instead of seven), every case on SQLite and
//! on PostgreSQL + pgvector in the same run: the contract, encryption at rest, episodes, lexical
//! search, scopes, sealed caller numbers, tombstones and ElevenLabs imports; PostgreSQL sessions' names; SQLite snapshots and
//! its ingest file; and copies of a whole store between backends.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod bulk;
mod contract;
mod copy;
mod copy_seed;
mod encryption;
mod episodes;
mod imports;
mod lexical;
mod scopes;
mod sealed_numbers;
mod sessions;
mod snapshot;
mod staging;
mod support;
mod tombstones;
