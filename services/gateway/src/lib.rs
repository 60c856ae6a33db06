//! memvox gateway: the ElevenLabs post-call webhook, `POST /webhook/post-call`.
//!
//! A delivery is acknowledged with 200 only after its signature checked out over the exact bytes
//! received and its raw event row is durably stored (idempotently, on `(type, conversation_id)`);
//! the row is then announced on the `events` stream for the extraction worker. Everything heavy
//! happens in the workers. See `routes::post_call` for the steps and the README for why the row
//! comes before the publish and why a failed publish still answers 200.
//!
//! [`router`] builds the routes from a [`GatewayState`]; `main.rs` adds health endpoints,
//! instrumentation and the listener, and runs the optional poll of the ElevenLabs API for calls
//! whose webhook never arrived ([`import`], which also serves `memvox elevenlabs import`).

mod audio;
pub mod audio_file;
mod body;
pub mod error;
pub mod group_commit;
pub mod import;
mod ingest;
pub mod large_bodies;
mod marks;
pub mod metrics;
mod rate_limit;
pub mod routes;
mod settings;
mod staged;
mod start;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use memvox_bus::Bus;
use memvox_config::{ExposeSecret, UnredactedWebhooks};
use memvox_crypto::Keyring;
use memvox_elevenlabs::SignatureVerifier;
use memvox_elevenlabs::signature::SecretError;
use memvox_runtime::App;
use memvox_store::Store;

use crate::ingest::Announcer;

pub use audio_file::{AudioReadError, audio_path, read_audio};
pub use error::GatewayError;
pub use group_commit::GroupCommit;
pub use large_bodies::LargeBodies;
pub use marks::PublishedMarks;
pub use memvox_core::Clock;
pub use metrics::GatewayMetrics;
pub use settings::GatewaySettings;
pub use staged::StagedDeliveries;
pub use start::{GatewayConfig, start};

/// Why a gateway could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A configured webhook secret is unusable (e.g. empty).
    #[error("gateway.webhook_secrets: {0}")]
    Secret(#[from] SecretError),
    /// The gateway metrics could not be registered.
    #[error("gateway metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Everything the gateway's handlers need. Cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    /// System of record for raw events.
    pub store: Arc<dyn Store>,
    /// Where accepted events are announced.
    pub bus: Arc<dyn Bus>,
    /// Signature verifier; `None` when no secret is configured (every delivery gets 503).
    pub verifier: Option<Arc<SignatureVerifier>>,
    /// Limits, audio directory, rate limits.
    pub settings: Arc<GatewaySettings>,
    /// Encrypts post-call audio files (the store's keys).
    pub keyring: Keyring,
    /// Time source for signature freshness and receipt times.
    pub clock: Clock,
    /// The gateway's Prometheus metrics.
    pub metrics: GatewayMetrics,
    /// Published rows waiting for their `published_at` mark (written after the 200).
    pub published: Arc<PublishedMarks>,
    /// Deliveries waiting to be stored together in the next write transaction.
    pub group_commit: GroupCommit,
    /// Moves deliveries acknowledged into the store's ingest file to the events table and
    /// announces them.
    pub staged: StagedDeliveries,
    /// Slots for large bodies (`large_body_bytes`, `max_concurrent_large_bodies`).
    pub large_bodies: LargeBodies,
    /// What becomes of `unredacted_transcript` and `unredacted_audio` deliveries
    /// (`privacy.unredacted_webhooks`; dropped by default).
    pub unredacted_webhooks: UnredactedWebhooks,
}

