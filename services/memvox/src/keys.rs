//! `memvox keys`: how stored values are encrypted, key rotation, and new keys for secrets.
//!
//! Rotation makes a key active (a new one written into the key file, or `--to` one the
//! operator already put in the key file or secret), then re-encrypts every value under an older
//! key, and legacy plaintext, column by column in batches, each batch its own transaction with
//! compare-and-swap on the value read. Interrupting it loses nothing; running it again resumes.

use std::collections::BTreeMap;

use anyhow::Context;
use clap::Subcommand;
use memvox::Config;
use memvox_crypto::{Key, Keyring, key_file, new_key_id};
use memvox_runtime::App;
use memvox_store::{ColumnStatus, EmbeddingSpace, Store, encrypted_columns};

/// Key operations.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Count stored values per key id and plaintext, per encrypted column: an old key can be
    /// retired when no value uses it any more.
    Status,
    /// Make a key active and re-encrypt every value under an older key (and legacy plaintext).
    /// Without --to, a new key is generated into the key file. Safe to interrupt and rerun, and
    /// to run while services serve.
    Rotate {
        /// Activate this key id, already added to the key file or secret, instead of generating
        /// one (needed when keys come from the environment).
        #[arg(long, value_name = "KEY_ID")]
        to: Option<String>,
        /// Values re-encrypted per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Print a new data key and index key for a secret (MEMVOX_ENCRYPTION__KEYS entry,
    /// MEMVOX_ENCRYPTION__INDEX_KEY).
    Generate,
}

/// Runs a key command and prints what was done.
pub async fn run(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => {
            let id = new_key_id();
            println!(
                "MEMVOX_ENCRYPTION__KEYS={id}:{}",
                Key::generate().to_base64()
            );
            println!("MEMVOX_ENCRYPTION__ACTIVE_KEY={id}");
            println!(
                "MEMVOX_ENCRYPTION__INDEX_KEY={}  # only for a new deployment: the index key never changes",
                Key::generate().to_base64()
            );
            Ok(())
        }
        KeysCommand::Status => {
            let app = App::build(config.shared, EmbeddingSpace::none()).await?;
            print_status(&app.store.encryption_status().await?);
            Ok(())
        }
        KeysCommand::Rotate { to, batch } => {
            let keyring = memvox_runtime::open_keyring(&config.shared)?;
            if !keyring.is_enabled() {
                anyhow::bail!(
                    "encryption is off (encryption.enabled = false): there is no key to rotate to"
                );
            }
            let keyring = activate(keyring, to.as_deref())?;
            let active = keyring.active_key_id().unwrap_or_default();
            let app =
                App::build_with_keyring(config.shared, EmbeddingSpace::none(), keyring).await?;
            rotate(&*app.store, &active, batch).await
        }
    }
}

/// Makes the target key active: in the key file when the keys come from one, else only for
/// this run (the operator sets `encryption.active_key` in the secret).
fn activate(keyring: Keyring, to: Option<&str>) -> anyhow::Result<Keyring> {
    let Some(path) = keyring.key_file().map(std::path::Path::to_path_buf) else {
        let id = to.context(
            "the keys come from the configuration (encryption.keys): add a new key there, then run `memvox keys rotate --to <its id>`",
        )?;
        println!(
            "key {id} is active for this rotation; set encryption.active_key = {id} (MEMVOX_ENCRYPTION__ACTIVE_KEY) for every service"
        );
        return Ok(keyring.with_active(id)?);
    };
    let mut keys = key_file::load(&path)?;
    let id = match to {
        Some(id) => {
            keys.set_active(id)?;
            id.to_owned()
        }
        None => {
            let id = new_key_id();
            keys.add_active(&id, Key::generate())?;
            id
        }
    };
    key_file::save(&path, &keys, false)?;
    keyring.reload()?;
    println!("key {id} is now active in {}", path.display());
    Ok(keyring)
}

/// Re-encrypts every column under the active key, then retires older keys if nothing needs them.
async fn rotate(store: &dyn Store, active: &str, batch: usize) -> anyhow::Result<()> {
    for column in encrypted_columns() {
        let (mut rewritten, mut raced, mut after) = (0u64, 0u64, None);
        loop {
            let done = store.reencrypt_batch(column, after.as_ref(), batch).await?;
            rewritten += done.rewritten;
            raced += done.raced;
            tracing::info!(column, rewritten, raced, "re-encrypting");
            match done.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        println!("{column}: {rewritten} value(s) re-encrypted under {active}");
        if raced > 0 {
            println!(
                "{column}: {raced} value(s) changed by a concurrent write and were left as written"
            );
        }
    }
    let status = store.encryption_status().await?;
    let left: u64 = status
        .iter()
        .flat_map(|c| c.by_key.iter())
        .filter(|(key, _)| key.as_deref() != Some(active))
        .map(|(_, count)| count)
        .sum();
    print_status(&status);
    if left == 0 {
        store.retire_inactive_keys().await?;
        println!(
            "rotation complete: every value is under {active}; older keys can be removed from the key source once every service runs with {active} active"
        );
    } else {
        println!(
            "{left} value(s) are not under {active} (written meanwhile by services still on an older key): once they all use {active}, run `memvox keys rotate --to {active}` again"
        );
    }
    Ok(())
}

/// Prints one line per column and key, then totals per key.
fn print_status(status: &[ColumnStatus]) {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for column in status {
        for (key, count) in &column.by_key {
            let key = key.clone().unwrap_or_else(|| "plaintext".to_owned());
            println!("{}  {key}  {count}", column.column);
            *totals.entry(key).or_insert(0) += count;
        }
    }
    for (key, count) in &totals {
        println!("total  {key}  {count}");
    }
    if totals.is_empty() {
        println!("no encrypted columns hold values yet");
    }
}
