//! Every file in `fixtures/elevenlabs/` parses into our types, and the accessors give the values a
//! reader of the fixture would expect.

use memvox_elevenlabs::dynamic::DynamicVariableName;
use memvox_elevenlabs::post_call::{
    Direction, EventPayload, FailureMetadata, FailureReason, PhoneProvider, Role,
    TranscriptionData, Verdict,
};
use memvox_elevenlabs::tool::memory_query_tool_config;
use memvox_elevenlabs::{
    ConversationInitRequest, ConversationInitResponse, EnvelopeHead, EventKind, MemoryQueryRequest,
    WebhookEvent, from_slice,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/elevenlabs/");
    std::fs::read(format!("{path}{name}")).expect("fixture is readable")
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture is JSON")
}

fn transcription() -> TranscriptionData {
    let event = WebhookEvent::parse(&fixture("post_call_transcription.json"));
    match event.expect("transcription fixture parses").payload {
        EventPayload::Transcription(data) => *data,
        other => panic!("expected a transcription, got {other:?}"),
    }
}

#[test]
fn heads_of_all_post_call_fixtures() {
    let cases = [
        (
            "post_call_transcription.json",
            EventKind::Transcription,
            1_767_225_645,
            "conv_5201kf3r7e9yq2m8vx4pn0td6h",
        ),
        (
            "post_call_audio.json",
            EventKind::Audio,
            1_767_225_647,
            "conv_5201kf3r7e9yq2m8vx4pn0td6h",
        ),
        (
            "call_initiation_failure.json",
            EventKind::InitiationFailure,
            1_767_229_238,
            "conv_7701kf5b2x9q3m6t8v1c4n0pd7",
        ),
        (
            "call_initiation_failure_sip.json",
            EventKind::InitiationFailure,
            1_767_232_812,
            "conv_8801kf6c3y0r4n7v9w2d5p1qe8",
        ),
    ];
    for (file, kind, timestamp, conversation) in cases {
        let body = fixture(file);
        let head = EnvelopeHead::parse(&body).unwrap();
        assert_eq!(head.kind, kind, "{file}");
        assert_eq!(head.event_timestamp, timestamp, "{file}");
        assert_eq!(
            head.conversation_id.as_deref(),
            Some(conversation),
            "{file}"
        );
        assert_eq!(
            head.agent_id.as_deref(),
            Some("agent_4701kf3qz8mrx2v9tn6bq0c5wd"),
            "{file}"
        );

        let event = WebhookEvent::parse(&body).unwrap();
        assert_eq!(event.kind(), kind, "{file}");
        assert_eq!(event.event_type(), head.event_type, "{file}");
        assert_eq!(event.conversation_id(), Some(conversation), "{file}");
        assert_eq!(event.event_timestamp, timestamp, "{file}");
    }
}

#[test]
fn transcription_identity_and_timing() {
    let data = transcription();
    assert_eq!(data.remote_number(|_| false), Some("+14155550199"));
    assert_eq!(data.direction(), Some(&Direction::Inbound));
    assert_eq!(data.user_id(), Some("mem_usr_8c1f2a"));
    assert_eq!(data.variable_str("caller_name"), Some("Dana"));
    let phone = data.metadata.phone_call.as_ref().unwrap();
    assert_eq!(phone.provider, PhoneProvider::Twilio);
    assert_eq!(phone.agent_number.as_deref(), Some("+14155550142"));
    assert_eq!(
        phone.call_sid.as_deref(),
        Some("CA5f0c2b9e8d7a6b5c4d3e2f1a0b9c8d7e")
    );
    assert_eq!(
        data.metadata.termination_reason.as_deref(),
        Some("Call ended by remote party")
    );
    assert_eq!(data.metadata.start_time_unix_secs, 1_767_225_600);
    assert_eq!(data.end_time_unix_secs(), 1_767_225_631);
}

#[test]
fn transcription_messages_skip_tool_turns() {
    let data = transcription();
    assert_eq!(data.transcript.len(), 9);
    let messages: Vec<_> = data.messages().collect();
    assert_eq!(messages.len(), 7);
    let indexes: Vec<_> = messages.iter().map(|m| m.turn_index).collect();
    assert_eq!(indexes, [0, 1, 4, 5, 6, 7, 8]);
    let pickup = &messages[3];
    assert_eq!(pickup.role, &Role::User);
    assert_eq!(
        pickup.text,
        "Yes please. And mornings are best if someone needs to call me back."
    );
    assert_eq!(pickup.time_in_call_secs, 17);
    assert_eq!(pickup.time_unix_secs, 1_767_225_617);
    assert_eq!(data.turn_time_unix_secs(&data.transcript[2]), 1_767_225_609);
}

