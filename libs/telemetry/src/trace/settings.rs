//! Trace export settings: the typed `log.otlp` section, merged with the standard `OTEL_*`
//! variables into one [`ExportPlan`] (or none: export is off by default).
//!
//! Precedence, field by field: the typed setting (TOML file or `MEMVOX_LOG__OTLP__*`) wins;
//! where it is unset, the standard variable applies (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then
//! `OTEL_EXPORTER_OTLP_ENDPOINT`; `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, then
//! `OTEL_EXPORTER_OTLP_PROTOCOL`; `OTEL_SERVICE_NAME`; `OTEL_TRACES_SAMPLER` with
//! `OTEL_TRACES_SAMPLER_ARG`); then the default. `OTEL_SDK_DISABLED=true` turns export off
//! whatever else is set. Without an endpoint from either source nothing is exported and no
//! exporter is built: the product runs offline.
//!
//! The other `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression) are read by the
//! exporter itself.

use serde::Deserialize;

use crate::TelemetryError;

/// How spans travel to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), port 4318 by convention. The default,
    /// as the OpenTelemetry specification recommends.
    Http,
    /// OTLP/gRPC, port 4317 by convention.
    Grpc,
}

/// The `log.otlp` section: trace export. Every field is optional; unset fields fall back to the
/// standard `OTEL_*` variables (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpSettings {
    /// The collector's base URL, e.g. `http://jaeger:4318` (HTTP; `/v1/traces` is appended)
    /// or `http://jaeger:4317` (gRPC). Unset: `OTEL_EXPORTER_OTLP_ENDPOINT`, else no export.
    pub endpoint: Option<String>,
    /// `http` or `grpc`. Unset: `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` or `grpc`),
    /// else `http`.
    pub protocol: Option<OtlpProtocol>,
    /// The `service.name` of every span. Unset: `OTEL_SERVICE_NAME`, else the executable's
    /// name (`memvox`, `memvox-gateway`, ...).
    pub service_name: Option<String>,
    /// Fraction of new traces kept, in `[0, 1]`; a trace continued from a message or request
    /// keeps its parent's decision. Unset: `OTEL_TRACES_SAMPLER`, else 1 (every trace).
    pub sample_ratio: Option<f64>,
}

/// What sampler the process runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SamplerPlan {
    /// Keep a fraction of traces; `parent_based` follows a sampled parent's decision.
    Ratio {
        /// Fraction of root traces kept.
        ratio: f64,
        /// Whether a child follows its parent's decision.
        parent_based: bool,
    },
}

/// Trace export, resolved: what [`crate::init_logging`] builds.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPlan {
    /// Typed endpoint, as given; `None` leaves the exporter to read the `OTEL_*` variables.
    pub endpoint: Option<String>,
    /// Transport.
    pub protocol: OtlpProtocol,
    /// `service.name`.
    pub service_name: String,
    /// Sampler.
    pub sampler: SamplerPlan,
}

fn invalid(reason: String) -> TelemetryError {
    TelemetryError::InvalidTracing(reason)
}

impl OtlpSettings {
    /// Merges these settings with the `OTEL_*` variables read through `env`; `Ok(None)` when
    /// export is off. `default_service` names the service when nothing else does.
    ///
    /// # Errors
    /// [`TelemetryError::InvalidTracing`] with a sentence naming the rule broken: an endpoint
    /// that is not an `http://` or `https://` URL (the exporter would fail on every batch,
    /// silently), a ratio outside `[0, 1]`, an unknown protocol or sampler.
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
        default_service: &str,
    ) -> Result<Option<ExportPlan>, TelemetryError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let from_env = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
        let Some(endpoint) = self.endpoint.clone().or(from_env) else {
            return Ok(None);
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(invalid(format!(
                "the OTLP endpoint {endpoint:?} must be an http:// or https:// URL (for gRPC too), or every export would fail"
            )));
        }
        let protocol = match self.protocol {
            Some(protocol) => protocol,
            None => match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
                .as_deref()
                .map(str::trim)
            {
                None | Some("http/protobuf") => OtlpProtocol::Http,
                Some("grpc") => OtlpProtocol::Grpc,
                Some(other) => {
                    return Err(invalid(format!(
                        "OTEL_EXPORTER_OTLP_PROTOCOL {other:?} is not supported: use grpc or http/protobuf"
                    )));
                }
            },
        };
        let service_name = self
            .service_name
            .clone()
            .or_else(|| var("OTEL_SERVICE_NAME"))
            .unwrap_or_else(|| default_service.to_owned());
        let sampler = match self.sample_ratio {
            Some(ratio) => SamplerPlan::Ratio {
                ratio: checked_ratio(ratio, "log.otlp.sample_ratio")?,
                parent_based: true,
            },
            None => sampler_from_env(&var)?,
        };
        Ok(Some(ExportPlan {
            endpoint: self.endpoint.clone(),
            protocol,
            service_name,
            sampler,
        }))
    }
}

fn checked_ratio(ratio: f64, name: &str) -> Result<f64, TelemetryError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(invalid(format!(
            "{name} is {ratio}: a sampling ratio is a fraction of traces, between 0 and 1"
        )))
    }
}

/// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, as the specification names them.
fn sampler_from_env(var: &impl Fn(&str) -> Option<String>) -> Result<SamplerPlan, TelemetryError> {
    let ratio = || -> Result<f64, TelemetryError> {
        match var("OTEL_TRACES_SAMPLER_ARG") {
            None => Ok(1.0),
            Some(arg) => {
                let parsed = arg.trim().parse::<f64>().map_err(|_| {
                    invalid(format!("OTEL_TRACES_SAMPLER_ARG {arg:?} is not a number"))
                })?;
                checked_ratio(parsed, "OTEL_TRACES_SAMPLER_ARG")
            }
        }
    };
    let plan = |ratio, parent_based| SamplerPlan::Ratio {
        ratio,
        parent_based,
    };
    Ok(match var("OTEL_TRACES_SAMPLER").as_deref().map(str::trim) {
        None | Some("parentbased_always_on") => plan(1.0, true),
        Some("always_on") => plan(1.0, false),
        Some("always_off") => plan(0.0, false),
        Some("parentbased_always_off") => plan(0.0, true),
        Some("traceidratio") => plan(ratio()?, false),
        Some("parentbased_traceidratio") => plan(ratio()?, true),
        Some(other) => {
            return Err(invalid(format!(
                "OTEL_TRACES_SAMPLER {other:?} is not supported: use always_on, always_off, traceidratio or their parentbased_ forms"
            )));
        }
    })
}
