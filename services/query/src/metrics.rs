//! Counters of the query service beside the HTTP metrics: initiation requests answered
//! generically because of a rate limit, identities the tool refused, calls of agents not
//! served, MCP tool calls (which share one route and mostly answer 200, so the HTTP
//! metrics cannot tell their tools and outcomes apart), and the custom-LLM proxy's
//! ([`crate::llm_proxy::metrics`]).
//!
//! They start unregistered (tests read them directly); [`QueryMetrics::register`] adds them to
//! the process's registry.

use prometheus::{IntCounterVec, Opts, Registry};

use crate::llm_proxy::ProxyMetrics;

/// The query service's counters.
#[derive(Debug, Clone)]
pub struct QueryMetrics {
    /// `memvox_init_limited_total{limit=number|global}`.
    pub init_limited: IntCounterVec,
    /// `memvox_query_identity_refused_total{reason}`: tool calls (and MCP and custom-LLM proxy
    /// requests, whose callers are resolved as the tool's) whose `user_id` was not an
    /// identity memvox or an integrator signed for this call (`not_a_token`, `bad_signature`,
    /// `expired`, `wrong_agent`, `wrong_conversation`, `malformed`).
    pub identity_refused: IntCounterVec,
    /// `memvox_query_agent_ignored_total{route=init|tool}`: calls of agents outside
    /// `identity.agent_ids`, answered with nothing.
    pub agent_ignored: IntCounterVec,
    /// `memvox_query_mcp_calls_total{tool,outcome}`: MCP `tools/call` requests by tool (one of
    /// the five, or `unknown`) and outcome (`ok`, `tool_error`: a result with `isError`,
    /// `invalid`: -32602, `error`: -32603).
    pub mcp_calls: IntCounterVec,
    /// The custom-LLM proxy's requests, fail-opens, lookup and upstream times.
    pub llm_proxy: ProxyMetrics,
}

impl Default for QueryMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryMetrics {
    /// Fresh, unregistered counters.
    pub fn new() -> Self {
        let init_limited = IntCounterVec::new(
            Opts::new(
                "memvox_init_limited_total",
                "Conversation-init requests answered generically because a rate limit was hit",
            ),
            &["limit"],
        )
        .expect("valid metric");
        let identity_refused = IntCounterVec::new(
            Opts::new(
                "memvox_query_identity_refused_total",
                "Memory-query tool calls whose claimed identity memvox did not accept",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let agent_ignored = IntCounterVec::new(
            Opts::new(
                "memvox_query_agent_ignored_total",
                "Conversation-init and tool calls of agents memvox does not serve",
            ),
            &["route"],
        )
        .expect("valid metric");
        let mcp_calls = IntCounterVec::new(
            Opts::new(
                "memvox_query_mcp_calls_total",
                "MCP tool calls, by tool and outcome",
            ),
            &["tool", "outcome"],
        )
        .expect("valid metric");
        Self {
            init_limited,
            identity_refused,
            agent_ignored,
            mcp_calls,
            llm_proxy: ProxyMetrics::new(),
        }
    }

    /// Counts a call of an agent outside the allowlist on `route`.
    pub fn agent_ignored(&self, route: &str) {
        self.agent_ignored.with_label_values(&[route]).inc();
    }

    /// Registers every counter in `registry`.
    ///
    /// # Errors
    /// A counter of the same name is already registered.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.init_limited.clone()))?;
        registry.register(Box::new(self.identity_refused.clone()))?;
        registry.register(Box::new(self.agent_ignored.clone()))?;
        registry.register(Box::new(self.mcp_calls.clone()))?;
        self.llm_proxy.register(registry)
    }
}
