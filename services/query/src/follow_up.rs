//! Following the best match to the other mentions of what it is about.
//!
//! A caller names a thing once and then calls about it in other words: "it's about order
//! 49065, the rain jacket" in March, "you sent a new rain jacket and that one's perfect" in
//! May; "we're going to Lisbon in December" and later "not Lisbon any more, it's Porto". Asked
//! "the latest on order 49065" or "where is the caller travelling in December", neither the
//! question's words nor its meaning reach the later mention — the best match's words do.
//!
//! So for a question whose answer changed or may have changed — one about the present ("now",
//! "latest", "still"), about the past ("before", "originally") or naming a month — the question
//! follows one of its best matches ([`seed`]: the best one the caller did not say in the same
//! words in another call). What the caller said there ([`said_by_caller`]: their turn, or with
//! the agent's words when they only acknowledged them), less the question's words, is searched
//! lexically. A memory found is another mention when it comes from another call and, for a
//! question about the past, was said before the match (the earlier state precedes its change).
//! Each scores [`FOLLOW_WEIGHT`] × the match's score × its BM25 for those words over the best
//! mention's × the question's time cue for when it was said, citing the match in `via`; the
//! [`FOLLOW_UPS`] best by BM25 that score more than they did as candidates (or were none) join
//! the ranking with that score.
//! Measured on the conversational probe (R@1/5/10): following every question 0.493/0.707/0.800
//! (later mentions crowd out the answer), questions about the present or a month with two
//! follow-ups at weight 0.6 0.520/0.785/0.856, against 0.519/0.776/0.833 without; following
//! past questions to earlier calls, from the caller's turn, 0.532/0.809/0.877.

use std::collections::{HashMap, HashSet};

use memvox_core::episode::{caller_turn, searchable_text};
use memvox_core::fusion::normalise_by_best;
use memvox_core::text::lexical_terms;
use memvox_core::{Memory, MemoryId, ScoreBreakdown, Scored, UnixMillis};
use memvox_store::{LexicalHit, StoreResult};

use crate::question::Question;
use crate::retrieval::{Lookup, gist, lexical_scores};
use crate::temporal::TimeCues;

/// Most memories a question's best match brings in.
pub const FOLLOW_UPS: usize = 2;

/// A follow-up's score as a share of the best match's, at the best BM25 among follow-ups.
pub const FOLLOW_WEIGHT: f64 = 0.6;

/// Whether `question` is followed: its answer may have changed since it was first said.
pub fn follows(question: &Question) -> bool {
    let cues = &question.cues;
    cues.latest || cues.past || !cues.months.is_empty()
}

/// The match a question follows among its best `leading` ones: the best that the caller did
/// not say in the same words in another call among the candidates (such talk — "sorry, I've
/// moved rooms" — is routine: its other words lead nowhere), else the best.
pub(crate) fn seed<'a>(
    leading: &'a [Scored],
    memories: &HashMap<MemoryId, Memory>,
) -> Option<&'a Scored> {
    let mut copies: HashMap<String, usize> = HashMap::new();
    for memory in memories.values() {
        *copies.entry(gist(memory)).or_default() += 1;
    }
    let repeated = |entry: &Scored| {
        memories
            .get(&entry.memory_id)
            .is_some_and(|memory| copies.get(&gist(memory)).is_some_and(|n| *n > 1))
    };
    leading
        .iter()
        .find(|entry| !repeated(entry))
        .or(leading.first())
}

