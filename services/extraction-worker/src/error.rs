//! Why processing an event failed, and whether a retry could help.

use memvox_bus::HandlerError;

/// A failure while processing one post-call event.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The event row named by the message does not exist: rows are written before they are
    /// published, so its caller was erased meanwhile.
    #[error("event {0} is not in the store")]
    MissingEvent(i64),
    /// The stored payload is not a valid post-call webhook.
    #[error("malformed payload: {0}")]
    Payload(#[from] memvox_elevenlabs::PayloadError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] memvox_store::StoreError),
    /// The extractor failed.
    #[error("extractor: {0}")]
    Extract(#[from] memvox_ai::ExtractError),
    /// The embedder failed while looking up similar memories.
    #[error("embedder: {0}")]
    Embed(#[from] memvox_ai::AiError),
    /// The bus failed to take the follow-up message.
    #[error("bus: {0}")]
    Bus(#[from] memvox_bus::BusError),
}

impl ProcessError {
    /// The failure without content — no payload value, model output or provider message,
    /// any of which may quote the call: what is stored with the event and its dead letter,
    /// and logged.
    pub fn reason(&self) -> String {
        match self {
            ProcessError::MissingEvent(_) | ProcessError::Store(_) | ProcessError::Bus(_) => {
                self.to_string()
            }
            ProcessError::Embed(error) => format!("embedder: {}", error.summary()),
            ProcessError::Payload(_) => "malformed payload".to_owned(),
            ProcessError::Extract(error) => format!("extractor: {}", error.summary()),
        }
    }

    /// Whether the event was erased with its caller (its row is gone, or a tombstone refused
    /// its commit): nothing to do, nothing to retry or dead-letter.
    pub fn erased(&self) -> bool {
        matches!(
            self,
            ProcessError::MissingEvent(_)
                | ProcessError::Store(memvox_store::StoreError::Erased { .. })
        )
    }

    /// Whether trying the same event again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            ProcessError::MissingEvent(_) | ProcessError::Payload(_) => false,
            ProcessError::Store(e) => e.retryable(),
            ProcessError::Extract(e) => e.is_retryable(),
            ProcessError::Embed(e) => e.retryable(),
            ProcessError::Bus(e) => e.retryable(),
        }
    }
}

impl From<ProcessError> for HandlerError {
    fn from(error: ProcessError) -> Self {
        if error.retryable() {
            HandlerError::Retryable(error.reason())
        } else {
            HandlerError::Permanent(error.reason())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_quote_nothing_of_the_call() {
        let card = "4111 1111 1111 1111";
        let payload = format!(
            r#"{{"type":"post_call_transcription","event_timestamp":"{card}","data":{{}}}}"#
        );
        let malformed = memvox_elevenlabs::WebhookEvent::parse(payload.as_bytes()).unwrap_err();
        let garbage = memvox_ai::ExtractError::InvalidOutput {
            provider: "openai",
            attempts: 2,
            reason: format!("`my card is {card}` is not JSON"),
        };
        let rejected = memvox_ai::ExtractError::Provider(memvox_ai::ProviderError::Rejected {
            provider: "openai",
            message: format!("400: context `{card}` too long"),
        });
        let embedder = memvox_ai::AiError::Rejected {
            provider: "openai",
            status: 400,
            message: format!("input `{card}` rejected"),
        };
        for error in [
            ProcessError::Payload(malformed),
            ProcessError::Extract(garbage),
            ProcessError::Extract(rejected),
            ProcessError::Embed(embedder),
        ] {
            let reason = error.reason();
            assert!(!reason.contains("4111"), "{reason}");
            assert!(!HandlerError::from(error).to_string().contains("4111"));
        }
    }
}
