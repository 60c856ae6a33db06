//! `memvox elevenlabs config`: what to paste into the ElevenLabs agent settings.

use serde_json::json;

/// Prints the webhook URLs and the `memory_query` server-tool definition for a deployment
/// reachable at `base_url`.
pub fn print_config(base_url: &str, secret_id: &str) -> anyhow::Result<()> {
    let base = base_url.trim_end_matches('/');
    let config = json!({
        "post_call_webhook": {
            "url": format!("{base}/webhook/post-call"),
            "events": ["transcript", "call_initiation_failure"],
            "note": "ElevenLabs shows the webhook's signing secret once: put it in gateway.webhook_secrets (MEMVOX_GATEWAY__WEBHOOK_SECRETS)."
        },
        "conversation_initiation_webhook": {
            "url": format!("{base}/webhook/conversation-init"),
            "note": "Add the header secret configured in memvox to the webhook's request headers."
        },
        "memory_query_tool": memvox_elevenlabs::tool::memory_query_tool_config(
            &format!("{base}/tools/memory-query"),
            secret_id,
            10,
        ),
    });
    println!("{}", serde_json::to_string_pretty(&config)?);
    Ok(())
}
