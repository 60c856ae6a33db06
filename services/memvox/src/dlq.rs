//! `memvox dlq`: list, show, replay and purge dead-lettered messages of a stream.
//!
//! Replaying an `events` entry also reopens its raw-event row (the worker marked it
//! dead-lettered when it gave up), so the event is processed again from the source of truth.
//! An entry whose row is gone (its caller was erased) is purged instead, never replayed.
//! Dead letters live in the bus: with the Redis bus they are shared by every process; the
//! in-process bus keeps them inside the serving process, so this command needs
//! `bus.backend = "redis"` to reach them.

use anyhow::Context;
use clap::{Args, Subcommand};
use memvox::Config;
use memvox_bus::{BusBackend, DeadLetter, EVENTS, EntryId, Envelope, Message};
use memvox_runtime::App;
use memvox_store::{EmbeddingSpace, EventStatus};

/// Dead letters read per request when selecting all of them.
const PAGE: usize = 500;

/// Dead-letter operations.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters of a stream, oldest first.
    List {
        /// Stream: `events` or `memories`.
        #[arg(long, default_value = EVENTS)]
        stream: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one dead letter with its payload.
    Show {
        /// Stream: `events` or `memories`.
        #[arg(long, default_value = EVENTS)]
        stream: String,
        /// Dead-letter entry id.
        id: String,
    },
    /// Put dead letters back on their stream (one id, or `--all`).
    Replay(Selection),
    /// Delete dead letters for good (one id, or `--all`).
    Purge(Selection),
}

/// The dead letters a replay or purge acts on: one by id, or every one of the stream.
#[derive(Debug, Args)]
pub struct Selection {
    /// Stream: `events` or `memories`.
    #[arg(long, default_value = EVENTS)]
    stream: String,
    /// Dead-letter entry id.
    #[arg(required_unless_present = "all")]
    id: Option<String>,
    /// Every dead letter of the stream.
    #[arg(long)]
    all: bool,
}

/// Runs a dead-letter command and prints a summary of what was done.
pub async fn run(config: Config, command: DlqCommand) -> anyhow::Result<()> {
    if config.shared.bus.backend == BusBackend::InProcess {
        anyhow::bail!(
            "dead letters of the in-process bus live inside the serving process; set bus.backend = \"redis\" (MEMVOX_BUS__BACKEND=redis) to manage them from the command line"
        );
    }
    let app = App::build(config.shared, EmbeddingSpace::none()).await?;
    match command {
        DlqCommand::List { stream, limit } => {
            let letters = app.bus.list_dead_letters(&stream, None, limit).await?;
            for letter in &letters {
                println!("{}", line(letter));
            }
            println!("{} dead letter(s) on {stream}", letters.len());
        }
        DlqCommand::Show { stream, id } => {
            let letter = app
                .bus
                .get_dead_letter(&stream, &EntryId(id.clone()))
                .await?
                .with_context(|| format!("no dead letter {id} on {stream}"))?;
            println!("{}\npayload: {}", line(&letter), letter.payload);
        }
        DlqCommand::Replay(Selection { stream, id, all }) => {
            let letters = selected(&app, &stream, id, all).await?;
            let mut replayed = 0;
            for letter in &letters {
                if !reopen_event(&app, letter).await? {
                    app.bus.purge_dead_letter(&stream, &letter.id).await?;
                    println!("purged {}: its event was erased with its caller", letter.id);
                    continue;
                }
                let new_id = app.bus.replay_dead_letter(&stream, &letter.id).await?;
                println!("replayed {} as {new_id}", letter.id);
                replayed += 1;
            }
            println!("{replayed} dead letter(s) replayed onto {stream}");
        }
        DlqCommand::Purge(Selection { stream, id, all }) => {
            let purged = match (id, all) {
                (_, true) => app.bus.purge_dead_letters(&stream).await?,
                (Some(id), false) => {
                    u64::from(app.bus.purge_dead_letter(&stream, &EntryId(id)).await?)
                }
                (None, false) => 0,
            };
            println!("{purged} dead letter(s) purged from {stream}");
        }
    }
    Ok(())
}

async fn selected(
    app: &App,
    stream: &str,
    id: Option<String>,
    all: bool,
) -> anyhow::Result<Vec<DeadLetter>> {
    if all {
        let mut letters: Vec<DeadLetter> = Vec::new();
        loop {
            let after = letters.last().map(|l| l.id.clone());
            let page = app
                .bus
                .list_dead_letters(stream, after.as_ref(), PAGE)
                .await?;
            if page.is_empty() {
                return Ok(letters);
            }
            letters.extend(page);
        }
    }
    let id = id.context("give a dead-letter id or --all")?;
    let letter = app
        .bus
        .get_dead_letter(stream, &EntryId(id.clone()))
        .await?
        .with_context(|| format!("no dead letter {id} on {stream}"))?;
    Ok(vec![letter])
}

/// Reopens the raw-event row behind an `EventAccepted` dead letter, if the worker gave up on
/// it (a completed event is never reopened: that would extract it twice). `false` when the row
/// is gone: its caller was erased, and the letter must not be replayed.
async fn reopen_event(app: &App, letter: &DeadLetter) -> anyhow::Result<bool> {
    let Ok(envelope) = Envelope::decode(&letter.payload, 0) else {
        return Ok(true);
    };
    let Message::EventAccepted { event_id, .. } = envelope.message else {
        return Ok(true);
    };
    let Some(event) = app.store.get_event(event_id).await? else {
        return Ok(false);
    };
    if event.status == EventStatus::DeadLetter {
        app.store.reopen_event(event_id).await?;
    }
    Ok(true)
}

fn line(letter: &DeadLetter) -> String {
    format!(
        "{}  group={} attempts={} origin={} reason={}",
        letter.id, letter.group, letter.attempts, letter.origin_id, letter.reason
    )
}
