//! Importing past calls from the ElevenLabs conversations API, as if their post-call webhooks
//! had been delivered: `memvox elevenlabs import` ([`Importer::run`]) and the gateway's
//! optional periodic poll for calls whose webhook never arrived ([`Importer::poll`]).
//!
//! A conversation is listed (`GET /v1/convai/conversations`, by agent and call-start window,
//! page after page with the cursor), its details read (`GET /v1/convai/conversations/{id}`,
//! the post-call webhook's `data`) and turned into the `post_call_transcription` event its
//! webhook delivers, which goes through the webhook's own ingest (`ingest::record`): stored
//! idempotently on `(type, conversation_id)`, published, marked. So a call is one call however
//! it arrives — imported then delivered, delivered then imported, imported twice: the second
//! is a duplicate (the webhook answers `"duplicate": true`; an import counts it and does not
//! even fetch the details of a conversation already stored). No signature is checked on an
//! import: the details come over TLS with our API key.
//!
//! Only `done` conversations are imported (ElevenLabs sends the webhook when a call finished
//! and its analysis is complete); `failed` ones are skipped; running or analysing ones, and
//! ones whose details could not be fetched this time, are kept pending in the store and looked
//! at again by every later import and poll. Where a run stands is saved after every page, so
//! an interrupted import resumes at its last page ([`run`]). Only a 401 or 403 (the key), or a
//! store that cannot be written, stops a run: other failures are counted per conversation.

mod conversation;
mod metrics;
mod poll;
mod report;
mod run;
mod settings;

use std::sync::Arc;

use memvox_elevenlabs::api::{ApiClient, ApiError};
use memvox_store::StoreError;

pub use metrics::{ImportMetrics, PollResult};
pub use poll::{POLL_LEASE, poll_task};
pub use report::{Outcome, Report};
pub use run::{RunOptions, Window};
pub use settings::{API_KEY_ENV, ElevenLabsSettings, PollSettings};

use crate::{GatewayError, GatewayState};

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// No API key is configured.
    #[error(
        "no ElevenLabs API key: set elevenlabs.api_key (MEMVOX_ELEVENLABS__API_KEY) or {API_KEY_ENV}"
    )]
    NoApiKey,
    /// The poll is on but no API key is configured.
    #[error(
        "elevenlabs.poll.enabled needs an API key: set elevenlabs.api_key \
         (MEMVOX_ELEVENLABS__API_KEY) or {API_KEY_ENV} for the gateway"
    )]
    PollWithoutKey,
    /// The API refused the key, or a list page could not be read.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Where the import stands could not be read or saved.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// An imported event could not be stored.
    #[error("storing an imported event: {0}")]
    Ingest(#[from] GatewayError),
    /// The import's metrics could not be registered.
    #[error("import metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A window was asked for while another run of the same import is unfinished.
    #[error(
        "an import of {name} over another window is unfinished: run it again without \
         --since/--until to finish it, or add --restart to drop it"
    )]
    Unfinished {
        /// The import.
        name: String,
    },
}

/// Imports conversations into one gateway's store and bus. Cheap to clone.
#[derive(Clone)]
pub struct Importer {
    state: GatewayState,
    client: ApiClient,
    metrics: ImportMetrics,
    page_size: u32,
    concurrent_requests: usize,
}

impl Importer {
    /// An importer feeding `state`'s ingest with the API `settings` describe, counting on
    /// `metrics` (retries included).
    ///
    /// # Errors
    /// [`ImportError::NoApiKey`] without a key; [`ImportError::Api`] if the client cannot be
    /// built.
    pub fn new(
        state: GatewayState,
        settings: &ElevenLabsSettings,
        metrics: ImportMetrics,
    ) -> Result<Self, ImportError> {
        let client = settings.client()?.ok_or(ImportError::NoApiKey)?;
        let retries = metrics.clone();
        let client = client.with_retry_observer(Arc::new(move |notice| {
            retries.retried(notice.reason);
            tracing::info!(
                reason = notice.reason.label(),
                attempt = notice.attempt,
                wait_ms = u64::try_from(notice.delay.as_millis()).unwrap_or(u64::MAX),
                "ElevenLabs API request failed; trying again"
            );
        }));
        Ok(Self {
            state,
            client,
            metrics,
            page_size: settings.page_size,
            concurrent_requests: settings.concurrent_requests,
        })
    }

    /// The gateway state the importer feeds (its published marks are settled before exit).
    pub fn state(&self) -> &GatewayState {
        &self.state
    }
}
