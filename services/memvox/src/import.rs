//! `memvox elevenlabs import`: past calls from the ElevenLabs conversations API into the
//! configured store, as if their post-call webhooks had been delivered (see
//! `memvox_gateway::import`), with the conversations counted on standard error as they go and
//! the tally printed at the end.
//!
//! The events go through the gateway's ingest of this process: with the Redis bus the running
//! workers take them at once; with the in-process bus they are published inside this process
//! only, and the `memvox serve` sharing the store picks them up at its next outbox pass
//! (`workers.outbox_grace_ms`).

use anyhow::Context;
use memvox::Config;
use memvox_bus::BusBackend;
use memvox_gateway::GatewayState;
use memvox_gateway::import::{ImportMetrics, Importer, RunOptions, Window};
use memvox_runtime::App;
use memvox_store::EmbeddingSpace;
use time::{Date, Month, Time};

use crate::progress::{Meter, Unit};

/// What was asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ImportArgs {
    /// `--agent-id`, repeatable.
    pub agent_ids: Vec<String>,
    /// `--since`.
    pub since: Option<String>,
    /// `--until`.
    pub until: Option<String>,
    /// `--restart`.
    pub restart: bool,
}

/// Runs the import and prints its tally.
pub async fn import(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    let window = Window {
        after: args.since.as_deref().map(parse_when).transpose()?,
        before: args.until.as_deref().map(parse_when).transpose()?,
    };
    if let (Some(after), Some(before)) = (window.after, window.before)
        && after >= before
    {
        anyhow::bail!("--since ({after}) must be before --until ({before})");
    }
    let options = RunOptions {
        agent_ids: args.agent_ids,
        window,
        restart: args.restart,
    };
    let app = App::build(config.shared.clone(), EmbeddingSpace::none()).await?;
    let state = GatewayState::from_app(&app, config.gateway.clone())?;
    let metrics = ImportMetrics::register(app.metrics.registry())?;
    let importer = Importer::new(state, &config.elevenlabs, metrics)?;
    let mut meter = Meter::counting("imported or checked", Unit::Conversations, 0);
    let result = importer
        .run(&options, &mut |report| {
            meter.add(report.seen.saturating_sub(meter.done()));
        })
        .await;
    meter.finish();
    importer.state().unfinished().finish().await;
    let report = result.context("import stopped (run the same command again to resume)")?;
    println!("{report}");
    if config.shared.bus.backend == BusBackend::InProcess && report.seen > 0 {
        eprintln!(
            "memvox: with the in-process bus, the memvox serve of this store processes the \
             imported calls at its next outbox pass (workers.outbox_grace_ms)"
        );
    }
    Ok(())
}

/// A point in time for `--since` / `--until`: unix seconds, a UTC date (`2026-01-31`, its
/// midnight) or a UTC date and time (`2026-01-31T08:30:00Z`).
///
/// # Errors
/// A sentence showing the accepted forms.
pub fn parse_when(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .with_context(|| format!("`{text}` is too large"));
    }
    let invalid = || {
        anyhow::anyhow!(
            "`{text}` is not a time: give unix seconds, a UTC date (2026-01-31) or a UTC date \
             and time (2026-01-31T08:30:00Z)"
        )
    };
    let (date, clock) = match text.split_once('T') {
        Some((date, clock)) => (date, Some(clock.strip_suffix('Z').ok_or_else(invalid)?)),
        None => (text, None),
    };
    // Three numbers separated by `-` (a date) or `:` (a time).
    let three = |part: &str| -> Option<[u32; 3]> {
        let fields: Vec<u32> = part
            .split(['-', ':'])
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        fields.try_into().ok()
    };
    let [year, month, day] = three(date).ok_or_else(invalid)?;
    let [hour, minute, second] = clock.map_or(Some([0, 0, 0]), three).ok_or_else(invalid)?;
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let date = i32::try_from(year)
        .ok()
        .zip(month)
        .and_then(|(y, m)| Date::from_calendar_date(y, m, u8::try_from(day).ok()?).ok())
        .ok_or_else(invalid)?;
    let hms = |v: u32| u8::try_from(v).ok();
    let time = hms(hour)
        .zip(hms(minute))
        .zip(hms(second))
        .and_then(|((h, m), s)| Time::from_hms(h, m, s).ok())
        .ok_or_else(invalid)?;
    u64::try_from(date.with_time(time).assume_utc().unix_timestamp()).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::parse_when;

    #[test]
    fn times_are_unix_seconds_dates_or_utc_date_times() {
        assert_eq!(parse_when("1767225600").unwrap(), 1_767_225_600);
        assert_eq!(parse_when("2026-01-01").unwrap(), 1_767_225_600);
        assert_eq!(parse_when("2026-01-01T00:00:45Z").unwrap(), 1_767_225_645);
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "2026-01-01T00:00:00",
            "",
        ] {
            let error = parse_when(bad).unwrap_err().to_string();
            assert!(error.contains("UTC date"), "{bad}: {error}");
        }
    }
}
