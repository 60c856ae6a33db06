//! The typed `log.otlp` settings against the standard `OTEL_*` variables.

use std::collections::HashMap;

use super::settings::{ExportPlan, OtlpProtocol, OtlpSettings, SamplerPlan};

fn resolve(settings: &OtlpSettings, vars: &[(&str, &str)]) -> Option<ExportPlan> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    settings
        .resolve(|name| env.get(name).cloned(), "memvox-test")
        .unwrap()
}

fn error(settings: &OtlpSettings, vars: &[(&str, &str)]) -> String {
    let env: HashMap<&str, &str> = vars.iter().copied().collect();
    settings
        .resolve(|name| env.get(name).map(|v| (*v).to_owned()), "memvox-test")
        .unwrap_err()
        .to_string()
}

#[test]
fn off_without_an_endpoint() {
    assert_eq!(resolve(&OtlpSettings::default(), &[]), None);
    let only_name = [
        ("OTEL_SERVICE_NAME", "x"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ];
    assert_eq!(resolve(&OtlpSettings::default(), &only_name), None);
}

#[test]
fn otel_variables_configure_export() {
    let plan = resolve(
        &OtlpSettings::default(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "memvox-gateway"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ],
    )
    .unwrap();
    // The endpoint stays unset: the exporter reads it (and appends the signal path) itself.
    assert_eq!(plan.endpoint, None);
    assert_eq!(plan.protocol, OtlpProtocol::Grpc);
    assert_eq!(plan.service_name, "memvox-gateway");
    assert_eq!(
        plan.sampler,
        SamplerPlan::Ratio {
            ratio: 0.25,
            parent_based: true
        }
    );
}

#[test]
fn defaults_are_http_every_trace_and_the_executable_name() {
    let plan = resolve(
        &OtlpSettings::default(),
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces",
        )],
    )
    .unwrap();
    assert_eq!(plan.protocol, OtlpProtocol::Http);
    assert_eq!(plan.service_name, "memvox-test");
    assert_eq!(
        plan.sampler,
        SamplerPlan::Ratio {
            ratio: 1.0,
            parent_based: true
        }
    );
}

#[test]
fn typed_settings_win_over_the_variables() {
    let typed = OtlpSettings {
        endpoint: Some("http://collector:4318".into()),
        protocol: Some(OtlpProtocol::Http),
        service_name: Some("typed".into()),
        sample_ratio: Some(0.5),
    };
    let plan = resolve(
        &typed,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "env"),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ],
    )
    .unwrap();
    assert_eq!(plan.endpoint.as_deref(), Some("http://collector:4318"));
    assert_eq!(plan.protocol, OtlpProtocol::Http);
    assert_eq!(plan.service_name, "typed");
    assert_eq!(
        plan.sampler,
        SamplerPlan::Ratio {
            ratio: 0.5,
            parent_based: true
        }
    );
}

#[test]
fn sdk_disabled_turns_everything_off() {
    let typed = OtlpSettings {
        endpoint: Some("http://collector:4318".into()),
        ..OtlpSettings::default()
    };
    assert_eq!(resolve(&typed, &[("OTEL_SDK_DISABLED", "TRUE")]), None);
}

#[test]
fn invalid_settings_say_which_rule_they_break() {
    let bad_ratio = OtlpSettings {
        endpoint: Some("http://c:4318".into()),
        sample_ratio: Some(1.5),
        ..OtlpSettings::default()
    };
    assert!(error(&bad_ratio, &[]).contains("between 0 and 1"));
    let bad_url = OtlpSettings {
        endpoint: Some("jaeger:4317".into()),
        ..OtlpSettings::default()
    };
    assert!(error(&bad_url, &[]).contains("http:// or https://"));
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
    let unknown_protocol = [env[0], ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")];
    assert!(error(&OtlpSettings::default(), &unknown_protocol).contains("grpc or http/protobuf"));
    let unknown_sampler = [env[0], ("OTEL_TRACES_SAMPLER", "jaeger_remote")];
    assert!(error(&OtlpSettings::default(), &unknown_sampler).contains("not supported"));
    let bad_arg = [
        env[0],
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "half"),
    ];
    assert!(error(&OtlpSettings::default(), &bad_arg).contains("not a number"));
}

#[test]
fn deserializes_the_typed_section() {
    let settings: OtlpSettings = serde_json::from_str(
        r#"{"endpoint":"http://j:4317","protocol":"grpc","service_name":"s","sample_ratio":0.1}"#,
    )
    .unwrap();
    assert_eq!(settings.protocol, Some(OtlpProtocol::Grpc));
    assert!(serde_json::from_str::<OtlpSettings>(r#"{"protocol":"udp"}"#).is_err());
    assert!(serde_json::from_str::<OtlpSettings>(r#"{"endpont":"x"}"#).is_err());
}
