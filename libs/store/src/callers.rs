//! Caller numbers, sealed. A number binding (`caller_identities`) stores its binding key (the
//! number, or `<scope>:<number>`) encrypted in `phone_number` (owner: the bound user; rotation
//! re-encrypts it like every sealed column) and is found, and kept bound once, by its blind
//! index `number_index` (the primary key): [`Keyring::number_index`] of the normalised key
//! ([`normalized_number_key`]). The index key never changes, so neither does an index.
//!
//! Rows written before numbers were sealed (migration 0009 gives them the provisional index
//! `unsealed:<number>`), or indexed while encryption was off and opened with it on, are
//! completed when the store opens, before it serves ([`ensure_sealed_numbers`]): each row gets
//! its index and, with encryption on, is sealed, a batch per transaction, compare-and-swapped
//! on the value read. Two rows of one number (written in two forms, `+1 415 555 0199` and
//! `+14155550199`, which the index now treats as one) keep the earlier binding: the first
//! binding wins, as it always did. `store_meta.number_index_check`
//! records the index the rows were completed under, so an open afterwards costs one read;
//! completing again is harmless, so an interrupted open simply carries on next time.

use memvox_core::{CallerIdentity, UnixMillis, normalized_number_key};
use memvox_crypto::Keyring;

use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    meta::{SELECT_META, UPSERT_META},
};

/// Binds a number to a user unless it is bound already (the first binding wins).
const INSERT_CALLER: &str = "INSERT INTO caller_identities \
     (number_index, phone_number, user_id, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (number_index) DO NOTHING";

/// A number's binding, by its index.
const SELECT_CALLER: &str =
    "SELECT phone_number, user_id, created_at FROM caller_identities WHERE number_index = $1";

/// A user's bindings (sealed keys).
const SELECT_USER_NUMBERS: &str = "SELECT phone_number FROM caller_identities \
     WHERE user_id = $1 ORDER BY created_at, number_index";

/// A page of bindings in index order after `$1`, `$2` rows: `k` (index), `owner` (user),
/// `v` (stored key) and `created_at`.
pub(crate) const SELECT_CALLER_PAGE: &str = "SELECT number_index AS k, user_id AS owner, \
     phone_number AS v, created_at FROM caller_identities WHERE number_index > $1 \
     ORDER BY number_index LIMIT $2";

/// Completes a binding: `$1` index, `$2` stored key, `$3` the index read, `$4` the value read.
const COMPLETE_CALLER: &str = "UPDATE caller_identities SET number_index = $1, \
     phone_number = $2 WHERE number_index = $3 AND phone_number = $4";

/// When the binding holding an index was made, if one does.
const CALLER_CREATED: &str = "SELECT created_at FROM caller_identities WHERE number_index = $1";

/// Drops one of two bindings of the same number (the later).
const DELETE_CALLER: &str = "DELETE FROM caller_identities WHERE number_index = $1";

/// `store_meta` key of the index the bindings were completed under.
const INDEX_CHECK_META: &str = "number_index_check";

/// Bindings completed per transaction on open.
const COMPLETE_BATCH: usize = 500;

/// The blind index of a binding key.
pub(crate) fn number_index(keyring: &Keyring, key: &str) -> String {
    keyring.number_index(&normalized_number_key(key))
}

/// A binding's stored columns as the store writes them, `(number_index, phone_number)`.
pub(crate) fn sealed_caller(
    keyring: &Keyring,
    key: &str,
    user_id: &str,
) -> StoreResult<(String, String)> {
    let key = key.trim();
    Ok((
        number_index(keyring, key),
        keyring.encrypt(key, columns::CALLER_NUMBER.at(user_id))?,
    ))
}

/// Binds `key` to `user_id` unless it is bound already, in an open transaction (the user must
/// exist).
pub(crate) async fn insert_binding_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    key: &str,
    user_id: &str,
    now: UnixMillis,
) -> StoreResult<()> {
    let (index, sealed) = sealed_caller(keyring, key, user_id)?;
    query::<D>(INSERT_CALLER)
        .bind(index)
        .bind(sealed)
        .bind(user_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The binding of `key`, its number decrypted.
pub(crate) async fn binding_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    key: &str,
) -> StoreResult<Option<CallerIdentity>> {
    let row = query::<D>(SELECT_CALLER)
        .bind(number_index(keyring, key))
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        let user_id: String = row.value("user_id")?;
        let stored: String = row.value("phone_number")?;
        Ok(CallerIdentity {
            phone_number: keyring.decrypt(&stored, columns::CALLER_NUMBER.at(&user_id))?,
            user_id,
            created_at: row.value("created_at")?,
        })
    })
    .transpose()
}

