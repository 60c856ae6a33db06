//! `memvox migrate-store --from URL --to URL`: copies a whole store to another backend (or
//! another database of the same one) through `memvox_store::copy_store`, with its progress on
//! standard error, then opens the destination as `memvox serve` would to show that it opens
//! with the keys. The keys are the configuration's, read as for the source (for SQLite, the key
//! file beside it unless `encryption.key_file` or `encryption.keys` say otherwise): a copy holds
//! sealed values as the source does, so the destination needs the very same keys.

use std::ops::ControlFlow;

use anyhow::{Context, bail};
use memvox::Config;
use memvox_config::SharedConfig;
use memvox_store::{
    CopyError, CopyEvent, CopyObserver, CopyOptions, EmbeddingSpace, Phase, StoreSettings,
    copy_store,
};

use crate::{
    backup::keys::KeySource,
    progress::{Meter, Unit},
};

/// Where to copy from and to, and how.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The source's URL (`sqlite://PATH` or `postgres://…`).
    pub from: String,
    /// The source's PostgreSQL schema.
    pub from_schema: Option<String>,
    /// The destination's URL.
    pub to: String,
    /// The destination's PostgreSQL schema.
    pub to_schema: Option<String>,
}

/// Copies the store `endpoints.from` names into `endpoints.to`, verifies it, and reports.
pub async fn migrate_store(
    config: &Config,
    endpoints: &Endpoints,
    options: CopyOptions,
) -> anyhow::Result<()> {
    let from = shared_for(config, &endpoints.from, endpoints.from_schema.clone());
    let to = shared_for(config, &endpoints.to, endpoints.to_schema.clone());
    if let KeySource::File(path) = KeySource::of(&from)
        && !path.exists()
    {
        bail!(
            "no key file at {}: the source's keys must be where the configuration says \
             (encryption.key_file, or encryption.keys from a secret); a copy never makes keys",
            path.display()
        );
    }
    let keyring = memvox_runtime::open_keyring(&from)?;
    let started = std::time::Instant::now();
    let mut progress = Progress::default();
    let copied = copy_store(
        &from.store,
        &to.store,
        keyring.clone(),
        options,
        &mut progress,
    )
    .await;
    progress.finish();
    let report = copied.map_err(explain)?;
    let checks = report.verified.unwrap_or_default();
    let rows: u64 = checks.iter().map(|c| c.rows).sum();
    println!(
        "memvox migrate-store: {} → {}: {rows} rows in {} tables copied{} and verified (row \
         counts and SHA-256 per table) in {:.1} s",
        memvox_store::redact_url(&endpoints.from),
        memvox_store::redact_url(&endpoints.to),
        checks.len(),
        if report.resumed { " (resumed)" } else { "" },
        started.elapsed().as_secs_f64()
    );
    for check in &checks {
        println!(
            "  {:<22} {:>10} rows  sha256 {}",
            check.table, check.rows, check.sha256
        );
    }
    memvox_store::open_store(&to.store, EmbeddingSpace::none(), keyring)
        .await
        .context("the copy does not open with the configured keys")?;
    println!("{}", keys_notice(&from, &to));
    Ok(())
}

/// The configuration with its store at `url` (and `schema`).
fn shared_for(config: &Config, url: &str, schema: Option<String>) -> SharedConfig {
    let mut shared = config.shared.clone();
    shared.store = StoreSettings {
        url: url.to_owned(),
        schema,
        ..shared.store
    };
    shared
}

/// What the operator does about the keys: the destination opens only with the source's.
fn keys_notice(from: &SharedConfig, to: &SharedConfig) -> String {
    match (KeySource::of(from), KeySource::of(to)) {
        (KeySource::Off, _) => "encryption is off: the copy holds plaintext, as the source".into(),
        (KeySource::File(a), KeySource::File(b)) if a != b && !b.exists() => format!(
            "keys: the copy opened with the keys in {}; the destination looks for them in {} \
             when served: copy the key file there (mode 0600) or name it with \
             encryption.key_file",
            a.display(),
            b.display()
        ),
        (KeySource::File(a), _) => format!(
            "keys: the copy needs the keys in {} wherever it is served (for PostgreSQL, as \
             encryption.keys / active_key / index_key from a secret, or encryption.key_file)",
            a.display()
        ),
        (KeySource::Inline, _) => "keys: the copy needs the same encryption.keys, active_key \
             and index_key as the source"
            .into(),
    }
}

/// A copy error, with what to do about it.
fn explain(error: CopyError) -> anyhow::Error {
    let hint = match &error {
        CopyError::NotEmpty { .. } => {
            " — choose an empty destination, or pass --force to empty it and copy afresh"
        }
        CopyError::Mismatch { .. } => {
            " — was the source written during the copy? Stop the writers and copy afresh with \
             --force"
        }
        CopyError::Store(_) => " — run the same command again to resume after the last batch",
        _ => "",
    };
    anyhow::anyhow!("{error}{hint}")
}

/// The copy's progress on standard error: a meter per phase.
#[derive(Default)]
struct Progress {
    meter: Option<Meter>,
}

impl Progress {
    fn finish(&mut self) {
        if let Some(mut meter) = self.meter.take() {
            meter.finish();
        }
    }
}

impl CopyObserver for Progress {
    fn on(&mut self, event: CopyEvent<'_>) -> ControlFlow<()> {
        match event {
            CopyEvent::Started {
                phase,
                total,
                done,
                resumed,
            } => {
                self.finish();
                if resumed && phase == Phase::Copy {
                    eprintln!("  resuming an unfinished copy: {done} of {total} rows already in");
                }
                let label = match phase {
                    Phase::Copy => "copied",
                    Phase::Verify => "verified",
                };
                let mut meter = Meter::counting(label, Unit::Rows, total);
                meter.add(done);
                self.meter = Some(meter);
            }
            CopyEvent::Progress { rows, .. } => {
                if let Some(meter) = &mut self.meter {
                    meter.add(rows);
                }
            }
        }
        ControlFlow::Continue(())
    }
}
