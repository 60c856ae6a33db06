//! The extractive summarizer: rank order, budget, repeats, user-profile ordering.

use memvox_ai::{ExtractiveSummarizer, Summarizer, SummaryMemory, SummarySource};
use memvox_core::Sector::{self, Emotional, Episodic, Procedural, Semantic};

fn memories(items: &[(&str, Sector)]) -> Vec<SummaryMemory> {
    items
        .iter()
        .map(|(content, sector)| SummaryMemory {
            content: (*content).to_owned(),
            sector: *sector,
        })
        .collect()
}

#[tokio::test]
async fn joins_ranked_memories_as_sentences_within_the_budget() {
    let summarizer = ExtractiveSummarizer::new(60, 400);
    let ranked = memories(&[
        ("Allergic to peanuts", Semantic),
        ("allergic to PEANUTS.", Semantic),
        ("Moved prescriptions to the Elm Street pharmacy", Semantic),
        ("Prefers email", Procedural),
    ]);
    let summary = summarizer
        .summarize_for_query("allergies?", &ranked)
        .await
        .unwrap();
    // The repeat is skipped, the pharmacy does not fit in what is left, the shorter one does.
    assert_eq!(summary.text, "Allergic to peanuts. Prefers email.");
    assert!(summary.text.chars().count() <= 60);
    assert_eq!(summary.source, SummarySource::Extractive);
    assert_eq!(summary.fallback_reason, None);
}

#[tokio::test]
async fn a_lone_memory_longer_than_the_budget_is_cut_at_a_word() {
    let summarizer = ExtractiveSummarizer::new(30, 30);
    let ranked = memories(&[(
        "Moved prescriptions to the Elm Street pharmacy in December",
        Semantic,
    )]);
    let summary = summarizer
        .summarize_for_query("pharmacy", &ranked)
        .await
        .unwrap();
    assert_eq!(summary.text, "Moved prescriptions to the…");
    assert!(summary.text.chars().count() <= 30);
}

#[tokio::test]
async fn no_memories_no_summary() {
    let summarizer = ExtractiveSummarizer::default();
    assert_eq!(
        summarizer
            .summarize_for_query("anything", &[])
            .await
            .unwrap()
            .text,
        ""
    );
    assert_eq!(summarizer.summarize_user(&[]).await.unwrap().text, "");
}

#[tokio::test]
async fn user_summary_puts_who_they_are_before_what_happened() {
    let summarizer = ExtractiveSummarizer::default();
    let ranked = memories(&[
        ("Call on 2026-01-01: asked about the refill", Episodic),
        ("Frustrated with the billing errors", Emotional),
        ("Name is Dana", Semantic),
        ("Prefers text messages", Procedural),
        ("Allergic to peanuts", Semantic),
    ]);
    let summary = summarizer.summarize_user(&ranked).await.unwrap();
    assert_eq!(
        summary.text,
        "Name is Dana. Allergic to peanuts. Prefers text messages. Frustrated with the billing \
         errors. Call on 2026-01-01: asked about the refill."
    );
}

#[tokio::test]
async fn the_same_input_gives_the_same_summary() {
    let summarizer = ExtractiveSummarizer::new(80, 80);
    let ranked = memories(&[("Lives in Austin", Semantic), ("Works at Dell", Semantic)]);
    let first = summarizer.summarize_for_query("q", &ranked).await.unwrap();
    let second = summarizer.summarize_for_query("q", &ranked).await.unwrap();
    assert_eq!(first, second);
}