#[test]
fn transcription_tool_call_params_and_result() {
    let data = transcription();
    let calls: Vec<_> = data.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    let (turn, call) = calls[0];
    assert_eq!(turn, 2);
    assert_eq!(call.tool_name, "memory_query");
    assert_eq!(
        call.params().unwrap(),
        json!({
            "query": "which pharmacy did the caller switch to",
            "user_id": "mem_usr_8c1f2a",
            "caller_id": "+14155550199",
            "conversation_id": "conv_5201kf3r7e9yq2m8vx4pn0td6h",
            "limit": 3
        })
    );
    let request: MemoryQueryRequest = serde_json::from_str(&call.params_as_json).unwrap();
    assert_eq!(request.user_id(), Some("mem_usr_8c1f2a"));
    let result = data.tool_result(&call.request_id).unwrap();
    assert!(!result.is_error);
    assert_eq!(result.tool_latency_secs, Some(0.284));
    assert_eq!(
        result.result_json().unwrap().unwrap(),
        fixture_json("memory_query_tool_response.json")
    );
}

#[test]
fn transcription_analysis() {
    let data = transcription();
    let analysis = data.analysis.as_ref().unwrap();
    assert_eq!(analysis.call_successful, Verdict::Success);
    assert_eq!(
        analysis.call_summary_title.as_deref(),
        Some("Refill pharmacy confirmation")
    );
    assert!(data.summary().unwrap().starts_with("Dana asked whether"));
    assert_eq!(
        analysis.evaluation_criteria_results["recalled_prior_context"].result,
        Verdict::Success
    );
    let window = analysis
        .data_collection("preferred_callback_window")
        .unwrap();
    assert_eq!(window.as_text(), Some("weekday mornings"));
    assert_eq!(
        analysis.data_collection("new_facts").unwrap().value,
        json!("Refill should go to Elm Street pharmacy.")
    );
    assert!(
        data.action_items().is_empty(),
        "the fixture collects no action items"
    );
}

#[test]
fn transcription_round_trips_through_serialisation() {
    let data = transcription();
    let again: TranscriptionData =
        serde_json::from_value(serde_json::to_value(&data).unwrap()).unwrap();
    assert_eq!(again, data);
}

