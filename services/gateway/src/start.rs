//! The gateway as a process of its own: it reads the shared sections, `[gateway]` and
//! `[elevenlabs]` from the configuration's layers — nothing of the models' sections — and opens
//! the store without an embedding space, so it starts without an embedding model: the
//! acknowledgement path never waits on one.

use std::path::Path;

use memvox_config::{ConfigError, Layers, SharedConfig};
use memvox_runtime::App;
use memvox_store::EmbeddingSpace;

use crate::import::ElevenLabsSettings;
use crate::{GatewaySettings, GatewayState};

/// What the gateway process reads of the configuration.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// The sections every process reads.
    pub shared: SharedConfig,
    /// `[gateway]`.
    pub gateway: GatewaySettings,
    /// `[elevenlabs]`: the API key and the poll.
    pub elevenlabs: ElevenLabsSettings,
}

impl GatewayConfig {
    /// Loads the layers (`file`, else `MEMVOX_CONFIG`; then the environment) and reads and
    /// validates the gateway's sections.
    ///
    /// # Errors
    /// [`ConfigError`] saying in a sentence what is wrong.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let layers = Layers::load(file)?;
        Ok(Self {
            shared: SharedConfig::load(&layers)?,
            gateway: GatewaySettings::load(&layers)?,
            elevenlabs: ElevenLabsSettings::load(&layers)?,
        })
    }
}

/// Builds the gateway's runtime (store, bus, metrics) and its state, as `memvox-gateway` does.
///
/// # Errors
/// The part that could not start: keys, store, bus, metrics or a webhook secret.
pub async fn start(config: GatewayConfig) -> anyhow::Result<(App, GatewayState)> {
    let app = App::build(config.shared, EmbeddingSpace::none()).await?;
    let state = GatewayState::from_app(&app, config.gateway)?;
    Ok((app, state))
}
