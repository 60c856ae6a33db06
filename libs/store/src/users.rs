//! Users and callers: who the store remembers, and the phone numbers bound to them (stored
//! sealed, found by blind index: see `callers`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use memvox_core::{CallerIdentity, UnixMillis, User, scope_of};

use crate::{
    StoreError, StoreResult, UserVersion,
    backend::Backend,
    callers::{binding_in, insert_binding_in, user_numbers_in},
    dialect::{Conn, Dialect, Record, expect_row, query},
    encryption::columns,
    search::user_versions,
    sql::{self, INSERT_CHUNK},
    written::Written,
};

/// `$3` is the user's scope (`memvox_core::scope_of` the id).
const INSERT_USER_IF_MISSING: &str = "INSERT INTO users (user_id, created_at, scope) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING";

/// A user, with the count of their active facts.
const SELECT_USER: &str = "SELECT u.user_id, u.display_name, u.summary, u.last_interaction, \
     u.created_at, (SELECT COUNT(*) FROM memories m WHERE m.user_id = u.user_id \
     AND m.kind = 'fact' AND m.state = 'active' AND m.superseded_by IS NULL) AS total_memories \
     FROM users u WHERE u.user_id = $1";

/// A user's row alone: [`SELECT_USER`] without the count of their memories.
const SELECT_PROFILE: &str = "SELECT u.user_id, u.display_name, u.summary, u.last_interaction, \
     u.created_at, CAST(0 AS BIGINT) AS total_memories FROM users u WHERE u.user_id = $1";

/// Sets a user's display name and/or summary (`NULL` keeps a field).
const UPDATE_USER_PROFILE: &str = "UPDATE users SET display_name = COALESCE($1, display_name), \
     summary = COALESCE($2, summary) WHERE user_id = $3";

/// Sets the summaries of the users in `v` (`$1, $2` user and summary, `$3, $4`…), skipping
/// users that no longer exist.
fn update_summaries(users: usize) -> String {
    format!(
        "WITH v(user_id, summary) AS (VALUES {}) UPDATE users SET summary = \
         (SELECT v.summary FROM v WHERE v.user_id = users.user_id) \
         WHERE user_id IN (SELECT user_id FROM v)",
        sql::values_rows(users, 2)
    )
}

/// Moves a user's last interaction forward (never back).
pub(crate) const TOUCH_USER: &str = "UPDATE users SET last_interaction = $1 WHERE user_id = $2 \
     AND (last_interaction IS NULL OR last_interaction < $1)";

/// Users and the phone numbers bound to them.
#[async_trait]
pub trait Users: Send + Sync {
    /// Returns the user, creating it if it does not exist.
    async fn ensure_user(&self, user_id: &str, now: UnixMillis) -> StoreResult<User>;

    /// Reads a user.
    async fn get_user(&self, user_id: &str) -> StoreResult<Option<User>>;

    /// Reads a user's name, summary and times without counting their memories
    /// (`total_memories` is 0): one primary-key read, what a caller's greeting needs.
    async fn get_profile(&self, user_id: &str) -> StoreResult<Option<User>>;

    /// What the user's memories stand at (one primary-key read), `None` for no such user
    /// (never created, or erased): what cached answers about them are keyed on.
    async fn user_version(&self, user_id: &str) -> StoreResult<Option<UserVersion>>;

    /// Sets the user's display name and/or summary (`None` leaves a field unchanged).
    async fn update_user_profile(
        &self,
        user_id: &str,
        display_name: Option<&str>,
        summary: Option<&str>,
    ) -> StoreResult<()>;

    /// Sets several users' summaries in one transaction (a worker's batch): a user named twice
    /// gets the last of its summaries; a user that no longer exists (erased meanwhile) is
    /// skipped. Returns how many users were updated.
    async fn write_user_summaries(&self, summaries: &[(String, String)]) -> StoreResult<u64>;

    /// Records an interaction time on the user (monotonic: an older time is ignored).
    async fn touch_user(&self, user_id: &str, at: UnixMillis) -> StoreResult<()>;

    /// Binds a phone number to a user. A number already bound keeps its user; the existing
    /// binding is returned.
    async fn bind_caller(
        &self,
        phone_number: &str,
        user_id: &str,
        now: UnixMillis,
    ) -> StoreResult<CallerIdentity>;

    /// The user a phone number is bound to (found by the number's blind index, so `+1 (415)
    /// 555-0199` finds `+14155550199`).
    async fn user_for_caller(&self, phone_number: &str) -> StoreResult<Option<String>>;

    /// The numbers (binding keys) bound to a user, decrypted, oldest first.
    async fn caller_numbers(&self, user_id: &str) -> StoreResult<Vec<String>>;
}

#[async_trait]
impl<B: Backend> Users for B {
    async fn ensure_user(&self, user_id: &str, now: UnixMillis) -> StoreResult<User> {
        if user_id.trim().is_empty() {
            return Err(StoreError::Invalid("user id is empty".into()));
        }
        query::<B::Sql>(INSERT_USER_IF_MISSING)
            .bind(user_id)
            .bind(now)
            .bind(scope_of(user_id))
            .execute(&mut *self.write().await?)
            .await?;
        expect_row(self.get_user(user_id).await?, || format!("user {user_id}"))
    }

