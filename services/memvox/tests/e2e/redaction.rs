//! Redaction at write time, end to end, under the policy of each field (`privacy.redaction`):
//! by default a card number the caller gives is masked in the stored turns, episodes and
//! memories and everything else kept; a configured policy masks or drops other kinds in the
//! fields it names — episodes even where the turns keep everything, analysis results and
//! summaries each by their own — and a memory holding a kind dropped from memory content is not
//! stored. A call without personal data gives the same turns, episodes and memories under any
//! policy.

use memvox::Memvox;
use memvox_core::redact::{KindModes, Mode};
use memvox_core::{Memory, MemoryKind};
use memvox_store::{MemoryFilter, MemoryOrder};

use crate::support;
use crate::support::{Deployment, Pipeline, accept, call_payload};

/// Every kind in `mode`.
fn every_kind(mode: Mode) -> KindModes {
    KindModes {
        card: Some(mode),
        national_id: Some(mode),
        bank_account: Some(mode),
        email: Some(mode),
        phone: Some(mode),
        street_address: Some(mode),
        date_of_birth: Some(mode),
    }
}

/// Runs the fixture call with `said` as turn 5 through `app`'s `pipeline`; returns the stored
/// turn 5 and the caller's memories of `kind`.
async fn run(
    (app, pipeline): (&Memvox, &Pipeline),
    conversation_id: &str,
    said: &str,
    kind: MemoryKind,
) -> (String, Vec<Memory>) {
    accept(
        app,
        conversation_id,
        call_payload(conversation_id, Some(said)),
    )
    .await;
    pipeline.run().await;
    let call = app.store.get_call(conversation_id).await.unwrap().unwrap();
    let user = call.conversation.user_id.unwrap();
    let filter = MemoryFilter {
        kinds: vec![kind],
        ..MemoryFilter::default()
    };
    let memories = app
        .store
        .list_memories(&user, &filter, MemoryOrder::Newest, 200)
        .await
        .unwrap();
    (call.turns[5].message.clone().unwrap(), memories)
}

fn contents(memories: &[Memory]) -> Vec<&str> {
    memories.iter().map(|m| m.content.as_str()).collect()
}

#[tokio::test]
async fn a_card_number_read_out_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(Deployment::Embedded, dir.path()).await;
    let said = "Please charge my card, four one one one one one one one one one one one one one \
                one one, and I prefer mornings for callbacks.";
    let (turn, _) = run(
        (&app, &Pipeline::new(&app)),
        "conv_card",
        said,
        MemoryKind::Fact,
    )
    .await;
    assert_eq!(
        turn,
        "Please charge my card, [card number], and I prefer mornings for callbacks."
    );
    let user = app
        .store
        .get_call("conv_card")
        .await
        .unwrap()
        .unwrap()
        .conversation
        .user_id
        .unwrap();
    let everything = MemoryFilter {
        kinds: MemoryKind::ALL.to_vec(),
        ..MemoryFilter::default()
    };
    let memories = app
        .store
        .list_memories(&user, &everything, MemoryOrder::Newest, 200)
        .await
        .unwrap();
    assert!(!memories.is_empty());
    for memory in &memories {
        assert!(
            !memory.content.contains("four one one one"),
            "{}",
            memory.content
        );
    }
    assert!(
        memories.iter().any(|m| m.content.contains("[card number]")),
        "the episode of the turn keeps what else was said"
    );
}

#[tokio::test]
async fn an_email_and_a_phone_number_are_kept_by_default_and_masked_when_configured() {
    let said = "It's about order 53819. Email me at ada.l@example.com or call +1 415 555 0199.";
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(Deployment::Embedded, dir.path()).await;
    let (turn, _) = run(
        (&app, &Pipeline::new(&app)),
        "conv_kept",
        said,
        MemoryKind::Episode,
    )
    .await;
    assert_eq!(turn, said);

    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
        config.shared.privacy.redaction.all_fields.email = Some(Mode::Mask);
        config.shared.privacy.redaction.all_fields.phone = Some(Mode::Mask);
    })
    .await;
    let (turn, episodes) = run(
        (&app, &Pipeline::new(&app)),
        "conv_contact",
        said,
        MemoryKind::Episode,
    )
    .await;
    assert_eq!(
        turn,
        "It's about order 53819. Email me at [email] or call [phone number]."
    );
    let episode = episodes
        .iter()
        .find(|m| m.content.contains("order 53819"))
        .expect("the order number is searchable");
    assert!(
        !episode.content.contains("example.com") && !episode.content.contains("555 0199"),
        "{}",
        episode.content
    );
}

#[tokio::test]
async fn the_episode_policy_applies_even_where_the_turns_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
        config.shared.privacy.redaction.transcript_turns = every_kind(Mode::Keep);
        config.shared.privacy.redaction.episodes.email = Some(Mode::Mask);
        config.shared.privacy.redaction.episodes.phone = Some(Mode::Drop);
    })
    .await;
    let said = "Email me at ada.l@example.com or call 415 555 0199, mornings are best.";
    let (turn, episodes) = run(
        (&app, &Pipeline::new(&app)),
        "conv_episodes",
        said,
        MemoryKind::Episode,
    )
    .await;
    assert_eq!(turn, said, "the turns keep everything");
    let episode = episodes
        .iter()
        .find(|m| m.content.contains("mornings are best"))
        .expect("the caller's turn has its episode");
    assert!(
        episode
            .content
            .contains("caller: Email me at [email] or call, mornings are best."),
        "{}",
        episode.content
    );
}

