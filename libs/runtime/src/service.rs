//! Which memvox process is running, which names its metrics and logs and decides what its
//! readiness waits for.
//!
//! Readiness takes a pod out of rotation, so it only waits for what the process cannot serve
//! without:
//! - the **gateway** (and `memvox serve`, which holds it) needs the store, where every delivery
//!   is recorded first; a bus outage is covered by the outbox (the event is recorded, its
//!   message published later by the reconciler), so it must not take the gateway out;
//! - the **query** service (and the custom-LLM proxy alone, `memvox-llm-proxy`) needs the
//!   store to answer; the bus only carries recall reinforcement, which waits;
//! - the **workers** need both: they read the bus and write the store.

/// A memvox process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The webhook receiver (`memvox-gateway`).
    Gateway,
    /// The memory-query tool, conversation-init webhook and REST API (`memvox-query`).
    Query,
    /// The extraction worker (`memvox-extraction-worker`).
    ExtractionWorker,
    /// The embedding worker (`memvox-embedding-worker`).
    EmbeddingWorker,
    /// Everything in one process (`memvox serve`).
    Memvox,
    /// The custom-LLM proxy alone (`memvox-llm-proxy`).
    LlmProxy,
}

impl Service {
    /// Its name in logs, metrics and `GET /health`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Query => "query",
            Self::ExtractionWorker => "extraction-worker",
            Self::EmbeddingWorker => "embedding-worker",
            Self::Memvox => "memvox",
            Self::LlmProxy => "llm-proxy",
        }
    }

    /// Whether its readiness waits for the bus (the store is always waited for).
    pub fn needs_bus_to_be_ready(self) -> bool {
        matches!(self, Self::ExtractionWorker | Self::EmbeddingWorker)
    }
}
