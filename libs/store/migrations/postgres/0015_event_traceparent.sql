-- The W3C `traceparent` of the span that accepted a webhook event (NULL when trace export is
-- off), so the outbox reconciler's re-publish of a lost message continues the call's trace.
-- A trace context, not caller data: two random ids and a flag.
ALTER TABLE webhook_events ADD COLUMN traceparent TEXT;
