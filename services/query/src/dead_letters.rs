//! An erased caller's dead letters: the events stream's letters of their conversations are
//! purged with them, so no operator replays (or reads) them later.

use memvox_bus::{Bus, BusError, EVENTS, Envelope, Message};

/// Letters read per page.
const PAGE: usize = 500;

/// Purges the events stream's dead letters of `conversations` (sorted); returns how many.
pub(crate) async fn purge_erased(bus: &dyn Bus, conversations: &[String]) -> Result<u64, BusError> {
    let mut purged = 0;
    let mut after = None;
    loop {
        let page = bus.list_dead_letters(EVENTS, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(purged);
        };
        after = Some(last.id.clone());
        for letter in &page {
            if let Ok(envelope) = Envelope::decode(&letter.payload, 0)
                && let Message::EventAccepted {
                    conversation_id, ..
                } = &envelope.message
                && conversations.binary_search(conversation_id).is_ok()
                && bus.purge_dead_letter(EVENTS, &letter.id).await?
            {
                purged += 1;
            }
        }
    }
}
