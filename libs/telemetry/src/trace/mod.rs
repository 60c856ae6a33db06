//! Distributed tracing: OTLP export of memvox's spans (off unless an endpoint is configured),
//! and the trace context carried in bus envelopes from the webhook to the moment a call's
//! memories are queryable.

#[cfg(feature = "test-util")]
pub mod capture;
pub mod export;
pub mod propagation;
pub mod settings;
#[cfg(test)]
mod settings_tests;

pub use export::TelemetryGuard;
pub use propagation::{
    continue_trace, continue_traces, current_traceparent, hashed_id, traceparent_of,
};
pub use settings::{ExportPlan, OtlpProtocol, OtlpSettings, SamplerPlan};
