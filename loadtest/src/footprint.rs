//! What a heavy caller's in-memory index weighs, as the `query` scenario reports it: in all and
//! per fact and per episode (vector, lexical postings, attributes, full row and links).

use memvox_store::{IndexFootprint, LayerFootprint};

/// Mean bytes of one memory of a layer in the index: all, vector, postings, attributes, row.
pub fn per_memory(layer: &LayerFootprint) -> [f64; 5] {
    let n = layer.memories.max(1) as f64;
    [
        layer.bytes() as f64 / n,
        layer.vector_bytes as f64 / n,
        layer.posting_bytes as f64 / n,
        layer.attribute_bytes as f64 / n,
        layer.row_bytes as f64 / n,
    ]
}

/// Prints what a heavy user's in-memory index weighs, per fact and per episode.
pub fn print_footprint(footprint: &IndexFootprint) {
    let line = |name: &str, layer: &LayerFootprint| {
        let [all, vector, postings, attributes, row] = per_memory(layer);
        println!(
            "  per {name}: {all:.0} bytes ({} in the index): vector {vector:.0}, postings \
             {postings:.0}, attributes {attributes:.0}, row and links {row:.0}",
            layer.memories
        );
    };
    println!(
        "in-memory index of a heavy user: {:.1} MB (token dictionary {:.2} MB)",
        footprint.bytes() as f64 / 1e6,
        footprint.dictionary_bytes as f64 / 1e6
    );
    line("fact", &footprint.facts);
    line("episode", &footprint.episodes);
}
