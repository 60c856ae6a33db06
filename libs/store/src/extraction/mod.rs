//! Extraction commits: everything one post-call event produces — the call, a caller binding,
//! the memory changes, the episodes — applied with the event's completion in one transaction,
//! idempotently on the event, several events to a transaction (a group commit).

mod plan;

use async_trait::async_trait;
use memvox_core::UnixMillis;

use crate::{
    ExtractionCommit, ExtractionOutcome, StoreError, StoreResult,
    backend::{Backend, Core},
    calls::{CallEpisodes, record_call_in, write_episodes_in},
    dialect::{Conn, Dialect, Record, query},
    rows::parse_result_ids,
    tombstone::commit_erased_in,
    users::{TOUCH_USER, bind_caller_in},
    written::{Times, Written, flush_written_in},
};

/// Claims an event for processing, returning when it arrived: only one transaction can move it
/// out of `pending`.
const CLAIM_EVENT: &str = "UPDATE webhook_events SET status = 'completed', processed_at = $1, \
     attempts = attempts + 1, error_message = NULL WHERE id = $2 AND status = 'pending' \
     RETURNING received_at";

/// An event's status and the memory ids its commit produced.
const SELECT_EVENT_RESULT: &str =
    "SELECT status, result_memory_ids FROM webhook_events WHERE id = $1";

/// Records the memory ids an event's commit produced.
const SAVE_EVENT_RESULT: &str = "UPDATE webhook_events SET result_memory_ids = $1 WHERE id = $2";

/// Applying what the extraction worker made of a call.
#[async_trait]
pub trait Extraction: Send + Sync {
    /// Applies everything one post-call event produces — the call, a caller binding, the memory
    /// changes — and marks the event completed, in one transaction. Idempotent on the event: a
    /// second application (redelivery after a crash between commit and ack, or two workers
    /// racing) writes nothing and returns the first run's memory ids.
    async fn apply_extraction(&self, commit: &ExtractionCommit) -> StoreResult<ExtractionOutcome>;

    /// Applies several events' extractions, in order, in one transaction (a group commit: the
    /// transaction's fixed cost is paid once for all of them). Each is idempotent as in
    /// [`Extraction::apply_extraction`]; a later commit sees what an earlier one wrote. If any
    /// of them fails, none is written and the error is returned.
    async fn apply_extractions(
        &self,
        commits: &[&ExtractionCommit],
    ) -> StoreResult<Vec<ExtractionOutcome>>;
}

#[async_trait]
impl<B: Backend> Extraction for B {
    async fn apply_extraction(&self, commit: &ExtractionCommit) -> StoreResult<ExtractionOutcome> {
        let mut outcomes = self.apply_extractions(&[commit]).await?;
        outcomes.pop().ok_or_else(|| {
            StoreError::Corrupt("a group commit of one event returned nothing".into())
        })
    }

    async fn apply_extractions(
        &self,
        commits: &[&ExtractionCommit],
    ) -> StoreResult<Vec<ExtractionOutcome>> {
        let mut tx = self.begin().await?;
        let mut written = Written::default();
        let mut outcomes = Vec::with_capacity(commits.len());
        for commit in commits {
            outcomes.push(
                apply_extraction_in::<B::Sql>(&mut tx, self.core(), &mut written, commit).await?,
            );
        }
        flush_written_in::<B::Sql>(&mut tx, &mut written).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// Applies one event's extraction inside an open transaction (see
/// [`Extraction::apply_extraction`]).
async fn apply_extraction_in<D: Dialect>(
    conn: &mut Conn<D>,
    core: &Core,
    written: &mut Written,
    commit: &ExtractionCommit,
) -> StoreResult<ExtractionOutcome> {
    let (keyring, lexical) = (&core.keyring, &core.lexical);
    let now = commit.now;
    let claimed = query::<D>(CLAIM_EVENT)
        .bind(now)
        .bind(commit.event_id)
        .fetch_optional(conn)
        .await?;
    let Some(claimed) = claimed else {
        return already_applied::<D>(conn, commit).await;
    };
    let received_at: UnixMillis = claimed.value("received_at")?;
    if commit_erased_in::<D>(conn, keyring, core.tombstone_days, commit, received_at).await? {
        return Ok(ExtractionOutcome {
            memory_ids: Vec::new(),
            already_applied: false,
            erased: true,
        });
    }
    if let Some(call) = &commit.call {
        record_call_in::<D>(conn, keyring, written, call, now).await?;
    }
    if let Some((phone, user_id)) = &commit.bind_caller {
        bind_caller_in::<D>(conn, keyring, written, phone, user_id, now).await?;
    }
    let at = Times {
        said: commit
            .call
            .as_ref()
            .map_or(now, |c| c.conversation.started_at),
        now,
    };
    let mut memory_ids =
        plan::apply_plans_in::<D>(conn, keyring, lexical, written, &commit.memories, at).await?;
    if let Some(call) = &commit.call
        && let Some(user_id) = commit.episodes_owner()
    {
        let episodes = CallEpisodes {
            user_id,
            conversation_id: &call.conversation.conversation_id,
            episodes: &commit.episodes,
        };
        let ids = write_episodes_in::<D>(conn, keyring, lexical, written, episodes, now).await?;
        memory_ids.extend(ids);
    }
    if let Some(user_id) = commit
        .call
        .as_ref()
        .and_then(|c| c.conversation.user_id.as_ref())
    {
        query::<D>(TOUCH_USER)
            .bind(now)
            .bind(user_id)
            .execute(conn)
            .await?;
    }
    query::<D>(SAVE_EVENT_RESULT)
        .bind(serde_json::json!(memory_ids).to_string())
        .bind(commit.event_id)
        .execute(conn)
        .await?;
    Ok(ExtractionOutcome {
        memory_ids,
        already_applied: false,
        erased: false,
    })
}

/// The outcome of an event this transaction could not claim: the first run's, when it
/// completed; an erased event (no row) or one in another state is an error.
async fn already_applied<D: Dialect>(
    conn: &mut Conn<D>,
    commit: &ExtractionCommit,
) -> StoreResult<ExtractionOutcome> {
    let row = query::<D>(SELECT_EVENT_RESULT)
        .bind(commit.event_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::Erased {
            what: format!("event {}", commit.event_id),
        })?;
    let status: String = row.value("status")?;
    if status != "completed" {
        return Err(StoreError::Conflict(format!(
            "event {} is {status}, not pending",
            commit.event_id
        )));
    }
    Ok(ExtractionOutcome {
        memory_ids: parse_result_ids(row.value("result_memory_ids")?)?,
        already_applied: true,
        erased: false,
    })
}
