//! Spans captured in memory, for tests (feature `test-util`): the same layer and filter as
//! production, exporting to the SDK's in-memory exporter, installed for the current thread.
//!
//! Run the code under test on a current-thread runtime (`#[tokio::test]`'s default), so every
//! task it spawns runs where the subscriber is installed.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::SubscriberExt as _;

use super::export;

/// Spans exported in memory while this lives.
pub struct Captured {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _installed: DefaultGuard,
}

/// Starts capturing every span the current thread's code exports, every trace sampled.
pub fn capture() -> Captured {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(export::layer(&provider));
    Captured {
        exporter,
        provider,
        _installed: tracing::subscriber::set_default(subscriber),
    }
}

impl Captured {
    /// Every span finished so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        let _ = self.provider.force_flush();
        self.exporter.get_finished_spans().unwrap_or_default()
    }
}
