//! Redaction at write time, end to end: a card number the caller reads out is masked in the
//! stored turns, episodes and memories; the rest of what they said is kept.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use memvox_store::{MemoryFilter, MemoryOrder};
use support::{Deployment, Pipeline, accept, call_payload};

#[tokio::test]
async fn a_card_number_read_out_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(Deployment::Embedded, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let said = "Please charge my card, four one one one one one one one one one one one one one \
                one one, and I prefer mornings for callbacks.";
    accept(&app, "conv_card", call_payload("conv_card", Some(said))).await;
    pipeline.run().await;

    let call = app.store.get_call("conv_card").await.unwrap().unwrap();
    let turn = call.turns[5].message.as_deref().unwrap();
    assert_eq!(
        turn,
        "Please charge my card, [card number], and I prefer mornings for callbacks."
    );
    let user = call.conversation.user_id.unwrap();
    let everything = MemoryFilter {
        kinds: vec![
            memvox_core::MemoryKind::Fact,
            memvox_core::MemoryKind::Episode,
        ],
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
