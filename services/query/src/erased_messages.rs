//! An erased caller's messages on the bus: every stream entry and dead letter that names one of
//! their conversations or their user id is deleted with them, acknowledged or not, so neither
//! a copy of Redis nor an operator reading or replaying dead letters finds them later. A pending
//! entry deleted here is dropped by its group's next claim, never redelivered.
//!
//! Streams are capped (`bus.maxlen`), so reading each whole is bounded; erasure is rare.

use memvox_bus::{Bus, BusError, EVENTS, EntryId, Envelope, MEMORIES, Message};

/// Entries (or dead letters) read per page.
const PAGE: usize = 500;

/// What was deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Purged {
    /// Stream entries.
    pub entries: u64,
    /// Dead letters.
    pub dead_letters: u64,
}

/// Whom an erasure covers: the user and their conversations (sorted).
pub(crate) struct Erased<'a> {
    /// The erased user.
    pub user_id: &'a str,
    /// Their conversations, sorted.
    pub conversations: &'a [String],
}

impl Erased<'_> {
    /// Whether an encoded envelope names the user or one of their conversations. A payload
    /// that does not decode names nobody (it was never published by memvox).
    fn named_in(&self, payload: &str) -> bool {
        let Ok(envelope) = Envelope::decode(payload, 0) else {
            return false;
        };
        let conversation = |id: &str| {
            self.conversations
                .binary_search_by(|c| c.as_str().cmp(id))
                .is_ok()
        };
        match &envelope.message {
            Message::EventAccepted {
                conversation_id, ..
            } => conversation(conversation_id),
            Message::MemoriesChanged {
                user_id,
                conversation_id,
                ..
            } => user_id == self.user_id || conversation_id.as_deref().is_some_and(conversation),
            Message::MemoryRecalled { user_id, .. } | Message::UserErased { user_id } => {
                user_id == self.user_id
            }
        }
    }
}

/// Deletes the entries and dead letters of the events and memories streams that name `erased`.
pub(crate) async fn purge(bus: &dyn Bus, erased: &Erased<'_>) -> Result<Purged, BusError> {
    let mut purged = Purged::default();
    for stream in [EVENTS, MEMORIES] {
        purged.entries += purge_entries(bus, stream, erased).await?;
        purged.dead_letters += purge_dead_letters(bus, stream, erased).await?;
    }
    Ok(purged)
}

async fn purge_entries(bus: &dyn Bus, stream: &str, erased: &Erased<'_>) -> Result<u64, BusError> {
    let mut doomed: Vec<EntryId> = Vec::new();
    let mut after = None;
    loop {
        let page = bus.entries(stream, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.id.clone());
        doomed.extend(
            page.iter()
                .filter(|entry| erased.named_in(&entry.payload))
                .map(|entry| entry.id.clone()),
        );
    }
    let mut deleted = 0;
    for ids in doomed.chunks(PAGE) {
        deleted += bus.delete_entries(stream, ids).await?;
    }
    Ok(deleted)
}

async fn purge_dead_letters(
    bus: &dyn Bus,
    stream: &str,
    erased: &Erased<'_>,
) -> Result<u64, BusError> {
    let mut purged = 0;
    let mut after = None;
    loop {
        let page = bus.list_dead_letters(stream, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(purged);
        };
        after = Some(last.id.clone());
        for letter in &page {
            if erased.named_in(&letter.payload) && bus.purge_dead_letter(stream, &letter.id).await?
            {
                purged += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(message: Message) -> String {
        Envelope::new(message).encode().unwrap_or_default()
    }

    #[test]
    fn messages_naming_the_user_or_their_conversations_are_theirs() {
        let conversations = ["conv_a".to_owned(), "conv_b".to_owned()];
        let erased = Erased {
            user_id: "guest_1",
            conversations: &conversations,
        };
        let event = |conversation: &str| Message::EventAccepted {
            event_id: 1,
            event_type: "post_call_transcription".into(),
            conversation_id: conversation.into(),
        };
        let changed = |user: &str, conversation: Option<&str>| Message::MemoriesChanged {
            user_id: user.into(),
            memory_ids: vec![1],
            conversation_id: conversation.map(str::to_owned),
        };
        for theirs in [
            event("conv_b"),
            changed("guest_1", None),
            changed("someone", Some("conv_a")),
            Message::MemoryRecalled {
                user_id: "guest_1".into(),
                memory_ids: vec![2],
            },
        ] {
            assert!(erased.named_in(&encoded(theirs.clone())), "{theirs:?}");
        }
        for others in [
            event("conv_c"),
            changed("guest_10", Some("conv_c")),
            Message::UserErased {
                user_id: "guest_2".into(),
            },
        ] {
            assert!(!erased.named_in(&encoded(others.clone())), "{others:?}");
        }
        assert!(!erased.named_in("{\"not\": \"an envelope\", \"user\": \"guest_1\"}"));
    }
}
