//! Redaction at write time, end to end: a card number, an email address or a phone number the
//! caller gives is masked in the stored turns, episodes and memories; the rest of what they
//! said, order numbers included, is kept.
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

#[tokio::test]
async fn an_email_and_a_phone_number_are_masked_and_the_order_number_kept() {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(Deployment::Embedded, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let said = "It's about order 53819. Email me at ada.l@example.com or call +1 415 555 0199.";
    accept(
        &app,
        "conv_contact",
        call_payload("conv_contact", Some(said)),
    )
    .await;
    pipeline.run().await;

    let call = app.store.get_call("conv_contact").await.unwrap().unwrap();
    assert_eq!(
        call.turns[5].message.as_deref().unwrap(),
        "It's about order 53819. Email me at [email] or call [phone number]."
    );
    let user = call.conversation.user_id.unwrap();
    let episodes = MemoryFilter {
        kinds: vec![memvox_core::MemoryKind::Episode],
        ..MemoryFilter::default()
    };
    let memories = app
        .store
        .list_memories(&user, &episodes, MemoryOrder::Newest, 200)
        .await
        .unwrap();
    let turn = memories
        .iter()
        .find(|m| m.content.contains("order 53819"))
        .expect("the order number is searchable");
    assert!(
        !turn.content.contains("example.com") && !turn.content.contains("555 0199"),
        "{}",
        turn.content
    );
}
