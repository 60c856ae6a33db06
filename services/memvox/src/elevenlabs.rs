//! `memvox elevenlabs config`: the exact ElevenLabs API requests that connect an agent to this
//! deployment, in the order to send them (each a method, a path and the JSON body), with what
//! to do with each response. The bodies come from `memvox_elevenlabs::setup`, which the
//! fixtures pin; the initiation header and whether the first-message override is enabled come
//! from this process's configuration, so what is enabled matches what memvox sends. With the
//! custom-LLM proxy on (`query.llm_proxy.enabled`), a fourth request makes it the agent's LLM,
//! naming the first model alias of `query.llm_proxy.models` (else `default_model`).

use memvox::Config;
use memvox_elevenlabs::setup::{
    AgentSetup, ApiRequest, CustomLlmSetup, create_post_call_webhook, create_tool, update_agent,
    use_custom_llm,
};
use serde_json::{Value, json};

/// The placeholders and names `memvox elevenlabs config` fills in.
#[derive(Debug, Clone)]
pub struct ConfigArgs {
    /// Public base URL of this deployment.
    pub base_url: String,
    /// Workspace secret holding `Bearer <tool token>`.
    pub secret_id: String,
    /// Workspace secret holding the initiation header's value.
    pub init_secret_id: String,
    /// The agent to configure.
    pub agent_id: String,
    /// `webhook_id` of the post-call webhook (the first request's response).
    pub post_call_webhook_id: String,
    /// Workspace secret holding an LLM token (the Custom LLM API key).
    pub llm_secret_id: String,
}

/// Prints the requests for `args` under `config`.
pub fn print_config(config: &Config, args: &ConfigArgs) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&requests(config, args))?);
    Ok(())
}

/// The requests, each with its next step.
pub fn requests(config: &Config, args: &ConfigArgs) -> Value {
    let base = args.base_url.trim_end_matches('/');
    let post_call = format!("{base}/webhook/post-call");
    let init_url = format!("{base}/webhook/conversation-init");
    let tool = memvox_elevenlabs::tool::memory_query_tool_config(
        &format!("{base}/tools/memory-query"),
        &args.secret_id,
        10,
    );
    let agent = AgentSetup {
        agent_id: &args.agent_id,
        post_call_webhook_id: &args.post_call_webhook_id,
        init_url: &init_url,
        init_secret_header: &config.query.init_secret_header,
        init_secret_id: &args.init_secret_id,
        first_message_override: config.query.first_message_override,
    };
    let mut requests = vec![
        step(
            create_post_call_webhook("memvox post-call", &post_call),
            "The response's webhook_secret is shown once: put it in gateway.webhook_secrets \
             (MEMVOX_GATEWAY__WEBHOOK_SECRETS). Its webhook_id is the agent's \
             post_call_webhook_id below (--post-call-webhook-id).",
        ),
        step(
            create_tool(tool),
            "Add the response's id to the agent's tools (conversation_config.agent.prompt.\
             tool_ids) and mention memory_query in its prompt.",
        ),
        step(
            update_agent(&agent),
            "The init secret's workspace secret must hold one of query.init_secrets; the \
             first_message override is enabled exactly when query.first_message_override is on.",
        ),
    ];
    let proxy = &config.query.llm_proxy;
    if proxy.enabled {
        let model_id = proxy
            .models
            .keys()
            .next()
            .or(proxy.default_model.as_ref())
            .map_or("UPSTREAM_MODEL", String::as_str);
        let llm = CustomLlmSetup {
            agent_id: &args.agent_id,
            url: &format!("{base}/llm/v1"),
            model_id,
            api_key_secret_id: &args.llm_secret_id,
        };
        requests.push(step(
            use_custom_llm(&llm),
            "The LLM token's workspace secret must hold a token whose SHA-256 is in \
             query.llm_proxy.token_sha256 (ElevenLabs sends it as Authorization: Bearer); the \
             agent's prompt and tools stay as they are, and every turn now carries the caller's \
             memories.",
        ));
    }
    json!({ "requests": requests })
}

fn step(request: ApiRequest, then: &str) -> Value {
    json!({
        "method": request.method,
        "path": request.path,
        "body": request.body,
        "then": then,
    })
}