#[tokio::test]
async fn a_memory_holding_a_kind_dropped_from_memory_content_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
        config.shared.privacy.redaction.memory_content.card = Some(Mode::Drop);
        config.shared.privacy.redaction.memory_content.email = Some(Mode::Drop);
    })
    .await;
    let pipeline = Pipeline::new(&app);
    let said = "My card is 4111 1111 1111 1111 and I prefer mornings.";
    let (turn, facts) = run((&app, &pipeline), "conv_card_fact", said, MemoryKind::Fact).await;
    assert_eq!(turn, "My card is [card number] and I prefer mornings.");
    let facts = contents(&facts);
    assert!(facts.contains(&"Prefers mornings"), "{facts:?}");
    assert!(!facts.iter().any(|f| f.contains("Card")), "{facts:?}");

    let said = "My email is ada@example.com.";
    let (turn, facts) = run((&app, &pipeline), "conv_email_fact", said, MemoryKind::Fact).await;
    assert_eq!(turn, said, "the turns keep email addresses");
    assert!(
        !facts.iter().any(|f| f.content.contains("Email is")),
        "{:?}",
        contents(&facts)
    );
}

#[tokio::test]
async fn analysis_results_and_summaries_follow_their_own_fields_policy() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
        config.shared.privacy.redaction.analysis_results.phone = Some(Mode::Mask);
        config.shared.privacy.redaction.summaries.phone = Some(Mode::Drop);
    })
    .await;
    let mut payload: serde_json::Value =
        serde_json::from_str(&call_payload("conv_analysis", None)).unwrap();
    let analysis = &mut payload["data"]["analysis"];
    analysis["transcript_summary"] =
        "Dana asked to be called back on 415 555 0199 tomorrow.".into();
    analysis["data_collection_results"]["new_facts"]["value"] = "Callback on 415 555 0199".into();
    analysis["data_collection_results"]["new_facts"]["rationale"] =
        "The caller gave 415 555 0199 for callbacks.".into();
    accept(&app, "conv_analysis", payload.to_string()).await;
    Pipeline::new(&app).run().await;

    let analysis = app
        .store
        .get_call("conv_analysis")
        .await
        .unwrap()
        .unwrap()
        .analysis
        .unwrap();
    assert_eq!(
        analysis.summary.as_deref(),
        Some("Dana asked to be called back on tomorrow.")
    );
    let new_facts = &analysis.data_collection.unwrap()["new_facts"];
    assert_eq!(new_facts["value"], "Callback on [phone number]");
    assert_eq!(
        new_facts["rationale"],
        "The caller gave [phone number] for callbacks."
    );
}

#[tokio::test]
async fn a_call_without_personal_data_gives_the_same_memories_under_any_policy() {
    let said = "Yes please. Order 53819 came on March 3rd, it was $12.50, and I was born in 1962. \
                Mornings after 9:30 are best if someone needs to call me back, at the Elm Street \
                branch.";
    let mut stored = Vec::new();
    for mode in [None, Some(Mode::Mask), Some(Mode::Drop)] {
        let dir = tempfile::tempdir().unwrap();
        let app = support::app_with(Deployment::Embedded, dir.path(), |config| {
            if let Some(mode) = mode {
                config.shared.privacy.redaction.all_fields = every_kind(mode);
            }
        })
        .await;
        let (turn, facts) = run(
            (&app, &Pipeline::new(&app)),
            "conv_clean",
            said,
            MemoryKind::Fact,
        )
        .await;
        let user = app
            .store
            .get_call("conv_clean")
            .await
            .unwrap()
            .unwrap()
            .conversation
            .user_id
            .unwrap();
        let episodes = MemoryFilter {
            kinds: vec![MemoryKind::Episode],
            ..MemoryFilter::default()
        };
        let episodes = app
            .store
            .list_memories(&user, &episodes, MemoryOrder::Newest, 200)
            .await
            .unwrap();
        let mut facts: Vec<String> = facts.into_iter().map(|m| m.content).collect();
        let mut episodes: Vec<String> = episodes.into_iter().map(|m| m.content).collect();
        facts.sort();
        episodes.sort();
        assert!(!facts.is_empty() && !episodes.is_empty());
        stored.push((turn, facts, episodes));
    }
    assert_eq!(stored[0].0, said);
    assert_eq!(stored[0], stored[1], "every kind masked");
    assert_eq!(stored[0], stored[2], "every kind dropped");
}

#[tokio::test]
async fn a_stored_unredacted_transcript_is_redacted_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(Deployment::Embedded, dir.path()).await;
    let payload = include_str!("../../../../fixtures/elevenlabs/unredacted_transcript.json");
    let conversation: serde_json::Value = serde_json::from_str(payload).unwrap();
    let conversation = conversation["data"]["conversation_id"].as_str().unwrap();
    accept(&app, conversation, payload.to_owned()).await;
    Pipeline::new(&app).run().await;

    let call = app.store.get_call(conversation).await.unwrap().unwrap();
    assert_eq!(
        call.turns[5].message.as_deref(),
        Some(
            "Yes please. And mornings are best if someone needs to call me back on 415 555 0199. \
             The card on file is [card number]."
        )
    );
    let summary = call.analysis.unwrap().summary.unwrap();
    assert!(
        summary.contains("card number [card number]") && !summary.contains("4111"),
        "{summary}"
    );
}
