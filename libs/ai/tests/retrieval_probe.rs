//! Quality floor on the retrieval probe (`probes/retrieval/`): the bundled static model must
//! keep finding paraphrases that spelling alone cannot. The floors sit a few points under the
//! figures measured when the model was committed (static R@5 0.835, hashing R@5 0.488), so a
//! broken tokenizer, a wrong pooling or a swapped model fails here.

use std::path::Path;

use memvox_ai::eval::{ProbeSet, evaluate};
use memvox_ai::{HashingEmbedder, StaticEmbedder};

fn probe() -> ProbeSet {
    ProbeSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../probes/retrieval"))
        .expect("probe set")
}

#[tokio::test]
async fn the_probe_set_is_well_formed() {
    let set = probe();
    assert_eq!(set.facts.len(), 200);
    assert!(set.questions.len() >= 100);
    let no_overlap = (0..set.questions.len())
        .filter(|&q| !set.overlaps(q))
        .count();
    assert!(
        no_overlap >= 40,
        "only {no_overlap} questions without word overlap"
    );
}

#[tokio::test]
async fn static_model_beats_hashing_on_paraphrases() {
    let set = probe();
    let static_report = evaluate(&StaticEmbedder::find(None).unwrap(), &set)
        .await
        .unwrap();
    let hashing_report = evaluate(&HashingEmbedder::new(), &set).await.unwrap();
    println!("static {static_report:?}\nhashing {hashing_report:?}");
    assert!(static_report.all.recall_at_5 >= 0.80, "{static_report:?}");
    assert!(
        static_report.no_overlap.recall_at_5 >= 0.60,
        "{static_report:?}"
    );
    assert!(hashing_report.all.recall_at_5 >= 0.40, "{hashing_report:?}");
    assert!(static_report.all.mrr > hashing_report.all.mrr + 0.2);
}
