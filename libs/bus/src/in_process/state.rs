//! The data behind [`super::InProcessBus`]: streams, groups, pending lists, dead letters.
//!
//! Owns every state transition of the in-process bus as plain synchronous methods, called with
//! the bus mutex held and the current time passed in. Invariants:
//! - a stream's sequence numbers strictly increase and survive deletion of the stream (`last_seq`
//!   is kept per name), so an id is never reused;
//! - a group's `last_delivered` only grows; entries above it have never been delivered to it;
//! - an entry is in a group's pending list from its delivery until its ack or dead-lettering.

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use tokio::time::Instant;

use crate::{
    BusError, Claimed, DeadLetter, Delivery, EntryId, Envelope, GroupStats, StreamEntry,
    StreamStats,
};

/// Everything the in-process bus holds.
pub(super) struct State {
    maxlen: usize,
    streams: HashMap<String, Stream>,
    /// Last sequence number issued per stream name, kept when a stream is deleted.
    last_seq: HashMap<String, u64>,
    dead: HashMap<String, DeadList>,
}

#[derive(Default)]
struct Stream {
    /// Sequence number before this stream's first entry: where new groups start.
    base: u64,
    entries: BTreeMap<u64, String>,
    groups: BTreeMap<String, Group>,
}

struct Group {
    last_delivered: u64,
    consumers: Vec<String>,
    pending: BTreeMap<u64, Pending>,
}

struct Pending {
    consumer: String,
    idle_since: Instant,
    deliveries: u32,
}

#[derive(Default)]
struct DeadList {
    last_seq: u64,
    letters: BTreeMap<u64, DeadLetter>,
}

fn entry_id(seq: u64) -> EntryId {
    EntryId(format!("{seq}-0"))
}

fn parse_id(id: &EntryId) -> Result<u64, BusError> {
    id.0.split_once('-')
        .and_then(|(seq, tail)| (tail == "0").then_some(seq))
        .and_then(|seq| seq.parse().ok())
        .ok_or_else(|| BusError::Invalid(format!("`{id}` is not an in-process entry id")))
}

/// Where a page that starts after entry `after` starts (`None`: at the first entry).
fn first_after(after: Option<&EntryId>) -> Result<u64, BusError> {
    Ok(after.map(parse_id).transpose()?.map_or(0, |seq| seq + 1))
}

fn no_group(stream: &str, group: &str) -> BusError {
    BusError::NoGroup {
        stream: stream.to_owned(),
        group: group.to_owned(),
    }
}

fn delivery(stream: &str, seq: u64, payload: &str, deliveries: u32) -> Delivery {
    Delivery {
        stream: stream.to_owned(),
        id: entry_id(seq),
        delivery_count: deliveries,
        payload: payload.to_owned(),
        envelope: Envelope::decode(payload, deliveries),
    }
}

impl State {
    pub(super) fn new(maxlen: usize) -> Self {
        Self {
            maxlen,
            streams: HashMap::new(),
            last_seq: HashMap::new(),
            dead: HashMap::new(),
        }
    }

    fn stream_mut(&mut self, stream: &str) -> &mut Stream {
        let base = self.last_seq.get(stream).copied().unwrap_or(0);
        self.streams
            .entry(stream.to_owned())
            .or_insert_with(|| Stream {
                base,
                ..Stream::default()
            })
    }

    fn group_mut(&mut self, stream: &str, group: &str) -> Result<&mut Group, BusError> {
        self.streams
            .get_mut(stream)
            .and_then(|s| s.groups.get_mut(group))
            .ok_or_else(|| no_group(stream, group))
    }

    /// A stream's entries and one of its groups, both needed to deliver (`read`, `claim`).
    fn entries_and_group(
        &mut self,
        stream: &str,
        group: &str,
    ) -> Result<(&BTreeMap<u64, String>, &mut Group), BusError> {
        let s = self
            .streams
            .get_mut(stream)
            .ok_or_else(|| no_group(stream, group))?;
        let g = s
            .groups
            .get_mut(group)
            .ok_or_else(|| no_group(stream, group))?;
        Ok((&s.entries, g))
    }

    pub(super) fn publish(&mut self, stream: &str, payload: String) -> EntryId {
        let maxlen = self.maxlen;
        // Create the stream first: its base is the last sequence issued before this entry.
        self.stream_mut(stream);
        let last = self.last_seq.entry(stream.to_owned()).or_insert(0);
        *last += 1;
        let seq = *last;
        let s = self.stream_mut(stream);
        s.entries.insert(seq, payload);
        while s.entries.len() > maxlen {
            s.entries.pop_first();
        }
        entry_id(seq)
    }

    pub(super) fn ensure_group(&mut self, stream: &str, group: &str) {
        let s = self.stream_mut(stream);
        let base = s.base;
        s.groups.entry(group.to_owned()).or_insert_with(|| Group {
            last_delivered: base,
            consumers: Vec::new(),
            pending: BTreeMap::new(),
        });
    }

    pub(super) fn read(
        &mut self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        now: Instant,
    ) -> Result<Vec<Delivery>, BusError> {
        let (entries, g) = self.entries_and_group(stream, group)?;
        if !g.consumers.iter().any(|c| c == consumer) {
            g.consumers.push(consumer.to_owned());
        }
        let mut out = Vec::new();
        for (&seq, payload) in entries.range(g.last_delivered + 1..).take(count) {
            g.last_delivered = seq;
            g.pending.insert(
                seq,
                Pending {
                    consumer: consumer.to_owned(),
                    idle_since: now,
                    deliveries: 1,
                },
            );
            out.push(delivery(stream, seq, payload, 1));
        }
        Ok(out)
    }

