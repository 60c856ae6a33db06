//! `memvox-query`: the query service on its own — the tool, the initiation webhook, the REST
//! API, MCP and (when enabled) the custom-LLM proxy, with health and metrics endpoints
//! ([`memvox_query::serve`]).

use memvox_query::{router, serve};
use memvox_runtime::Service;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    serve::serve(Service::Query, |_| Ok(()), router).await
}
