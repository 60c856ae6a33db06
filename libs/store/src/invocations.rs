//! The tool-invocation log: every server-tool call the query service answered, with its
//! (encrypted) request and response, kept unless its conversation or user was erased.

use async_trait::async_trait;

use crate::{
    StoreResult, ToolInvocation,
    backend::Backend,
    dialect::query,
    encryption::{columns, tool_owner},
    rows::{encrypt_optional, json_text},
    sql::{self, INSERT_CHUNK},
    tombstone::unerased_invocations_in,
};

/// The log of server-tool calls.
#[async_trait]
pub trait Invocations: Send + Sync {
    /// Appends server-tool calls to the invocation log, except those of an erased conversation
    /// or of a user erased since the call (queued before an erasure, written after it).
    async fn log_tool_invocations(&self, calls: &[ToolInvocation]) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> Invocations for B {
    async fn log_tool_invocations(&self, calls: &[ToolInvocation]) -> StoreResult<()> {
        let keyring = &self.core().keyring;
        let mut tx = self.begin().await?;
        let calls = unerased_invocations_in::<B::Sql>(&mut tx, keyring, calls).await?;
        for chunk in calls.chunks(INSERT_CHUNK) {
            let statement = format!(
                "INSERT INTO tool_invocations (tool_name, conversation_id, user_id, \
                 request_params, response_data, latency_ms, success, error_message, \
                 created_at) VALUES {}",
                sql::values_rows(chunk.len(), 9)
            );
            let mut insert = query::<B::Sql>(statement);
            for call in chunk {
                let owner = tool_owner(call);
                let request = call.request_params.to_string();
                let response = json_text(call.response_data.as_ref());
                insert = insert
                    .bind(&call.tool_name)
                    .bind(&call.conversation_id)
                    .bind(&call.user_id)
                    .bind(keyring.encrypt(&request, columns::TOOL_REQUEST.at(owner))?)
                    .bind(encrypt_optional(
                        keyring,
                        response,
                        columns::TOOL_RESPONSE.at(owner),
                    )?)
                    .bind(call.latency_ms)
                    .bind(call.success)
                    .bind(&call.error_message)
                    .bind(call.created_at);
            }
            insert.execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
