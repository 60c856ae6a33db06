//! Readers of a Prometheus registry: a counter's sum over labelled series, the text exposition.

use prometheus::Registry;

/// The sum of counter `name` over the series carrying every one of `labels`.
pub fn counter(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric().iter())
        .filter(|metric| {
            labels.iter().all(|(label, value)| {
                metric
                    .get_label()
                    .iter()
                    .any(|l| l.name() == *label && l.value() == *value)
            })
        })
        .map(|metric| metric.get_counter().get_value() as u64)
        .sum()
}

/// The registry in the Prometheus text format, as `/metrics` serves it.
pub fn metrics_text(registry: &Registry) -> String {
    prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap()
}
