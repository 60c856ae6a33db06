//! The HTTP client of the runner: memvox's public endpoints as ElevenLabs and an agent builder
//! call them — the conversation-init webhook (secret header), the post-call webhook (signed
//! with `ElevenLabs-Signature`), the memory-query tool and the REST API (bearer token) — and
//! `/metrics`. A 429 (rate limit) is waited out and retried; any other failure is an error.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memvox_core::Clock;
use memvox_identity::IdentityKeys;
use serde::Deserialize;
use serde_json::Value;

/// Lifetime of the fact probes' identity tokens.
const TOKEN_TTL_SECS: u64 = 3600;

/// Where memvox is and the credentials to reach it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// ElevenLabs webhook signing secret.
    pub webhook_secret: String,
    /// Tool token (the memory-query tool).
    pub token: String,
    /// Admin token (the `/v1` REST API).
    pub admin_token: String,
    /// An integrator secret memvox accepts (`identity.integrator_secrets`): the fact probes
    /// add memories to users of their own, and sign their ids with it to query them.
    pub integrator_secret: String,
    /// Conversation-init header and secret, when the init webhook is configured.
    pub init: Option<(String, String)>,
}

/// One memory of a memory-query answer, as far as scoring needs it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Item {
    /// Memory id.
    pub id: Value,
    /// Memory text.
    pub content: String,
    /// Where it came from, when it came from a call.
    #[serde(default)]
    pub source: Option<Source>,
}

/// Provenance of a memory.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Source {
    /// The call.
    pub conversation_id: String,
    /// Turn indexes within it.
    #[serde(default)]
    pub turns: Vec<u32>,
}

/// A memory-query answer: its items, its size on the wire and the client-measured latency.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Returned memories, in order.
    pub items: Vec<Item>,
    /// Response body size in bytes.
    pub bytes: usize,
    /// Request to last byte, measured by the client.
    pub latency: Duration,
}

/// A memory as the REST listing shows it.
#[derive(Deserialize)]
struct Listed {
    id: Value,
    content: String,
    #[serde(default)]
    provenance: Option<Provenance>,
}

#[derive(Deserialize)]
struct Provenance {
    conversation_id: String,
    #[serde(default)]
    turn_indexes: Vec<u32>,
}

#[derive(Deserialize)]
struct AnswerBody {
    memories: Vec<Item>,
}

/// A client of one memvox.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Where and how.
    pub endpoint: Endpoint,
}

impl Client {
    /// A client of `endpoint`.
    pub fn new(endpoint: Endpoint) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("HTTP client")?;
        Ok(Self { http, endpoint })
    }

    /// An identity token for `user_id`, signed as an integrator's backend signs one.
    pub fn identity_token(&self, user_id: &str) -> String {
        let keys = IdentityKeys::new(
            Some(self.endpoint.integrator_secret.as_bytes().to_vec()),
            &[],
            TOKEN_TTL_SECS,
        );
        let now = Clock::system().now_secs();
        keys.issue(user_id, "memvox_eval", None, now)
            .unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.base_url.trim_end_matches('/'))
    }

    /// Sends a request built by `build`, waiting out 429s; returns the 2xx body.
    async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> anyhow::Result<Vec<u8>> {
        for _ in 0..50 {
            let response = build().send().await.with_context(|| what.to_owned())?;
            let status = response.status();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let body = response.bytes().await.with_context(|| what.to_owned())?;
            if !status.is_success() {
                bail!("{what}: {status}: {}", String::from_utf8_lossy(&body));
            }
            return Ok(body.to_vec());
        }
        bail!("{what}: still rate limited after 10 s")
    }

    /// `POST /webhook/conversation-init`; returns the response JSON.
    pub async fn conversation_init(&self, request: &Value) -> anyhow::Result<Value> {
        let (header, secret) = self
            .endpoint
            .init
            .clone()
            .context("the conversation-init webhook needs --init-secret")?;
        let body = self
            .send("conversation-init", || {
                self.http
                    .post(self.url("/webhook/conversation-init"))
                    .header(header.as_str(), secret.as_str())
                    .json(request)
            })
            .await?;
        serde_json::from_slice(&body).context("conversation-init answer is not JSON")
    }

    /// `POST /webhook/post-call` with `body`, signed now as ElevenLabs signs.
    pub async fn post_call(&self, body: &[u8]) -> anyhow::Result<()> {
        let now = Clock::system().now_secs();
        let signature =
            memvox_elevenlabs::signature::sign(self.endpoint.webhook_secret.as_bytes(), now, body);
        self.send("post-call webhook", || {
            self.http
                .post(self.url("/webhook/post-call"))
                .header("ElevenLabs-Signature", signature.as_str())
                .header("content-type", "application/json")
                .body(body.to_vec())
        })
        .await?;
        Ok(())
    }

    /// `POST /tools/memory-query` with the tool's body (see the memory_query tool request
    /// fixture): the query, the identity the agent's dynamic variables carry, and `limit`.
    pub async fn memory_query(
        &self,
        query: &str,
        user_id: &str,
        caller_id: &str,
        conversation_id: &str,
        limit: u32,
    ) -> anyhow::Result<Answer> {
        let body = serde_json::json!({
            "query": query,
            "user_id": user_id,
            "caller_id": caller_id,
            "conversation_id": conversation_id,
            "limit": limit,
        });
        let started = Instant::now();
        let bytes = self
            .send("memory-query", || {
                self.http
                    .post(self.url("/tools/memory-query"))
                    .bearer_auth(&self.endpoint.token)
                    .header("X-Caller-Id", caller_id)
                    .json(&body)
            })
            .await?;
        let latency = started.elapsed();
        let parsed: AnswerBody =
            serde_json::from_slice(&bytes).context("memory-query answer has no memories")?;
        Ok(Answer {
            items: parsed.memories,
            bytes: bytes.len(),
            latency,
        })
    }

    /// `POST /v1/users/{user_id}/memories`: adds a semantic memory; returns its id.
    pub async fn add_memory(&self, user_id: &str, content: &str) -> anyhow::Result<Value> {
        let body = serde_json::json!({"content": content, "sector": "semantic"});
        let bytes = self
            .send("add memory", || {
                self.http
                    .post(self.url(&format!("/v1/users/{user_id}/memories")))
                    .bearer_auth(&self.endpoint.admin_token)
                    .json(&body)
            })
            .await?;
        let memory: Value = serde_json::from_slice(&bytes).context("add memory answer")?;
        memory.get("id").cloned().context("added memory has no id")
    }

    /// `GET /v1/users/{user_id}/memories` (active, up to 1,000, facts and episodes), as items
    /// with their source. A server that knows no `kind` filter (facts only) is asked without.
    pub async fn list_memories(&self, user_id: &str) -> anyhow::Result<Vec<Item>> {
        let list = |query: &'static str| {
            self.send("list memories", move || {
                self.http
                    .get(self.url(&format!("/v1/users/{user_id}/memories?{query}")))
                    .bearer_auth(&self.endpoint.admin_token)
            })
        };
        let bytes = match list("limit=1000&kind=fact,episode").await {
            Ok(bytes) => bytes,
            Err(_) => list("limit=1000").await?,
        };
        let memories: Vec<Listed> = serde_json::from_slice(&bytes).context("memory list")?;
        Ok(memories
            .into_iter()
            .map(|m| Item {
                id: m.id,
                content: m.content,
                source: m.provenance.map(|p| Source {
                    conversation_id: p.conversation_id,
                    turns: p.turn_indexes,
                }),
            })
            .collect())
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        let bytes = self
            .send("metrics", || self.http.get(self.url("/metrics")))
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
