//! Retrieval quality of an embedder on a probe set of facts and paraphrased questions.
//!
//! Owns [`ProbeSet`] (read from `facts.tsv` and `questions.tsv`, see `probes/retrieval/`) and
//! [`evaluate`], which ranks every fact for every question by cosine similarity and reports
//! recall@1, recall@5 and MRR, overall and split by whether the question shares a content word
//! with its gold fact. Invariants: ties count against the gold fact (a question that scores
//! every fact equally gets no credit); the word-overlap test is deliberately crude and fixed
//! (lower case, stop words removed, a few suffixes stripped), so reports stay comparable.

use std::collections::HashSet;
use std::path::Path;

use memvox_core::vector::dot as cosine;

use crate::{AiError, Embedder};

/// Facts and questions whose answer is one of the facts.
#[derive(Clone, Debug)]
pub struct ProbeSet {
    /// `(id, text)` of every fact.
    pub facts: Vec<(String, String)>,
    /// `(index of the gold fact in `facts`, question)`.
    pub questions: Vec<(usize, String)>,
}

/// Scores of one embedder on a [`ProbeSet`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeReport {
    /// All questions.
    pub all: Scores,
    /// Questions sharing no content word with their gold fact.
    pub no_overlap: Scores,
    /// Questions sharing at least one content word with their gold fact.
    pub overlap: Scores,
}

/// Recall and MRR over a group of questions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    /// Number of questions in the group.
    pub questions: usize,
    /// Share of questions whose gold fact ranks first.
    pub recall_at_1: f64,
    /// Share of questions whose gold fact ranks in the top five.
    pub recall_at_5: f64,
    /// Mean of 1 / rank of the gold fact.
    pub mrr: f64,
}

impl ProbeSet {
    /// Reads `facts.tsv` (`id<TAB>fact`) and `questions.tsv` (`fact id<TAB>question`) in `dir`.
    pub fn load(dir: &Path) -> Result<Self, AiError> {
        let read = |name: &str| -> Result<Vec<(String, String)>, AiError> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| AiError::Config(format!("cannot read {}: {e}", path.display())))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    l.split_once('\t')
                        .map(|(a, b)| (a.to_owned(), b.to_owned()))
                        .ok_or_else(|| {
                            AiError::Config(format!("{}: no tab in `{l}`", path.display()))
                        })
                })
                .collect()
        };
        let facts = read("facts.tsv")?;
        let questions = read("questions.tsv")?
            .into_iter()
            .map(|(id, q)| match facts.iter().position(|(f, _)| *f == id) {
                Some(i) => Ok((i, q)),
                None => Err(AiError::Config(format!(
                    "question `{q}` names unknown fact {id}"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { facts, questions })
    }

    /// Whether question `q` shares a content word with its gold fact.
    pub fn overlaps(&self, q: usize) -> bool {
        let (gold, question) = &self.questions[q];
        !content_words(question).is_disjoint(&content_words(&self.facts[*gold].1))
    }
}

/// Embeds the probe set with `embedder` and scores the ranking of facts for each question.
pub async fn evaluate(embedder: &dyn Embedder, set: &ProbeSet) -> Result<ProbeReport, AiError> {
    let fact_texts: Vec<&str> = set.facts.iter().map(|(_, t)| t.as_str()).collect();
    let question_texts: Vec<&str> = set.questions.iter().map(|(_, q)| q.as_str()).collect();
    let facts = embedder.embed(&fact_texts).await?;
    let questions = embedder.embed(&question_texts).await?;
    let mut groups = [Vec::new(), Vec::new(), Vec::new()];
    for (q, ((gold, _), qv)) in set.questions.iter().zip(&questions).enumerate() {
        let gold_score = cosine(qv, &facts[*gold]);
        let rank = 1 + facts
            .iter()
            .enumerate()
            .filter(|(i, f)| i != gold && cosine(qv, f) >= gold_score)
            .count();
        groups[0].push(rank);
        groups[if set.overlaps(q) { 2 } else { 1 }].push(rank);
    }
    let [all, no_overlap, overlap] = groups.map(|ranks| scores(&ranks));
    Ok(ProbeReport {
        all,
        no_overlap,
        overlap,
    })
}

fn scores(ranks: &[usize]) -> Scores {
    let n = ranks.len();
    if n == 0 {
        return Scores::default();
    }
    let share = |k: usize| ranks.iter().filter(|&&r| r <= k).count() as f64 / n as f64;
    Scores {
        questions: n,
        recall_at_1: share(1),
        recall_at_5: share(5),
        mrr: ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / n as f64,
    }
}

/// Content words as lexical search sees them ([`memvox_core::text::lexical_terms`]).
fn content_words(text: &str) -> HashSet<String> {
    memvox_core::text::lexical_terms(text).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_words_drop_stop_words_and_suffixes() {
        let w = content_words("Who is moving to the cats' homes?");
        let want: HashSet<String> = ["mov", "cat", "hom"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(w, want);
    }

    #[test]
    fn scores_count_ranks() {
        let s = scores(&[1, 2, 6, 1]);
        assert_eq!(s.questions, 4);
        assert_eq!(s.recall_at_1, 0.5);
        assert_eq!(s.recall_at_5, 0.75);
        assert!((s.mrr - (1.0 + 0.5 + 1.0 / 6.0 + 1.0) / 4.0).abs() < 1e-12);
    }
}