/// The words of a memory's `content` (its searchable text, as said) that `question` does not
/// have.
pub fn unasked_words(question: &Question, content: &str) -> String {
    let asked: HashSet<&str> = question.terms.iter().map(String::as_str).collect();
    said_by_caller(content)
        .split_whitespace()
        .filter(|word| {
            let terms = lexical_terms(word);
            !terms.is_empty() && terms.iter().all(|t| !asked.contains(t.as_str()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fewest content words a caller turn has to say something of its own (not "Lovely.").
const OWN_WORDS: usize = 3;

/// What the caller said in a memory: an episode's caller turn (its context is the agent's
/// question, in words every call shares) unless it only acknowledged ("Lovely.") what the
/// agent said, then the agent's words too; any other memory whole.
fn said_by_caller(content: &str) -> &str {
    caller_turn(content)
        .filter(|text| lexical_terms(text).len() >= OWN_WORDS)
        .unwrap_or_else(|| searchable_text(content))
}

/// Whether a memory found from `seed` (the best match) is another mention of it: said in
/// another call (the seed's own call restates it), and, for a question about the past, said
/// before the seed (the earlier state precedes its change).
fn leads_on<'a>(cues: &'a TimeCues, seed: Option<&'a Memory>) -> impl Fn(&Memory) -> bool + 'a {
    let call = |memory: &Memory| {
        memory
            .provenance
            .as_ref()
            .map(|p| p.conversation_id.clone())
    };
    let seed_call = seed.and_then(call);
    move |memory: &Memory| {
        let Some(seed) = seed else {
            return true;
        };
        let other_call = seed_call.is_none() || call(memory) != seed_call;
        let before = !cues.past || cues.latest || memory.created_at < seed.created_at;
        other_call && before
    }
}

/// Adds the follow-ups of `best` (the best match) to `scored` and `memories`, or raises a
/// candidate's score to its follow-up score: at most [`FOLLOW_UPS`], each scored as the module
/// says, the time cues read among candidates said between `said` (oldest, newest).
pub(crate) fn join(
    lookup: &Lookup<'_>,
    best: &Scored,
    said: (UnixMillis, UnixMillis),
    scored: &mut Vec<Scored>,
    memories: &mut HashMap<MemoryId, Memory>,
) -> StoreResult<()> {
    let Some(words) = memories
        .get(&best.memory_id)
        .map(|memory| unasked_words(lookup.question, &memory.content))
        .filter(|words| !words.is_empty())
    else {
        return Ok(());
    };
    let found = lookup.view.search_lexical(
        &words,
        lookup.vector,
        lookup.filter,
        FOLLOW_UPS + memories.len(),
        lookup.state.settings.lexical_min_memories,
    )?;
    let terms = lexical_terms(&words);
    let found_memories: Vec<&Memory> = found.hits.iter().map(|hit| &hit.memory).collect();
    let scores = lexical_scores(&found_memories, &terms, &found);
    let seed = memories.get(&best.memory_id).cloned();
    let leads_on = leads_on(&lookup.question.cues, seed.as_ref());
    let (hits, scores): (Vec<_>, Vec<f64>) = found
        .hits
        .into_iter()
        .zip(scores)
        .filter(|(hit, _)| hit.memory.id != best.memory_id && leads_on(&hit.memory))
        .unzip();
    let current: HashMap<MemoryId, f64> = scored
        .iter()
        .map(|entry| (entry.memory_id, entry.breakdown.total))
        .collect();
    let (oldest, newest) = said;
    let mut followed: Vec<(LexicalHit, Scored)> = hits
        .into_iter()
        .zip(normalise_by_best(&scores))
        .filter(|(_, lexical)| *lexical > 0.0)
        .map(|(hit, lexical)| {
            let at = hit.memory.created_at.clamp(oldest, newest.max(oldest));
            let entry = Scored {
                memory_id: hit.memory.id,
                breakdown: ScoreBreakdown {
                    similarity: hit.similarity,
                    lexical,
                    salience: hit.memory.salience,
                    recency: 1.0,
                    link: FOLLOW_WEIGHT,
                    total: best.breakdown.total
                        * FOLLOW_WEIGHT
                        * lexical
                        * lookup.question.cues.boost(at, oldest, newest),
                },
                via: Some(best.memory_id),
            };
            (hit, entry)
        })
        .filter(|(hit, entry)| {
            current
                .get(&hit.memory.id)
                .is_none_or(|total| entry.breakdown.total > *total)
        })
        .collect();
    followed.sort_by(|a, b| {
        b.1.breakdown
            .lexical
            .total_cmp(&a.1.breakdown.lexical)
            .then(a.1.memory_id.cmp(&b.1.memory_id))
    });
    followed.truncate(FOLLOW_UPS);
    for (hit, entry) in followed {
        scored.retain(|other| other.memory_id != entry.memory_id);
        scored.push(entry);
        memories.entry(hit.memory.id).or_insert(hit.memory);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_about_the_present_or_a_month_are_followed_the_past_is_not() {
        assert!(follows(&Question::read(
            "what is the latest on order 49065"
        )));
        assert!(follows(&Question::read(
            "where is the caller travelling in December"
        )));
        assert!(follows(&Question::read(
            "where did the caller live before they moved"
        )));
        assert!(!follows(&Question::read("what is the caller's dog called")));
    }

    fn said_in(call: &str, at: UnixMillis) -> Memory {
        let kind = memvox_core::MemoryKind::Episode;
        let content = "caller: We've moved house.";
        Memory {
            created_at: at,
            ..crate::retrieval::tests::memory(0, kind, call, &[1], content)
        }
    }

    #[test]
    fn the_past_leads_to_earlier_calls_the_present_to_any_other_call() {
        let seed = said_in("c2", 20);
        let (earlier, same_call, later) = (said_in("c1", 10), said_in("c2", 19), said_in("c3", 30));
        let past = Question::read("where did the caller live before they moved").cues;
        let leads = leads_on(&past, Some(&seed));
        assert!(leads(&earlier) && !leads(&same_call) && !leads(&later));
        let now = Question::read("where does the caller live now").cues;
        let leads = leads_on(&now, Some(&seed));
        assert!(leads(&earlier) && !leads(&same_call) && leads(&later));
    }

    #[test]
    fn the_caller_turn_is_followed_unless_it_only_acknowledges() {
        let moved = "agent: Anything to update on your account?\ncaller: Yes, we've moved! New \
                     address is 90 Foundry Walk.\nagent: Changed.";
        assert_eq!(
            said_by_caller(moved),
            "Yes, we've moved! New address is 90 Foundry Walk."
        );
        let lovely = "agent: Order 49065, one rain jacket, due Monday.\ncaller: Lovely.";
        assert_eq!(said_by_caller(lovely), lovely);
        assert_eq!(
            said_by_caller("Allergic to penicillin"),
            "Allergic to penicillin"
        );
    }

    #[test]
    fn the_best_matchs_words_the_question_lacks_are_searched() {
        let question = Question::read("what is the latest on the caller's order 49065");
        let best = "caller: Hi, it's about order 49065. The rain jacket. It's a present for Keith.";
        let words = unasked_words(&question, best);
        assert!(words.contains("rain") && words.contains("jacket.") && words.contains("Keith."));
        assert!(
            !words.contains("49065") && !words.contains("order"),
            "{words}"
        );
    }
}
