//! The query service's suites in one test binary (one link of the service instead of seven):
//! the REST API, caches, follow-ups, caller identity, conversation-init, scopes, the
//! memory-query tool, MCP, the custom-LLM proxy and the memory inspector, most cases on both
//! store backends.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod api;
mod cache;
mod follow_up;
mod identity;
mod init;
mod llm_proxy;
mod llm_proxy_upstream;
mod mcp;
mod mcp_auth;
mod openapi;
mod scope;
mod standalone;
mod support;
mod tool;
mod ui;
mod ui_changes;
