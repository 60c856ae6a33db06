//! What a write transaction gathers: the users and conversations it already made sure of, and
//! the rows that only follow from memory writes (lexical tokens, conversation citations),
//! written with one statement per table just before commit.

use std::collections::{HashMap, HashSet};

use memvox_core::{MemoryId, Provenance, UnixMillis};

use crate::{
    LexicalKey, StoreResult,
    dialect::{Conn, Dialect, Record, query},
    sql::{self, INSERT_CHUNK},
};

/// A conversation's row id.
const SELECT_CONVERSATION_FK: &str = "SELECT id FROM conversations WHERE conversation_id = $1";

/// The two times a memory write carries: when what it records was said (the call's time, which
/// memories, their history and episodes are stamped with, and recency decays from) and when
/// the write happens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) said: UnixMillis,
    pub(crate) now: UnixMillis,
}

impl Times {
    /// A write of something said now (a memory added through the API).
    pub(crate) fn now(now: UnixMillis) -> Self {
        Self { said: now, now }
    }
}

/// What an open write transaction has already made sure of — users that exist, conversations'
/// row ids — so that the statements for several memories (and several events of a group
/// commit) do not ask again.
///
/// It also gathers the rows that only follow from memory writes — lexical tokens and
/// conversation citations — so that they are written with one statement each when the
/// transaction is about to commit (`flush_written_in`) rather than one per memory.
#[derive(Debug, Default)]
pub(crate) struct Written {
    users: HashSet<String>,
    conversations: HashMap<String, i64>,
    terms: Vec<(MemoryId, String, String)>,
    citations: Vec<Citation>,
}

/// A conversation's mention of a memory, waiting to be written.
#[derive(Debug)]
pub(crate) struct Citation {
    pub(crate) conversation_fk: i64,
    pub(crate) memory_id: MemoryId,
    pub(crate) extraction_type: String,
    pub(crate) turn_indexes: String,
    pub(crate) at: UnixMillis,
}

impl Citation {
    /// Conversation `conversation_fk` (row id) mentioned memory `memory_id` at `provenance`'s
    /// turns; `extraction_type` says how (`auto`, `manual`, `reinforced`).
    pub(crate) fn new(
        conversation_fk: i64,
        memory_id: MemoryId,
        extraction_type: &str,
        provenance: &Provenance,
        at: UnixMillis,
    ) -> Self {
        Self {
            conversation_fk,
            memory_id,
            extraction_type: extraction_type.to_owned(),
            turn_indexes: crate::rows::turns_json(&provenance.turn_indexes),
            at,
        }
    }
}

impl Written {
    /// Whether `user_id` is not yet known to exist in this transaction (from now on it is).
    pub(crate) fn user_is_new(&mut self, user_id: &str) -> bool {
        self.users.insert(user_id.to_owned())
    }

    /// The row id of a conversation this transaction wrote or looked up.
    pub(crate) fn conversation(&self, conversation_id: &str) -> Option<i64> {
        self.conversations.get(conversation_id).copied()
    }

    /// Remembers a conversation's row id.
    pub(crate) fn remember_conversation(&mut self, conversation_id: &str, fk: i64) {
        self.conversations.insert(conversation_id.to_owned(), fk);
    }

    /// A memory's lexical tokens, to write (replacing earlier ones) before commit.
    pub(crate) fn index_terms(&mut self, memory_id: MemoryId, user_id: &str, terms: String) {
        self.terms.push((memory_id, user_id.to_owned(), terms));
    }

    /// A conversation's mention of a memory, to write before commit (the first per pair wins).
    pub(crate) fn cite(&mut self, citation: Citation) {
        self.citations.push(citation);
    }

    /// The tokens to write, one row per memory (its latest).
    pub(crate) fn take_terms(&mut self) -> Vec<(MemoryId, String, String)> {
        let mut latest: HashMap<MemoryId, usize> = HashMap::new();
        for (i, (memory_id, _, _)) in self.terms.iter().enumerate() {
            latest.insert(*memory_id, i);
        }
        std::mem::take(&mut self.terms)
            .into_iter()
            .enumerate()
            .filter(|(i, (memory_id, _, _))| latest.get(memory_id) == Some(i))
            .map(|(_, row)| row)
            .collect()
    }

    /// The citations to write, one per conversation and memory (the first).
    pub(crate) fn take_citations(&mut self) -> Vec<Citation> {
        let mut seen = HashSet::new();
        std::mem::take(&mut self.citations)
            .into_iter()
            .filter(|c| seen.insert((c.conversation_fk, c.memory_id)))
            .collect()
    }
}

