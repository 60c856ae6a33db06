//! The OTLP exporter and the `tracing` layer that feeds it, and the guard that flushes what is
//! buffered when the process stops.
//!
//! Spans are batched by the SDK's batch processor on its own thread and exported there, off the
//! request path. Only spans of memvox's own crates (targets `memvox*`) at `debug` or above are
//! exported — never a dependency's, so the exporter's own HTTP or gRPC client cannot trace
//! itself — and never log events: those stay in the logs, so a field a log line carries (a
//! conversation id, an agent id) does not reach the collector; span fields are chosen for it
//! (hashed ids, counts). The layer has its own filter, independent of the log filter: `log.filter = "warn"`
//! keeps logs quiet without losing traces, and trace-only spans (at `debug`) cost nothing while
//! export is off, since then no layer wants them.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{
    Resource,
    trace::{Sampler, SdkTracerProvider},
};
use tracing::{Level, Subscriber};
use tracing_subscriber::{Layer, filter::filter_fn, registry::LookupSpan};

use super::settings::{ExportPlan, OtlpProtocol, SamplerPlan};
use crate::TelemetryError;

/// Flushes and stops trace export when dropped: hold it in `main` until the process is done.
/// Holds nothing when export is off.
#[must_use = "dropping the guard stops trace export"]
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// A guard that shuts `provider` down on drop.
    pub fn new(provider: SdkTracerProvider) -> Self {
        Self {
            provider: Some(provider),
        }
    }

    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            // The subscriber may be gone by now: stderr is the one place left to say it.
            eprintln!("trace export did not flush on shutdown: {error}");
        }
    }
}

fn sampler(plan: SamplerPlan) -> Sampler {
    let SamplerPlan::Ratio {
        ratio,
        parent_based,
    } = plan;
    let root = if ratio >= 1.0 {
        Sampler::AlwaysOn
    } else if ratio <= 0.0 {
        Sampler::AlwaysOff
    } else {
        Sampler::TraceIdRatioBased(ratio)
    };
    if parent_based {
        Sampler::ParentBased(Box::new(root))
    } else {
        root
    }
}

/// Builds the exporter and the provider `plan` describes. Must run inside a Tokio runtime when
/// the protocol is gRPC (the channel's worker is spawned on it).
///
/// # Errors
/// [`TelemetryError::Exporter`] when the exporter cannot be built (a malformed URL).
pub fn provider(plan: &ExportPlan) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = match plan.protocol {
        OtlpProtocol::Http => {
            let builder = SpanExporter::builder().with_http();
            match &plan.endpoint {
                // A typed endpoint is the collector's base URL, like OTEL_EXPORTER_OTLP_ENDPOINT.
                Some(base) => {
                    builder.with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')))
                }
                None => builder,
            }
            .build()
        }
        OtlpProtocol::Grpc => {
            let builder = SpanExporter::builder().with_tonic();
            match &plan.endpoint {
                Some(endpoint) => builder.with_endpoint(endpoint.clone()),
                None => builder,
            }
            .build()
        }
    }
    .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler(plan.sampler))
        .with_resource(
            Resource::builder()
                .with_service_name(plan.service_name.clone())
                .build(),
        )
        .build())
}

/// The `tracing` layer exporting memvox's spans through `provider`.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + use<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("memvox"))
        .with_filter(filter_fn(|metadata| {
            metadata.is_span()
                && metadata.target().starts_with("memvox")
                && *metadata.level() <= Level::DEBUG
        }))
}