#[test]
fn malformed_transcription_names_the_field() {
    let mut body = fixture_json("post_call_transcription.json");
    body["data"]["transcript"][4]["role"] = json!(5);
    let error = WebhookEvent::parse(&serde_json::to_vec(&body).unwrap()).unwrap_err();
    assert_eq!(error.path(), "data.transcript[4].role");

    let mut body = fixture_json("post_call_transcription.json");
    body["data"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("start_time_unix_secs");
    let error = WebhookEvent::parse(&serde_json::to_vec(&body).unwrap()).unwrap_err();
    assert_eq!(error.path(), "data.metadata");
    assert!(
        error.to_string().contains("start_time_unix_secs"),
        "{error}"
    );
}

#[test]
fn transcript_excluded_still_parses() {
    let mut body = fixture_json("post_call_transcription.json");
    body["data"].as_object_mut().unwrap().remove("transcript");
    let event = WebhookEvent::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
    let EventPayload::Transcription(data) = event.payload else {
        panic!("not a transcription")
    };
    assert_eq!(data.messages().count(), 0);
    assert!(data.summary().is_some());
}

#[test]
fn audio_fixture() {
    let event = WebhookEvent::parse(&fixture("post_call_audio.json")).unwrap();
    let EventPayload::Audio(audio) = event.payload else {
        panic!("not audio")
    };
    assert!(audio.full_audio.starts_with("SUQzBAAAAAAAAP"));
}

#[test]
fn initiation_failure_fixtures() {
    let event = WebhookEvent::parse(&fixture("call_initiation_failure.json")).unwrap();
    let EventPayload::InitiationFailure(twilio) = event.payload else {
        panic!("not a failure")
    };
    assert_eq!(twilio.failure_reason, FailureReason::NoAnswer);
    assert_eq!(twilio.dialled_number(), Some("+14155550199"));
    let Some(FailureMetadata::Twilio(status)) = &twilio.metadata else {
        panic!("not twilio")
    };
    assert_eq!(
        status.call_sid.as_deref(),
        Some("CA9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b")
    );
    assert_eq!(status.call_status.as_deref(), Some("no-answer"));

    let event = WebhookEvent::parse(&fixture("call_initiation_failure_sip.json")).unwrap();
    let EventPayload::InitiationFailure(sip) = event.payload else {
        panic!("not a failure")
    };
    assert_eq!(sip.failure_reason, FailureReason::Busy);
    let Some(FailureMetadata::Sip(body)) = &sip.metadata else {
        panic!("not sip")
    };
    assert_eq!(body.sip_status_code, Some(486));
    assert_eq!(body.from_number.as_deref(), Some("+14155550142"));
    assert_eq!(sip.dialled_number(), Some("+14155550199"));
}

#[test]
fn conversation_init_request_fixture() {
    let request: ConversationInitRequest =
        from_slice(&fixture("conversation_init_request.json")).unwrap();
    assert_eq!(request.caller_id(), Some("+14155550199"));
    assert_eq!(request.called_number.as_deref(), Some("+14155550142"));
    assert_eq!(request.agent_id, "agent_4701kf3qz8mrx2v9tn6bq0c5wd");
    assert_eq!(
        request.call_sid.as_deref(),
        Some("CA5f0c2b9e8d7a6b5c4d3e2f1a0b9c8d7e")
    );
    assert_eq!(
        request.conversation_id.as_deref(),
        Some("conv_5201kf3r7e9yq2m8vx4pn0td6h")
    );
}

#[test]
fn built_init_response_equals_the_fixture() {
    const CALLER_NAME: DynamicVariableName = DynamicVariableName::from_static("caller_name");
    const MEMORY_USER_ID: DynamicVariableName = DynamicVariableName::from_static("memory_user_id");
    const MEMORY_SUMMARY: DynamicVariableName = DynamicVariableName::from_static("memory_summary");
    let first = "Hi Dana, welcome back. Last time we spoke about moving your refill pickup. How can I help today?";
    let response = ConversationInitResponse::new()
        .with_variable(CALLER_NAME, "Dana")
        .with_variable(MEMORY_USER_ID, "mem_usr_8c1f2a")
        .with_variable(
            MEMORY_SUMMARY,
            "Returning caller. Prefers short answers. Last call: asked to move refill pickup.",
        )
        .with_first_message(first)
        .with_language("en")
        .with_user_id("mem_usr_8c1f2a");
    let expected = fixture_json("conversation_init_response.json");
    assert_eq!(serde_json::to_value(&response).unwrap(), expected);
    let parsed: ConversationInitResponse = serde_json::from_value(expected).unwrap();
    assert_eq!(parsed, response);
}

#[test]
fn memory_query_request_fixture() {
    let request_file = fixture_json("memory_query_tool_request.json");
    let request: MemoryQueryRequest = serde_json::from_value(request_file["body"].clone()).unwrap();
    assert_eq!(request.query, "which pharmacy did the caller switch to");
    assert_eq!(request.user_id(), Some("mem_usr_8c1f2a"));
    assert_eq!(request.caller_id(), Some("+14155550199"));
    assert_eq!(
        request.conversation_id(),
        Some("conv_5201kf3r7e9yq2m8vx4pn0td6h")
    );
    assert_eq!(request.limit, Some(3));
    assert_eq!(request.sectors, None);
}

#[test]
fn generated_tool_config_equals_the_fixture_and_matches_the_request_type() {
    let expected = fixture_json("memory_query_tool_config.json");
    let config = memory_query_tool_config(
        "https://memvox.example.com/tools/memory-query",
        "memvox_bearer_secret_id_placeholder",
        10,
    );
    assert_eq!(config, expected);

    let every_field = MemoryQueryRequest {
        query: String::new(),
        user_id: Some(String::new()),
        caller_id: Some(String::new()),
        called_number: Some(String::new()),
        agent_id: Some(String::new()),
        conversation_id: Some(String::new()),
        limit: Some(1),
        sectors: Some(Vec::new()),
        explain: false,
    };
    let fields = serde_json::to_value(every_field).unwrap();
    let properties = config["api_schema"]["request_body_schema"]["properties"]
        .as_object()
        .unwrap();
    for name in properties.keys() {
        assert!(
            fields.get(name).is_some(),
            "tool property {name} is not a request field"
        );
    }
}

#[test]
fn setup_requests_equal_the_pinned_api_bodies() {
    use memvox_elevenlabs::setup::{
        AgentSetup, CustomLlmSetup, create_post_call_webhook, create_tool, update_agent,
        use_custom_llm,
    };
    let webhook = create_post_call_webhook(
        "memvox post-call",
        "https://memvox.example.com/webhook/post-call",
    );
    assert_eq!(
        (webhook.method, webhook.path.as_str()),
        ("POST", "/v1/workspace/webhooks")
    );
    assert_eq!(
        webhook.body,
        fixture_json("api_create_webhook_request.json")
    );
    let tool = create_tool(memory_query_tool_config(
        "https://memvox.example.com/tools/memory-query",
        "memvox_bearer_secret_id_placeholder",
        10,
    ));
    assert_eq!(
        (tool.method, tool.path.as_str()),
        ("POST", "/v1/convai/tools")
    );
    assert_eq!(tool.body, fixture_json("api_create_tool_request.json"));
    assert!(
        tool.body["tool_config"].get("assignments").is_none(),
        "memory_summary is never blanked"
    );
    let agent = update_agent(&AgentSetup {
        agent_id: "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
        post_call_webhook_id: "wh_placeholder",
        init_url: "https://memvox.example.com/webhook/conversation-init",
        init_secret_header: "x-memvox-secret",
        init_secret_id: "memvox_init_secret_id_placeholder",
        first_message_override: false,
    });
    assert_eq!(
        (agent.method, agent.path.as_str()),
        (
            "PATCH",
            "/v1/convai/agents/agent_4701kf3qz8mrx2v9tn6bq0c5wd"
        )
    );
    assert_eq!(agent.body, fixture_json("api_update_agent_request.json"));
    let llm = use_custom_llm(&CustomLlmSetup {
        agent_id: "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
        url: "https://memvox.example.com/llm/v1",
        model_id: "memvox",
        api_key_secret_id: "memvox_llm_token_secret_id_placeholder",
    });
    assert_eq!(
        (llm.method, llm.path.as_str()),
        ("PATCH", agent.path.as_str())
    );
    assert_eq!(
        llm.body,
        fixture_json("api_update_agent_custom_llm_request.json")
    );
}

#[test]
fn the_tool_binds_only_variables_every_channel_has() {
    let config = memory_query_tool_config("https://m.example/tools/memory-query", "s", 10);
    let properties = config["api_schema"]["request_body_schema"]["properties"]
        .as_object()
        .unwrap();
    let bound: Vec<&str> = properties
        .values()
        .filter_map(|p| p["dynamic_variable"].as_str())
        .collect();
    assert_eq!(
        bound,
        [
            "system__agent_id",
            "system__conversation_id",
            "memory_user_id"
        ]
    );
    assert_eq!(
        config["api_schema"]["request_headers"]
            .as_object()
            .unwrap()
            .len(),
        1,
        "only Authorization"
    );
}

#[test]
fn conversations_api_fixtures_parse_and_details_become_the_webhook() {
    use memvox_elevenlabs::conversations::{ConversationsPage, Readiness, transcription_event};
    use memvox_elevenlabs::post_call::ConversationStatus;

    let first = ConversationsPage::parse(&fixture("api_conversations_page_1.json")).unwrap();
    let second = ConversationsPage::parse(&fixture("api_conversations_page_2.json")).unwrap();
    assert_eq!(first.next(), Some("cur_8f2e1d7c0b9a"));
    assert_eq!(second.next(), None);
    let readiness: Vec<Readiness> = first
        .conversations
        .iter()
        .chain(&second.conversations)
        .map(|c| Readiness::of(&c.status))
        .collect();
    use Readiness::{Never, NotYet, Ready};
    assert_eq!(readiness, [NotYet, NotYet, Ready, Never, Ready]);

    let webhook = fixture_json("post_call_transcription.json");
    let done = &first.conversations[2];
    let event = transcription_event(
        &done.conversation_id,
        &fixture("api_conversation_details.json"),
    )
    .unwrap();
    assert_eq!(event.status, ConversationStatus::Done);
    let imported: Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(imported["type"], webhook["type"]);
    assert_eq!(imported["data"], webhook["data"]);
    assert_eq!(event.event_timestamp, done.end_time_unix_secs());
    for name in ["api_error_401.json", "api_error_429.json"] {
        assert!(fixture_json(name)["detail"]["status"].is_string(), "{name}");
    }
}
