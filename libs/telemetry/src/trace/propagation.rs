//! Trace context across the bus, and ids fit for span attributes.
//!
//! A publisher stamps its envelope with [`current_traceparent`] (the W3C `traceparent` of the
//! span it publishes from); a consumer makes its per-message span a child of it with
//! [`continue_trace`]. A batch handled as one unit (one embedding request for many messages)
//! gets one span that continues the first message's trace and links the others
//! ([`continue_traces`]).
//!
//! While export is off these are no-ops: the current span carries no OpenTelemetry context, so
//! nothing is formatted or parsed beyond finding that out.
//!
//! Span attributes never carry caller data: ids go through [`hashed_id`] (user ids, conversation
//! ids); phone numbers and text are never recorded at all.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sha2::{Digest as _, Sha256};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

const TRACEPARENT: &str = "traceparent";

/// The W3C `traceparent` of the current span, or `None` when it is not being traced (export
/// off, or the span was filtered out).
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&Span::current())
}

/// The W3C `traceparent` of `span`, or `None` when it is not being traced.
pub fn traceparent_of(span: &Span) -> Option<String> {
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::with_capacity(1);
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove(TRACEPARENT)
}

fn remote_context(traceparent: &str) -> Option<opentelemetry::Context> {
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context.span().span_context().is_valid().then_some(context)
}

/// Makes `span` a child of the span that wrote `traceparent` (a message's publisher). A missing
/// or malformed `traceparent` leaves `span` where it is (a new trace, or its local parent).
/// Call it before the span is first entered.
pub fn continue_trace(span: &Span, traceparent: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(context) = traceparent.and_then(remote_context) {
        // Fails only when the span has started already or is not traced: nothing to continue.
        let _ = span.set_parent(context);
    }
}

/// Makes `span` a child of the first valid `traceparent` and links it to every other one: the
/// span of work done once for several messages (a batch), each of its own trace.
pub fn continue_traces<'a>(span: &Span, traceparents: impl IntoIterator<Item = Option<&'a str>>) {
    if span.is_disabled() {
        return;
    }
    let mut parent_set = false;
    for context in traceparents
        .into_iter()
        .flatten()
        .filter_map(remote_context)
    {
        if parent_set {
            span.add_link(context.span().span_context().clone());
        } else {
            let _ = span.set_parent(context);
            parent_set = true;
        }
    }
}

/// An id as span attributes may carry it: the first 16 hex digits of its SHA-256. The same id
/// always hashes the same, so one caller's spans can be found together, and the id itself is
/// never exported.
pub fn hashed_id(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    hex::encode(&digest[..8])
}