impl GatewayState {
    /// Builds the state; the verifier comes from `settings` (secrets, tolerance, future skew);
    /// `keyring` encrypts audio files (the store's keys; [`Keyring::disabled`] writes them as
    /// received).
    ///
    /// # Errors
    /// [`SetupError::Secret`] if a configured secret is empty.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        settings: GatewaySettings,
        metrics: GatewayMetrics,
        keyring: Keyring,
    ) -> Result<Self, SetupError> {
        let verifier = verifier(&settings)?;
        let large_bodies = LargeBodies::new(
            settings.large_body_bytes,
            settings.max_concurrent_large_bodies,
        );
        let published = Arc::new(PublishedMarks::default());
        let clock = Clock::system();
        let announcer = Announcer {
            bus: bus.clone(),
            metrics: metrics.clone(),
            published: published.clone(),
            store: store.clone(),
            clock: clock.clone(),
        };
        let staged = StagedDeliveries::new(store.clone(), announcer.clone());
        Ok(Self {
            group_commit: GroupCommit::start(
                store.clone(),
                metrics.clone(),
                announcer,
                staged.clone(),
            ),
            staged,
            store,
            bus,
            verifier: verifier.map(Arc::new),
            settings: Arc::new(settings),
            keyring,
            clock,
            metrics,
            published,
            large_bodies,
            unredacted_webhooks: UnredactedWebhooks::default(),
        })
    }

    /// The state for a process built by [`App::build`], with metrics on the app's registry and
    /// the unredacted-webhook policy of its `[privacy]`.
    ///
    /// # Errors
    /// [`SetupError`] for an empty secret or metrics already registered.
    pub fn from_app(app: &App, settings: GatewaySettings) -> Result<Self, SetupError> {
        let metrics = GatewayMetrics::register(app.metrics.registry())?;
        Ok(Self::new(
            app.store.clone(),
            app.bus.clone(),
            settings,
            metrics,
            app.keyring.clone(),
        )?
        .with_unredacted_webhooks(app.config.privacy.unredacted_webhooks))
    }

    /// Sets what becomes of the unredacted webhook variants (`privacy.unredacted_webhooks`).
    pub fn with_unredacted_webhooks(mut self, policy: UnredactedWebhooks) -> Self {
        self.unredacted_webhooks = policy;
        self
    }

    /// What is left to finish once the gateway stopped serving (see [`Unfinished::finish`]).
    pub fn unfinished(&self) -> Unfinished {
        Unfinished {
            staged: self.staged.clone(),
            published: self.published.clone(),
        }
    }

    /// Replaces the clock (tests pin it to a signature's instant).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.staged = self.staged.with_clock(clock.clone());
        // The group commit announces with the same announcer as the mover, now on `clock`.
        self.group_commit = GroupCommit::start(
            self.store.clone(),
            self.metrics.clone(),
            self.staged.announcer().clone(),
            self.staged.clone(),
        );
        self.clock = clock;
        self
    }
}

/// What an acknowledgement leaves to be done after its 200: staged deliveries to move and
/// announce, published marks to write.
#[derive(Clone)]
pub struct Unfinished {
    staged: StagedDeliveries,
    published: Arc<PublishedMarks>,
}

impl Unfinished {
    /// Finishes it, once the gateway stopped serving: a stopping process leaves nothing
    /// staged (what it cannot move, the store moves when it next opens) and writes its marks
    /// (unwritten, they only cost re-publishes, but writing them spares the workers).
    pub async fn finish(self) {
        if let Err(error) = self.staged.drain().await {
            tracing::warn!(%error, "acknowledged deliveries left in the ingest file: moved when the store next opens");
        }
        self.published.settled().await;
    }
}

/// The verifier for the configured secrets; `None` when there are none.
fn verifier(settings: &GatewaySettings) -> Result<Option<SignatureVerifier>, SecretError> {
    if settings.webhook_secrets.is_empty() {
        return Ok(None);
    }
    let secrets = settings
        .webhook_secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes());
    let mut verifier =
        SignatureVerifier::new(secrets)?.with_tolerance_secs(settings.signature_tolerance_secs);
    if let Some(skew) = settings.signature_future_skew_secs {
        verifier = verifier.with_max_future_skew_secs(skew);
    }
    Ok(Some(verifier))
}

/// The gateway's routes (`POST /webhook/post-call`), rate limited per client address (the
/// forwarded client behind a trusted proxy, see `gateway.trusted_proxies`).
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so the limiter sees
/// client addresses; without them all requests share one bucket.
pub fn router(state: GatewayState) -> Router {
    if state.verifier.is_none() {
        tracing::warn!(
            "no gateway.webhook_secrets configured: post-call webhooks will be refused with 503"
        );
    }
    let limiter = rate_limit::limiter(
        state.settings.rate_limit_per_second,
        state.settings.rate_limit_burst,
        &state.settings.trusted_proxies,
    );
    let routes = routes::post_call::router();
    let routes = match limiter {
        Some(limiter) => routes.layer(from_fn_with_state(limiter, rate_limit::limit)),
        None => routes,
    };
    routes.with_state(state)
}
