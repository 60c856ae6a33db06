//! What a user's in-memory index weighs, split by layer: what the cache budget is spent on,
//! and what a fact or an episode costs in memory (reported by the query loadtest): its vector,
//! postings, filter attributes and full row.

use memvox_core::MemoryKind;

use crate::user_index::{IndexedMemory, RECALL_BYTES, UserIndex, links_bytes, record_bytes};

/// The memories of one layer in a user's index and the bytes they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerFootprint {
    /// Memories of the layer in the index.
    pub memories: usize,
    /// Of them, those with a vector.
    pub embedded: usize,
    /// Bytes of their vectors (with their 8-bit codes and scale, for a heavy user).
    pub vector_bytes: usize,
    /// Bytes of their postings entries and token counts.
    pub posting_bytes: usize,
    /// Bytes of their filter attributes and vector row numbers.
    pub attribute_bytes: usize,
    /// Bytes of their full rows (decrypted content, provenance, times), current recall values
    /// and outgoing links: what a query answers with, read from memory.
    pub row_bytes: usize,
}

impl LayerFootprint {
    /// All the layer's bytes.
    pub fn bytes(&self) -> usize {
        self.vector_bytes + self.posting_bytes + self.attribute_bytes + self.row_bytes
    }
}

/// What a user's in-memory index holds and weighs (the cache weighs [`IndexFootprint::bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexFootprint {
    /// The facts.
    pub facts: LayerFootprint,
    /// The episodes.
    pub episodes: LayerFootprint,
    /// Bytes of the user's distinct tokens and their offsets, shared by both layers.
    pub dictionary_bytes: usize,
}

impl IndexFootprint {
    /// Every byte of the index.
    pub fn bytes(&self) -> usize {
        self.facts.bytes() + self.episodes.bytes() + self.dictionary_bytes
    }
}

impl UserIndex {
    /// What this index holds and weighs.
    pub fn footprint(&self) -> IndexFootprint {
        let dimension = self
            .matrix
            .len()
            .checked_div(self.embedded.len())
            .unwrap_or(0);
        let mut footprint = IndexFootprint {
            dictionary_bytes: self.postings.dictionary_bytes(),
            ..IndexFootprint::default()
        };
        let mut embedded = self.embedded.iter().peekable();
        for (position, memory) in (0_u32..).zip(&self.memories) {
            let layer = match memory.kind {
                MemoryKind::Fact => &mut footprint.facts,
                MemoryKind::Episode => &mut footprint.episodes,
            };
            layer.memories += 1;
            layer.attribute_bytes += size_of::<IndexedMemory>();
            layer.posting_bytes += self.postings.row_bytes(position);
            if let Some(record) = self.records.get(position as usize) {
                layer.row_bytes += record_bytes(record) + RECALL_BYTES;
                layer.row_bytes += self.links.get(&record.id).map_or(0, links_bytes);
            }
            if embedded.next_if_eq(&&position).is_some() {
                layer.embedded += 1;
                layer.vector_bytes += dimension * size_of::<f32>();
                if self.coded.is_some() {
                    layer.vector_bytes += dimension + size_of::<f32>();
                }
                layer.attribute_bytes += size_of::<u32>();
            }
        }
        footprint
    }
}