    async fn get_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        read_user(self, SELECT_USER, user_id).await
    }

    async fn get_profile(&self, user_id: &str) -> StoreResult<Option<User>> {
        read_user(self, SELECT_PROFILE, user_id).await
    }

    async fn user_version(&self, user_id: &str) -> StoreResult<Option<UserVersion>> {
        Ok(user_versions(self, user_id).await?.map(|v| v.index))
    }

    async fn update_user_profile(
        &self,
        user_id: &str,
        display_name: Option<&str>,
        summary: Option<&str>,
    ) -> StoreResult<()> {
        let summary = summary
            .map(|s| {
                self.core()
                    .keyring
                    .encrypt(s, columns::USER_SUMMARY.at(user_id))
            })
            .transpose()?;
        query::<B::Sql>(UPDATE_USER_PROFILE)
            .bind(display_name)
            .bind(summary)
            .bind(user_id)
            .execute_expecting(&mut *self.write().await?, || format!("user {user_id}"))
            .await?;
        Ok(())
    }

    async fn write_user_summaries(&self, summaries: &[(String, String)]) -> StoreResult<u64> {
        let latest: BTreeMap<&str, &str> = summaries
            .iter()
            .map(|(user_id, summary)| (user_id.as_str(), summary.as_str()))
            .collect();
        let keyring = &self.core().keyring;
        let rows = latest
            .into_iter()
            .map(|(user_id, summary)| {
                let sealed = keyring.encrypt(summary, columns::USER_SUMMARY.at(user_id))?;
                Ok((user_id, sealed))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut updated = 0;
        for chunk in rows.chunks(INSERT_CHUNK) {
            updated += chunk
                .iter()
                .fold(
                    query::<B::Sql>(update_summaries(chunk.len())),
                    |q, (user_id, sealed)| q.bind(*user_id).bind(sealed),
                )
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    async fn touch_user(&self, user_id: &str, at: UnixMillis) -> StoreResult<()> {
        query::<B::Sql>(TOUCH_USER)
            .bind(at)
            .bind(user_id)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(())
    }

    async fn bind_caller(
        &self,
        phone_number: &str,
        user_id: &str,
        now: UnixMillis,
    ) -> StoreResult<CallerIdentity> {
        if phone_number.trim().is_empty() {
            return Err(StoreError::Invalid("phone number is empty".into()));
        }
        let keyring = &self.core().keyring;
        let mut tx = self.begin().await?;
        let mut written = Written::default();
        bind_caller_in::<B::Sql>(&mut tx, keyring, &mut written, phone_number, user_id, now)
            .await?;
        let binding = binding_in::<B::Sql>(&mut tx, keyring, phone_number).await?;
        tx.commit().await?;
        expect_row(binding, || "caller binding".to_owned())
    }

    async fn user_for_caller(&self, phone_number: &str) -> StoreResult<Option<String>> {
        let mut conn = self.read().await?;
        let binding = binding_in::<B::Sql>(&mut conn, &self.core().keyring, phone_number).await?;
        Ok(binding.map(|b| b.user_id))
    }

    async fn caller_numbers(&self, user_id: &str) -> StoreResult<Vec<String>> {
        let mut conn = self.read().await?;
        user_numbers_in::<B::Sql>(&mut conn, &self.core().keyring, user_id).await
    }
}

/// Creates the user if needed and binds the number to it, unless the number is bound already
/// (the first binding wins), inside an open transaction.
pub(crate) async fn bind_caller_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &memvox_crypto::Keyring,
    written: &mut Written,
    phone_number: &str,
    user_id: &str,
    now: UnixMillis,
) -> StoreResult<()> {
    ensure_user_in::<D>(conn, written, user_id, now).await?;
    insert_binding_in::<D>(conn, keyring, phone_number, user_id, now).await
}

/// Creates the user unless this transaction already made sure it exists.
pub(crate) async fn ensure_user_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
    user_id: &str,
    now: UnixMillis,
) -> StoreResult<()> {
    if written.user_is_new(user_id) {
        query::<D>(INSERT_USER_IF_MISSING)
            .bind(user_id)
            .bind(now)
            .bind(scope_of(user_id))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Reads a user with `statement` ([`SELECT_USER`] or [`SELECT_PROFILE`]).
async fn read_user<B: Backend>(
    store: &B,
    statement: &'static str,
    user_id: &str,
) -> StoreResult<Option<User>> {
    let row = query::<B::Sql>(statement)
        .bind(user_id)
        .fetch_optional(&mut *store.read().await?)
        .await?;
    let keyring = &store.core().keyring;
    row.map(|row| {
        let user_id: String = row.value("user_id")?;
        let summary: Option<String> = row.value("summary")?;
        let summary = summary
            .map(|s| keyring.decrypt(&s, columns::USER_SUMMARY.at(&user_id)))
            .transpose()?;
        Ok(User {
            user_id,
            display_name: row.value("display_name")?,
            summary,
            total_memories: row.value("total_memories")?,
            last_interaction: row.value("last_interaction")?,
            created_at: row.value("created_at")?,
        })
    })
    .transpose()
}
