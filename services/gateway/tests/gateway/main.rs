//! The gateway's suites in one test binary: behaviour under load and failure, body limits and
//! content types, the post-call webhook on every store × bus combination, the fixture signature
//! vectors, unredacted deliveries, the import of past calls from a fake ElevenLabs API, and the
//! `memvox-gateway` binary's health endpoints and SIGTERM stop.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod behaviour;
mod binary;
mod body;
mod fake_api;
mod import;
mod post_call;
mod signature_vectors;
mod support;
mod unredacted;