/// Links a memory to the conversation that (re)stated it, when that is recorded.
pub(crate) async fn cite_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
    memory_id: MemoryId,
    extraction_type: &str,
    provenance: Option<&Provenance>,
    now: UnixMillis,
) -> StoreResult<()> {
    let Some(provenance) = provenance else {
        return Ok(());
    };
    if let Some(fk) = conversation_fk_in::<D>(conn, written, &provenance.conversation_id).await? {
        written.cite(Citation::new(
            fk,
            memory_id,
            extraction_type,
            provenance,
            now,
        ));
    }
    Ok(())
}

/// The row id of a recorded conversation.
pub(crate) async fn conversation_fk_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
    conversation_id: &str,
) -> StoreResult<Option<i64>> {
    if let Some(fk) = written.conversation(conversation_id) {
        return Ok(Some(fk));
    }
    let row = query::<D>(SELECT_CONVERSATION_FK)
        .bind(conversation_id)
        .fetch_optional(conn)
        .await?;
    let fk: Option<i64> = row.map(|r| r.value("id")).transpose()?;
    if let Some(fk) = fk {
        written.remember_conversation(conversation_id, fk);
    }
    Ok(fk)
}

/// Writes a memory's lexical tokens (replacing earlier ones).
pub(crate) async fn index_terms_in<D: Dialect>(
    conn: &mut Conn<D>,
    lexical: &LexicalKey,
    memory_id: MemoryId,
    user_id: &str,
    content: &str,
) -> StoreResult<()> {
    let mut written = Written::default();
    written.index_terms(memory_id, user_id, lexical.memory_terms(user_id, content));
    flush_written_in::<D>(conn, &mut written).await
}

/// Writes the tokens and citations a transaction gathered, one statement per table (and per
/// chunk of rows).
pub(crate) async fn flush_written_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
) -> StoreResult<()> {
    let terms = written.take_terms();
    for chunk in terms.chunks(INSERT_CHUNK) {
        let statement = format!(
            "INSERT INTO memory_terms (memory_id, user_id, terms) VALUES {} \
             ON CONFLICT (memory_id) DO UPDATE SET terms = excluded.terms",
            sql::values_rows(chunk.len(), 3)
        );
        chunk
            .iter()
            .fold(query::<D>(statement), |q, (memory_id, user_id, tokens)| {
                q.bind(*memory_id).bind(user_id).bind(tokens)
            })
            .execute(conn)
            .await?;
    }
    let citations = written.take_citations();
    for chunk in citations.chunks(INSERT_CHUNK) {
        let statement = format!(
            "INSERT INTO conversation_memories (conversation_fk, memory_id, \
             extraction_type, turn_indexes, confidence, created_at) VALUES {} \
             ON CONFLICT (conversation_fk, memory_id) DO NOTHING",
            sql::values_rows(chunk.len(), 6)
        );
        chunk
            .iter()
            .fold(query::<D>(statement), |q, citation| {
                q.bind(citation.conversation_fk)
                    .bind(citation.memory_id)
                    .bind(&citation.extraction_type)
                    .bind(&citation.turn_indexes)
                    .bind(Option::<f64>::None)
                    .bind(citation.at)
            })
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathered_rows_are_written_once_per_key() {
        let mut written = Written::default();
        written.index_terms(1, "u", "ta".into());
        written.index_terms(2, "u", "tb".into());
        written.index_terms(1, "u", "tc".into());
        let terms = written.take_terms();
        assert_eq!(
            terms,
            [
                (2, "u".to_owned(), "tb".to_owned()),
                (1, "u".to_owned(), "tc".to_owned())
            ],
            "a memory's latest tokens win"
        );
        assert!(written.take_terms().is_empty(), "taken once");

        let provenance = memvox_core::Provenance {
            conversation_id: "c".into(),
            turn_indexes: vec![3],
        };
        written.cite(Citation::new(7, 1, "auto", &provenance, 10));
        written.cite(Citation::new(7, 1, "reinforced", &provenance, 11));
        written.cite(Citation::new(8, 1, "reinforced", &provenance, 12));
        let citations = written.take_citations();
        assert_eq!(
            citations
                .iter()
                .map(|c| (
                    c.conversation_fk,
                    c.extraction_type.as_str(),
                    c.turn_indexes.as_str()
                ))
                .collect::<Vec<_>>(),
            [(7, "auto", "[3]"), (8, "reinforced", "[3]")],
            "the first mention per conversation wins, as ON CONFLICT DO NOTHING"
        );
    }
}
