//! Process-wide log output: one `tracing` subscriber writing to stderr, as JSON lines for
//! production or as human-readable lines for development, filtered by an `EnvFilter` directive;
//! and, when an OTLP endpoint is configured (`log.otlp` or `OTEL_EXPORTER_OTLP_ENDPOINT`), a
//! second layer exporting spans (see [`crate::trace`]).
//!
//! Installing is idempotent: the first successful [`init_logging`] wins and later calls return
//! an empty guard without touching the installed subscriber, so tests and `memvox serve` (which
//! starts several services in one process) can all call it.

use std::io::IsTerminal;

use serde::Deserialize;
use tracing_subscriber::{
    EnvFilter, Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _,
};

use crate::TelemetryError;
use crate::trace::{OtlpSettings, TelemetryGuard, export};

/// How log events are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, event fields flattened to the top level, with the enclosing
    /// spans (request id, route, ...). Use in production, where logs are collected and parsed.
    Json,
    /// One human-readable line per event, coloured when stderr is a terminal.
    #[default]
    Pretty,
}

/// Logging configuration, usually the `log` section of a service's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// Output format: `pretty` (default) or `json`.
    pub format: LogFormat,
    /// Which events to keep, as an `EnvFilter` directive such as `info` or
    /// `info,memvox_store=debug,sqlx=warn`. Defaults to `info`.
    pub filter: String,
    /// Trace export over OTLP: off unless an endpoint is set here or in
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (see [`OtlpSettings`]).
    pub otlp: OtlpSettings,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::default(),
            filter: "info".to_owned(),
            otlp: OtlpSettings::default(),
        }
    }
}

/// Installs the global `tracing` subscriber described by `settings`, writing to stderr and,
/// when trace export is configured (`settings.otlp` or the `OTEL_*` variables), exporting spans
/// over OTLP. Hold the returned guard until the process ends: dropping it flushes the spans
/// still buffered. With gRPC export, call it inside a Tokio runtime.
///
/// Returns an error when the filter directive or the trace settings are invalid (checked on
/// every call). When a global subscriber is already installed, by an earlier call or by
/// anything else, this is a no-op that returns an empty guard.
pub fn init_logging(settings: &LogSettings) -> Result<TelemetryGuard, TelemetryError> {
    let filter =
        EnvFilter::try_new(&settings.filter).map_err(|source| TelemetryError::InvalidFilter {
            directive: settings.filter.clone(),
            source,
        })?;
    let plan = settings
        .otlp
        .resolve(|name| std::env::var(name).ok(), &executable_name())?;
    let provider = plan.as_ref().map(export::provider).transpose()?;
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match settings.format {
        LogFormat::Json => fmt.json().flatten_event(true).with_filter(filter).boxed(),
        LogFormat::Pretty => fmt
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(filter)
            .boxed(),
    };
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(provider.as_ref().map(export::layer))
        .try_init();
    // `try_init` fails only when a global subscriber already exists: the documented no-op.
    if installed.is_err() {
        tracing::debug!("a global tracing subscriber is already installed; keeping it");
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return Ok(TelemetryGuard::default());
    }
    if let Some(plan) = &plan {
        tracing::info!(protocol = ?plan.protocol, service = %plan.service_name, "exporting traces over OTLP");
    }
    Ok(provider.map(TelemetryGuard::new).unwrap_or_default())
}

/// The running executable's file name (`memvox`, `memvox-gateway`, ...): the default
/// `service.name`.
fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "memvox".to_owned())
}

/// An error and every source below it, joined with `: `: what a log line shows of an error
/// whose own message names only the outer layer.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_pretty_info() {
        let settings = LogSettings::default();
        assert_eq!(settings.format, LogFormat::Pretty);
        assert_eq!(settings.filter, "info");
    }

    #[test]
    fn deserializes_partial_settings_over_defaults() {
        let settings: LogSettings = serde_json::from_str(r#"{"format":"json"}"#).unwrap();
        assert_eq!(settings.format, LogFormat::Json);
        assert_eq!(settings.filter, "info");
    }

    #[test]
    fn rejects_unknown_format_and_fields() {
        assert!(serde_json::from_str::<LogSettings>(r#"{"format":"xml"}"#).is_err());
        assert!(serde_json::from_str::<LogSettings>(r#"{"fromat":"json"}"#).is_err());
    }

    #[test]
    fn invalid_filter_is_reported() {
        let settings = LogSettings {
            format: LogFormat::Json,
            filter: "memvox=loudest".to_owned(),
            ..LogSettings::default()
        };
        let err = init_logging(&settings).unwrap_err();
        assert!(matches!(err, TelemetryError::InvalidFilter { .. }), "{err}");
        assert!(err.to_string().contains("memvox=loudest"), "{err}");
    }

    #[test]
    fn second_init_is_a_no_op() {
        let json = LogSettings {
            format: LogFormat::Json,
            filter: "warn".to_owned(),
            ..LogSettings::default()
        };
        drop(init_logging(&json).unwrap());
        assert!(!init_logging(&LogSettings::default()).unwrap().exporting());
    }
}
