//! A memory's links as a small inline SVG graph: the memory in the middle, the memories it
//! links to around it (strongest first, at most [`MAX_NODES`]), each edge as thick as its
//! weight, each node a link to that memory's page.

use std::f64::consts::TAU;

use maud::{Markup, html};
use memvox_core::{Memory, MemoryId, MemoryLink};

use super::layout::{memory_path, short};

/// Linked memories drawn (the table beside the graph lists them all).
pub const MAX_NODES: usize = 12;
/// Drawing size, in SVG units.
const SIZE: f64 = 440.0;
/// Distance of the linked memories from the middle.
const RADIUS: f64 = 140.0;

/// The graph of `center`'s `links`, whose targets are `linked` (those missing are left out).
pub fn links(user_id: &str, center: &Memory, links: &[MemoryLink], linked: &[Memory]) -> Markup {
    let mut edges: Vec<(&MemoryLink, &Memory)> = links
        .iter()
        .filter_map(|link| {
            let target = linked.iter().find(|m| m.id == link.target)?;
            Some((link, target))
        })
        .collect();
    edges.sort_by(|a, b| b.0.weight.total_cmp(&a.0.weight));
    edges.truncate(MAX_NODES);
    let middle = SIZE / 2.0;
    let count = edges.len().max(1) as f64;
    let place = |index: usize| {
        let angle = TAU * index as f64 / count - TAU / 4.0;
        (middle + RADIUS * angle.cos(), middle + RADIUS * angle.sin())
    };
    html! {
        figure.graph {
            svg viewBox={ "0 0 " (SIZE) " " (SIZE) } role="img"
                aria-label={ "Memory " (center.id) " and the " (edges.len()) " memories it links to" } {
                @for (index, (link, _)) in edges.iter().enumerate() {
                    @let (x, y) = place(index);
                    line class={ "edge " (link.kind.as_str()) } x1=(middle) y1=(middle)
                        x2=(format!("{x:.1}")) y2=(format!("{y:.1}"))
                        stroke-width=(format!("{:.1}", 1.0 + 5.0 * link.weight.clamp(0.0, 1.0))) {}
                }
                @for (index, (link, target)) in edges.iter().enumerate() {
                    @let (x, y) = place(index);
                    (node(user_id, target.id, x, y, &target.content, Some(link.weight)))
                }
                (node(user_id, center.id, middle, middle, &center.content, None))
            }
        }
    }
}

/// One memory as a circle with its id, its text on hover, linking to its page.
fn node(user_id: &str, id: MemoryId, x: f64, y: f64, content: &str, weight: Option<f64>) -> Markup {
    let (x, y) = (format!("{x:.1}"), format!("{y:.1}"));
    html! {
        a href=(memory_path(user_id, id)) {
            circle.node.center[weight.is_none()] cx=(x) cy=(y) r="22" {
                title {
                    "#" (id) " " (short(content, 120))
                    @if let Some(weight) = weight { " (weight " (format!("{weight:.2}")) ")" }
                }
            }
            text.node-label x=(x) y=(y) dy="4" text-anchor="middle" { "#" (id) }
            text.node-text x=(x) y=(y) dy="38" text-anchor="middle" { (short(content, 30)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use memvox_core::{LinkKind, MemoryKind};

    use super::*;

    fn memory(id: MemoryId, content: &str) -> Memory {
        crate::retrieval::tests::memory(id, MemoryKind::Fact, "c1", &[], content)
    }

    fn link(target: MemoryId, weight: f64) -> MemoryLink {
        MemoryLink {
            source: 1,
            target,
            weight,
            kind: LinkKind::Automatic,
        }
    }

    #[test]
    fn each_linked_memory_is_a_node_with_an_edge_as_thick_as_its_weight() {
        let center = memory(1, "Has a dog");
        let linked = [
            memory(2, "The dog is called <Rex>"),
            memory(3, "Walks at 7"),
        ];
        let svg = links(
            "u",
            &center,
            &[link(2, 0.9), link(3, 0.5), link(4, 1.0)],
            &linked,
        )
        .into_string();
        assert_eq!(
            svg.matches("<line").count(),
            2,
            "no edge to a missing memory"
        );
        assert!(svg.contains(r#"stroke-width="5.5""#), "{svg}");
        assert!(svg.contains(r#"href="/ui/users/u/memories/3""#));
        assert!(svg.contains("&lt;Rex&gt;") && !svg.contains("<Rex>"));
    }
}
