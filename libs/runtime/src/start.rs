//! The first step of each service's own binary: its configuration, then logging.

use memvox_config::{ConfigError, Layers, SharedConfig};
use memvox_telemetry::TelemetryGuard;

use crate::StartupError;

/// Loads the configuration layers (the `MEMVOX_CONFIG` file, then the `MEMVOX_*` environment),
/// reads the shared sections and, with `own`, the service's own, then starts logging as the
/// shared `[log]` section says (trace export included: hold the returned guard until the
/// process ends, so the last spans are flushed).
///
/// # Errors
/// [`StartupError::Config`] for a configuration that does not load or validate,
/// [`StartupError::Logging`] for an invalid log filter.
pub fn load_config<C>(
    own: impl FnOnce(&Layers) -> Result<C, ConfigError>,
) -> Result<(SharedConfig, C, TelemetryGuard), StartupError> {
    let layers = Layers::load(None)?;
    let (shared, config) = (SharedConfig::load(&layers)?, own(&layers)?);
    let traces = memvox_telemetry::init_logging(&shared.log)?;
    Ok((shared, config, traces))
}