/// The binding keys of `user_id`, decrypted, oldest first.
pub(crate) async fn user_numbers_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    user_id: &str,
) -> StoreResult<Vec<String>> {
    let rows = query::<D>(SELECT_USER_NUMBERS)
        .bind(user_id)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            let stored: String = row.value("phone_number")?;
            Ok(keyring.decrypt(&stored, columns::CALLER_NUMBER.at(user_id))?)
        })
        .collect()
}

/// Gives every binding its blind index under the store's keys and seals its number (see the
/// module doc), unless `store_meta` records that this was done under the same index.
pub(crate) async fn ensure_sealed_numbers<B: Backend>(store: &B) -> StoreResult<()> {
    let keyring = &store.core().keyring;
    let check = keyring.number_index("memvox number index check, normalisation v1");
    let recorded: Option<String> = query::<B::Sql>(SELECT_META)
        .bind(INDEX_CHECK_META)
        .fetch_optional(&mut *store.read().await?)
        .await?
        .map(|r| r.value("value"))
        .transpose()?;
    if recorded.as_deref() == Some(check.as_str()) {
        return Ok(());
    }
    let (mut after, mut done) = (String::new(), Completed::default());
    loop {
        let mut tx = store.begin().await?;
        let rows = query::<B::Sql>(SELECT_CALLER_PAGE)
            .bind(after.clone())
            .bind(i64::try_from(COMPLETE_BATCH).unwrap_or(i64::MAX))
            .fetch_all(&mut tx)
            .await?;
        for row in &rows {
            let binding = Binding {
                index: row.value("k")?,
                owner: row.value("owner")?,
                stored: row.value("v")?,
                created_at: row.value("created_at")?,
            };
            complete_binding_in::<B::Sql>(&mut tx, keyring, &binding, &mut done).await?;
        }
        if rows.len() < COMPLETE_BATCH {
            query::<B::Sql>(UPSERT_META)
                .bind(INDEX_CHECK_META)
                .bind(&check)
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
            break;
        }
        tx.commit().await?;
        if let Some(last) = rows.last() {
            after = last.value("k")?;
        }
        tracing::info!(done.sealed, done.dropped, "sealing caller numbers");
    }
    if done.sealed + done.dropped > 0 {
        tracing::info!(
            done.sealed,
            done.dropped,
            "caller numbers sealed and indexed under the store's keys"
        );
    }
    Ok(())
}

/// A binding row as stored.
struct Binding {
    index: String,
    owner: String,
    stored: String,
    created_at: UnixMillis,
}

/// What completing bindings did.
#[derive(Debug, Default)]
struct Completed {
    /// Bindings given their index and sealed.
    sealed: u64,
    /// Later bindings of a number bound twice, dropped.
    dropped: u64,
}

/// Gives one binding its index and seals it, unless it has them; of two bindings of the same
/// number the later is dropped.
async fn complete_binding_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    binding: &Binding,
    done: &mut Completed,
) -> StoreResult<()> {
    let context = columns::CALLER_NUMBER.at(&binding.owner);
    let key = keyring.decrypt(&binding.stored, context)?;
    let want = number_index(keyring, &key);
    let plaintext = keyring.is_enabled() && memvox_crypto::key_id_of(&binding.stored).is_none();
    if want == binding.index && !plaintext {
        return Ok(());
    }
    if want != binding.index {
        let holder: Option<UnixMillis> = query::<D>(CALLER_CREATED)
            .bind(want.clone())
            .fetch_optional(conn)
            .await?
            .map(|r| r.value("created_at"))
            .transpose()?;
        if let Some(held_since) = holder {
            let holder_first = held_since <= binding.created_at;
            let later = if holder_first { &binding.index } else { &want };
            query::<D>(DELETE_CALLER)
                .bind(later.clone())
                .execute(conn)
                .await?;
            done.dropped += 1;
            if holder_first {
                return Ok(());
            }
        }
    }
    done.sealed += query::<D>(COMPLETE_CALLER)
        .bind(want)
        .bind(keyring.encrypt(key.trim(), context)?)
        .bind(binding.index.clone())
        .bind(binding.stored.clone())
        .execute(conn)
        .await?;
    Ok(())
}
