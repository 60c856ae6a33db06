//! [`QueryState`]: the cheap handles every handler needs, built once per process.

use std::{path::PathBuf, sync::Arc, time::Duration};

use memvox_ai::{Embedder, SummarizeError, Summarizer, build_summarizer};
use memvox_bus::{Bus, Envelope, Message};
use memvox_cache::{Caching, QueryVectors, UserCache, Versions};
use memvox_config::ExposeSecret;
use memvox_core::redact::{Field, FieldPolicy, RedactionPolicy};
use memvox_core::{Clock, ScoreWeights};
use memvox_identity::Identities;
use memvox_runtime::App;
use memvox_store::Store;

use crate::auth::{BadTokenDigest, InitSecret, Role, TokenAuth};
use crate::config::QueryConfig;
use crate::init_limit::InitLimiter;
use crate::invocations::InvocationLog;
use crate::llm_proxy::LlmProxy;
use crate::metrics::QueryMetrics;
use crate::recall::RecallLog;
use crate::search::{QueryKey, SearchAnswer};
use crate::settings::QuerySettings;
use crate::ui::SessionKeys;

/// What the keyring derives the inspector's session key for.
const UI_SESSION_KEY_PURPOSE: &str = "inspector session";

/// Why the query service could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A configured token digest is malformed.
    #[error(transparent)]
    Token(#[from] BadTokenDigest),
    /// A rule of the query settings is broken.
    #[error("configuration: {0}")]
    Settings(String),
    /// The query counters could not be registered.
    #[error("query metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The summarizer settings are unusable.
    #[error("summarizer: {0}")]
    Summarizer(#[from] SummarizeError),
}

/// Everything the handlers need. Cheap to clone.
#[derive(Clone)]
pub struct QueryState {
    /// System of record.
    pub store: Arc<dyn Store>,
    /// Where recalls and edits are announced, and an erased user's messages deleted.
    pub bus: Arc<dyn Bus>,
    /// Query embedder (with its cache).
    pub embedder: Arc<dyn Embedder>,
    /// Writes the summary of a query's results (within its own deadline).
    pub summarizer: Arc<dyn Summarizer>,
    /// Limits, secrets, greetings.
    pub settings: Arc<QuerySettings>,
    /// Weights of the composite score.
    pub weights: ScoreWeights,
    /// Time source for recency.
    pub clock: Clock,
    /// Accepted tool tokens (the memory-query tool, and `/mcp` for one caller) and their rate
    /// limits.
    pub tool_tokens: Arc<TokenAuth>,
    /// Accepted admin tokens (`/v1` only) and their rate limits.
    pub admin_tokens: Arc<TokenAuth>,
    /// Accepted LLM tokens (the custom-LLM proxy only) and their rate limits.
    pub llm_tokens: Arc<TokenAuth>,
    /// The custom-LLM proxy's upstream and lookup slots; `None` when it is not enabled.
    pub llm_proxy: Option<LlmProxy>,
    /// The initiation webhook's secret.
    pub init_secret: InitSecret,
    /// The initiation webhook's rate limits.
    pub init_limiter: Arc<InitLimiter>,
    /// Counters (registered in the process's registry by [`QueryState::from_app`]).
    pub metrics: QueryMetrics,
    /// How callers are identified: our own numbers and the identity-token keys (the
    /// process's, from [`App`]).
    pub identities: Identities,
    /// Off-the-hot-path log of tool calls.
    pub invocations: InvocationLog,
    /// Recalled memories, announced for reinforcement once per caller per interval.
    pub recalls: RecallLog,
    /// Recent query answers per user, in process and in Redis; `None` when disabled.
    pub answers: Option<UserCache<QueryKey, SearchAnswer>>,
    /// Query embeddings shared through Redis (`cache.shared_query_vectors`); `None` when off.
    pub query_vectors: Option<QueryVectors>,
    /// Per-user cache versions, shared with the process's workers (and, through Redis, with
    /// every other process).
    pub versions: Versions,
    /// Where the gateway keeps post-call audio (`gateway.audio_dir`): an erasure deletes the
    /// caller's files there. `None`: no audio is kept.
    pub audio_dir: Option<PathBuf>,
    /// The redaction policy of memory content (`privacy.redaction`), applied to memories
    /// added or edited through the API.
    pub memory_content: FieldPolicy,
    /// Held while a caller's index is loaded ahead of their call (conversation-init): one such
    /// load at a time, the others skipped, so a burst of cold callers (or a cache too small for
    /// its callers) cannot fill the CPU with loads.
    pub prefetch: Arc<tokio::sync::Semaphore>,
    /// The key memory-inspector sessions (`/ui`) are signed with.
    pub ui_sessions: SessionKeys,
}

impl QueryState {
    /// Builds the state, with the answer cache of `cache`, and starts the tool-invocation log
    /// and recall announcement tasks (needs a Tokio runtime).
    ///
    /// # Errors
    /// [`SetupError::Settings`] for a broken settings rule, [`SetupError::Token`] for a
    /// malformed token digest.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        embedder: Arc<dyn Embedder>,
        summarizer: Arc<dyn Summarizer>,
        settings: QuerySettings,
        cache: &Caching,
    ) -> Result<Self, SetupError> {
        settings.validate().map_err(SetupError::Settings)?;
        let tokens = |role: Role, digests: &[String]| {
            if digests.is_empty() {
                let setting = role.setting();
                tracing::warn!("no {setting} configured: those calls get 401");
            }
            TokenAuth::new(
                role,
                digests,
                settings.rate_limit_per_second,
                settings.rate_limit_burst,
            )
        };
        let tool_tokens = tokens(Role::Tool, &settings.tool_token_sha256)?;
        let admin_tokens = tokens(Role::Admin, &settings.admin_token_sha256)?;
        let llm_proxy = LlmProxy::new(&settings.llm_proxy).map_err(SetupError::Settings)?;
        let llm_tokens = match llm_proxy {
            Some(_) => tokens(Role::Llm, &settings.llm_proxy.token_sha256)?,
            None => TokenAuth::new(Role::Llm, &settings.llm_proxy.token_sha256, 0, 0)?,
        };
        let init_secret = InitSecret::new(
            &settings.init_secret_header,
            settings.init_secrets.iter().map(|s| s.expose_secret()),
        );
        let init_limiter = InitLimiter::new(
            settings.init_rate_per_number_per_minute,
            settings.init_rate_global_per_second,
        );
        let invocations = InvocationLog::start(store.clone(), settings.invocation_queue);
        let recalls = RecallLog::start(
            bus.clone(),
            store.clone(),
            Duration::from_millis(settings.recall_flush_ms),
        );
        let query_vectors = cache.query_vectors(embedder.model_id());
        let weights = ScoreWeights {
            similarity: 1.0 - settings.lexical_weight,
            lexical: settings.lexical_weight,
            ..ScoreWeights::default()
        };
        Ok(Self {
            store,
            bus,
            embedder,
            summarizer,
            settings: Arc::new(settings),
            weights,
            clock: Clock::system(),
            tool_tokens: Arc::new(tool_tokens),
            admin_tokens: Arc::new(admin_tokens),
            llm_tokens: Arc::new(llm_tokens),
            llm_proxy,
            init_secret,
            init_limiter: Arc::new(init_limiter),
            metrics: QueryMetrics::new(),
            identities: Identities::default(),
            invocations,
            recalls,
            answers: cache.user_cache("answers"),
            query_vectors,
            versions: cache.versions.clone(),
            audio_dir: None,
            memory_content: RedactionPolicy::default().field(Field::MemoryContent),
            prefetch: Arc::new(tokio::sync::Semaphore::new(1)),
            ui_sessions: SessionKeys::random(),
        })
    }

    /// The state for a process built by [`App::build`] in `embedder`'s space, with the
    /// configured summarizer.
    ///
    /// # Errors
    /// [`SetupError`] for malformed token digests or summarizer settings.
    pub fn from_app(
        app: &App,
        config: &QueryConfig,
        embedder: Arc<dyn Embedder>,
    ) -> Result<Self, SetupError> {
        let summarizer = build_summarizer(&config.summarizer)?;
        let state = Self::new(
            app.store.clone(),
            app.bus.clone(),
            embedder,
            summarizer,
            config.query.clone(),
            &app.cache,
        )?
        .with_identities(app.identities.clone())
        .with_audio_dir(config.audio_dir.clone())
        .with_ui_session_key(app.keyring.derive_key(UI_SESSION_KEY_PURPOSE).as_deref())
        .with_memory_content_policy(
            app.config
                .privacy
                .redaction
                .policy()
                .field(Field::MemoryContent),
        );
        state.metrics.register(app.metrics.registry())?;
        memvox_ai::register_metrics(app.metrics.registry())?;
        Ok(state)
    }

    /// Replaces the identities (the default knows no numbers of ours and holds no keys, so
    /// it issues and accepts no tokens).
    pub fn with_identities(mut self, identities: Identities) -> Self {
        self.identities = identities;
        self
    }

    /// Sets where post-call audio is kept, for erasure to delete the caller's files.
    pub fn with_audio_dir(mut self, audio_dir: Option<PathBuf>) -> Self {
        self.audio_dir = audio_dir;
        self
    }

    /// Replaces the redaction policy of memory content (the default masks card numbers and
    /// national ids and keeps the rest).
    pub fn with_memory_content_policy(mut self, policy: FieldPolicy) -> Self {
        self.memory_content = policy;
        self
    }

    /// Signs inspector sessions with `key` (every replica holding it accepts the others'
    /// sessions); `None` keeps this process's random key, with a warning.
    pub fn with_ui_session_key(mut self, key: Option<&[u8]>) -> Self {
        match key {
            Some(key) => self.ui_sessions = SessionKeys::new(key),
            None => tracing::warn!(
                "encryption is off: memory-inspector sessions are signed with a key of this \
                 process, so they end when it stops and no other replica accepts them"
            ),
        }
        self
    }

    /// Replaces the clock (tests pin it to compute recency by hand).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Drops every cached answer about `user_id`, in every process; called after each write to
    /// their memories.
    pub async fn invalidate(&self, user_id: &str) {
        self.versions.bump(user_id).await;
    }

    /// Erasure: drops every cached answer about `user_id`, deletes their Redis cache keys and
    /// forgets the recalls waiting to be announced for them.
    pub async fn forget(&self, user_id: &str) {
        self.recalls.forget(user_id);
        match self.versions.forget(user_id).await {
            Some(keys) => tracing::info!(keys, "user's cache keys deleted"),
            None if self.versions.shared().is_some() => tracing::warn!(
                "could not delete the user's cache keys: they expire within cache.shared_ttl_ms"
            ),
            None => {}
        }
    }

    /// Publishes `message` in a background task: announcing is never on the request's path,
    /// and a failed publish is logged, not reported to the caller.
    pub fn announce(&self, message: Message) {
        let bus = self.bus.clone();
        // The request's trace context, taken before the task leaves its span.
        let envelope = Envelope::new(message)
            .with_trace_context(memvox_telemetry::trace::current_traceparent());
        tokio::spawn(async move {
            let kind = envelope.kind();
            if let Err(error) = bus.publish(envelope.message.stream(), &envelope).await {
                tracing::warn!(kind, %error, "could not publish to the bus");
            }
        });
    }
}