    pub(super) fn ack(
        &mut self,
        stream: &str,
        group: &str,
        ids: &[EntryId],
    ) -> Result<u64, BusError> {
        let seqs = ids.iter().map(parse_id).collect::<Result<Vec<_>, _>>()?;
        // Like XACK: acking in a missing group or stream acks nothing.
        let Ok(g) = self.group_mut(stream, group) else {
            return Ok(0);
        };
        Ok(seqs
            .iter()
            .filter(|seq| g.pending.remove(seq).is_some())
            .count() as u64)
    }

    pub(super) fn claim(
        &mut self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
        now: Instant,
    ) -> Result<Claimed, BusError> {
        let (entries, g) = self.entries_and_group(stream, group)?;
        let mut claimed = Claimed::default();
        let mut gone = Vec::new();
        for (&seq, p) in g.pending.iter_mut() {
            if claimed.deliveries.len() >= count {
                break;
            }
            if now.saturating_duration_since(p.idle_since) < min_idle {
                continue;
            }
            let Some(payload) = entries.get(&seq) else {
                gone.push(seq);
                continue;
            };
            p.consumer = consumer.to_owned();
            p.idle_since = now;
            p.deliveries += 1;
            claimed
                .deliveries
                .push(delivery(stream, seq, payload, p.deliveries));
        }
        for seq in gone {
            g.pending.remove(&seq);
            claimed.lost.push(entry_id(seq));
        }
        Ok(claimed)
    }

    pub(super) fn set_idle(
        &mut self,
        stream: &str,
        group: &str,
        consumer: &str,
        id: &EntryId,
        idle: Duration,
        now: Instant,
    ) -> Result<(), BusError> {
        let seq = parse_id(id)?;
        let g = self.group_mut(stream, group)?;
        if let Some(p) = g.pending.get_mut(&seq) {
            p.consumer = consumer.to_owned();
            p.idle_since = now.checked_sub(idle).unwrap_or(p.idle_since.min(now));
        }
        Ok(())
    }

    pub(super) fn stats(&self, stream: &str) -> StreamStats {
        let dead_letters = self.dead.get(stream).map_or(0, |d| d.letters.len() as u64);
        let Some(s) = self.streams.get(stream) else {
            return StreamStats {
                stream: stream.to_owned(),
                length: 0,
                dead_letters,
                groups: Vec::new(),
            };
        };
        let last_seq = self.last_seq.get(stream).copied().unwrap_or(0);
        StreamStats {
            stream: stream.to_owned(),
            length: s.entries.len() as u64,
            dead_letters,
            groups: s
                .groups
                .iter()
                .map(|(name, g)| GroupStats {
                    group: name.clone(),
                    pending: g.pending.len() as u64,
                    lag: Some(last_seq.saturating_sub(g.last_delivered)),
                    consumers: g.consumers.len() as u64,
                })
                .collect(),
        }
    }

    pub(super) fn entries(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, BusError> {
        let start = first_after(after)?;
        let Some(s) = self.streams.get(stream) else {
            return Ok(Vec::new());
        };
        Ok(s.entries
            .range(start..)
            .take(limit)
            .map(|(&seq, payload)| StreamEntry {
                id: entry_id(seq),
                payload: payload.clone(),
            })
            .collect())
    }

    /// Like XDEL: the entries leave the stream; a group still holding one pending loses it at
    /// its next claim.
    pub(super) fn delete_entries(
        &mut self,
        stream: &str,
        ids: &[EntryId],
    ) -> Result<u64, BusError> {
        let seqs = ids.iter().map(parse_id).collect::<Result<Vec<_>, _>>()?;
        let Some(s) = self.streams.get_mut(stream) else {
            return Ok(0);
        };
        Ok(seqs
            .iter()
            .filter(|seq| s.entries.remove(seq).is_some())
            .count() as u64)
    }

    pub(super) fn delete_stream(&mut self, stream: &str) {
        self.streams.remove(stream);
    }

    pub(super) fn add_dead_letter(&mut self, mut letter: DeadLetter) -> EntryId {
        let list = self.dead.entry(letter.stream.clone()).or_default();
        list.last_seq += 1;
        letter.id = entry_id(list.last_seq);
        let id = letter.id.clone();
        list.letters.insert(list.last_seq, letter);
        id
    }

    pub(super) fn list_dead_letters(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        let start = first_after(after)?;
        Ok(self.dead.get(stream).map_or_else(Vec::new, |d| {
            d.letters
                .range(start..)
                .take(limit)
                .map(|(_, l)| l.clone())
                .collect()
        }))
    }

    pub(super) fn get_dead_letter(
        &self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError> {
        let seq = parse_id(id)?;
        Ok(self
            .dead
            .get(stream)
            .and_then(|d| d.letters.get(&seq).cloned()))
    }

    pub(super) fn take_dead_letter(
        &mut self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError> {
        let seq = parse_id(id)?;
        Ok(self
            .dead
            .get_mut(stream)
            .and_then(|d| d.letters.remove(&seq)))
    }

    pub(super) fn purge_dead_letters(&mut self, stream: &str) -> u64 {
        self.dead.get_mut(stream).map_or(0, |d| {
            let n = d.letters.len() as u64;
            d.letters.clear();
            n
        })
    }
}
