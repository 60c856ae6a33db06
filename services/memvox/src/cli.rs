//! Command-line surface: the commands, their help, and dispatch.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use memvox::Config;

/// memvox — long-term memory for ElevenLabs voice agents.
///
/// Configuration comes from built-in defaults (an embedded SQLite file under ./data, the
/// bundled embedding model, no API key), then an optional TOML file (`--config` or
/// MEMVOX_CONFIG), then MEMVOX_* environment variables with `__` for nesting, e.g.
/// MEMVOX_STORE__URL=postgres://memvox:secret@db/memvox.
#[derive(Debug, Parser)]
#[command(name = "memvox", version, about, long_about)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run memvox in one process on the configured backends: HTTP API with /health/live,
    /// /health/ready and /metrics. Stops gracefully on Ctrl-C or SIGTERM.
    Serve,
    /// Apply pending database migrations to the configured store (SQLite or PostgreSQL) and
    /// report how many were applied. Safe to run repeatedly.
    Migrate,
    /// Copy a whole store to another backend (SQLite ↔ PostgreSQL) or database: every table
    /// with its ids, in batches with progress on stderr, resumable (run it again after an
    /// interruption), then verified (row counts and a SHA-256 per table). The destination is
    /// migrated first and must be empty unless --force. The source is only read; stop its
    /// writers first. Keys: the configuration's, read as for the source; the copy needs the same.
    MigrateStore {
        /// Source store URL, e.g. sqlite://data/memvox.db.
        #[arg(long, value_name = "URL")]
        from: String,
        /// PostgreSQL schema of the source.
        #[arg(long, value_name = "NAME")]
        from_schema: Option<String>,
        /// Destination store URL, e.g. postgres://memvox:secret@db/memvox.
        #[arg(long, value_name = "URL")]
        to: String,
        /// PostgreSQL schema of the destination (created if missing).
        #[arg(long, value_name = "NAME")]
        to_schema: Option<String>,
        /// Rows per batch (one destination transaction each).
        #[arg(long, default_value_t = 1000, value_name = "N")]
        batch_rows: usize,
        /// Empty a destination that holds rows (or an unfinished copy) and copy afresh.
        #[arg(long)]
        force: bool,
    },
    /// Back up the embedded (SQLite) store to one archive file while it serves: a consistent
    /// snapshot, compressed, with a manifest and a SHA-256 checksum. The encryption keys are
    /// never written to the archive or beside it: the command says where they are, to be
    /// kept apart. PostgreSQL: pg_dump / PITR (see README "Backup and restore").
    Backup {
        /// Archive to write, e.g. backups/memvox-2026-01-31.mvxbak.
        dest: PathBuf,
        /// Replace DEST if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a `memvox backup` archive into the configured SQLite database (or --to PATH):
    /// verifies the manifest and checksum, checks that the database opens with the configured
    /// keys, then replaces the target in one rename. Stop memvox serve first.
    Restore {
        /// Archive written by `memvox backup`.
        src: PathBuf,
        /// Database file to restore into instead of the configured one (its keys are looked
        /// for beside it, as PATH.keys.json, unless encryption.key_file or encryption.keys
        /// name them).
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Manage dead-lettered messages: list, show, replay onto their stream, purge.
    Dlq {
        /// What to do.
        #[command(subcommand)]
        command: crate::dlq::DlqCommand,
    },
    /// Exit 0 if URL answers 2xx (http://…) or accepts a connection (tcp://…); for container
    /// health checks.
    Healthcheck {
        /// Target, e.g. http://127.0.0.1:8080/health/ready.
        url: String,
    },
    /// Wait until every target answers (http://… 2xx, tcp://… connects), then exit 0.
    WaitFor {
        /// Targets, e.g. tcp://postgres:5432 http://query:8080/health/ready.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
    /// Encryption keys: status (values per key id), rotate (re-encrypt under a new key),
    /// generate (keys for a secret).
    Keys {
        /// What to do.
        #[command(subcommand)]
        command: crate::keys::KeysCommand,
    },
    /// Local embedding models: list, check, fetch.
    Models {
        /// What to do.
        #[command(subcommand)]
        command: crate::models::ModelsCommand,
    },
    /// Evaluation through the real path (signed webhooks in, the memory-query tool out):
    /// `recall` replays the conversational probe and scores evidence recall.
    Eval {
        /// What to measure.
        #[command(subcommand)]
        command: crate::eval::EvalCommand,
    },
    /// ElevenLabs integration: the API requests that connect an agent, and the import of past
    /// calls.
    Elevenlabs {
        /// What to do.
        #[command(subcommand)]
        command: ElevenlabsCommand,
    },
}

/// ElevenLabs helpers.
#[derive(Debug, Subcommand)]
pub enum ElevenlabsCommand {
    /// Print the ElevenLabs API requests (method, path, exact JSON body) that connect an agent
    /// to this deployment: the HMAC post-call webhook, the memory_query tool, the agent's
    /// webhooks and overrides, and with the custom-LLM proxy on, the agent's Custom LLM.
    Config {
        /// Public base URL of this memvox deployment.
        #[arg(long, default_value = "https://memvox.example.com")]
        base_url: String,
        /// ElevenLabs workspace secret holding `Bearer <tool token>` for the tool's
        /// Authorization header.
        #[arg(long, default_value = "MEMVOX_TOOL_TOKEN_SECRET_ID")]
        secret_id: String,
        /// ElevenLabs workspace secret holding the conversation-init header's value.
        #[arg(long, default_value = "MEMVOX_INIT_SECRET_ID")]
        init_secret_id: String,
        /// The agent to configure.
        #[arg(long, default_value = "YOUR_AGENT_ID")]
        agent_id: String,
        /// `webhook_id` returned when the post-call webhook was created.
        #[arg(long, default_value = "POST_CALL_WEBHOOK_ID")]
        post_call_webhook_id: String,
        /// ElevenLabs workspace secret holding an LLM token (the Custom LLM API key), for the
        /// request that makes memvox's custom-LLM proxy the agent's LLM (printed when
        /// `query.llm_proxy.enabled` is on).
        #[arg(long, default_value = "MEMVOX_LLM_TOKEN_SECRET_ID")]
        llm_secret_id: String,
    },
    /// Import past calls from the ElevenLabs conversations API into the configured store, as
    /// if their post-call webhooks had been delivered: a call imported and later delivered by
    /// webhook (or the other way round) is one call. Only finished, analysed (`done`) calls are
    /// imported; running ones are kept pending and imported by a later run or the poll. Where
    /// the run stands is saved after every page: run the same command again to resume it. The
    /// API key: elevenlabs.api_key (MEMVOX_ELEVENLABS__API_KEY) or ELEVENLABS_API_KEY.
    Import {
        /// Only this agent's calls (repeat for several); default: every agent of the key's
        /// workspace.
        #[arg(long = "agent-id", value_name = "ID")]
        agent_ids: Vec<String>,
        /// Calls started after this time: unix seconds, a UTC date (2026-01-31) or date and
        /// time (2026-01-31T08:30:00Z); default: where the last finished import ended, else
        /// the first call.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Calls started before this time (same forms); default: now.
        #[arg(long, value_name = "WHEN")]
        until: Option<String>,
        /// Drop an unfinished import of these agents and start afresh.
        #[arg(long)]
        restart: bool,
    },
}

/// Runs the command; commands that need the configuration load it (and start logging) first.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Healthcheck { url } => crate::probe::probe(&url).await,
        Command::WaitFor {
            targets,
            timeout_secs,
        } => crate::probe::wait_for(&targets, std::time::Duration::from_secs(timeout_secs)).await,
        Command::Elevenlabs {
            command:
                ElevenlabsCommand::Config {
                    base_url,
                    secret_id,
                    init_secret_id,
                    agent_id,
                    post_call_webhook_id,
                    llm_secret_id,
                },
        } => {
            let args = crate::elevenlabs::ConfigArgs {
                base_url,
                secret_id,
                init_secret_id,
                agent_id,
                post_call_webhook_id,
                llm_secret_id,
            };
            crate::elevenlabs::print_config(&load_quiet(file)?, &args)
        }
        Command::Elevenlabs {
            command:
                ElevenlabsCommand::Import {
                    agent_ids,
                    since,
                    until,
                    restart,
                },
        } => {
            let args = crate::import::ImportArgs {
                agent_ids,
                since,
                until,
                restart,
            };
            Box::pin(crate::import::import(load_quiet(file)?, args)).await
        }
        Command::Serve => {
            let config = Config::load(file)?;
            // Held while serving: dropping it flushes the spans still buffered.
            let _traces = memvox_telemetry::init_logging(&config.shared.log).context("logging")?;
            crate::serve::serve(config).await
        }
        Command::Migrate => crate::migrate::migrate(&load(file)?).await,
        Command::MigrateStore {
            from,
            from_schema,
            to,
            to_schema,
            batch_rows,
            force,
        } => {
            let endpoints = crate::migrate_store::Endpoints {
                from,
                from_schema,
                to,
                to_schema,
            };
            let options = memvox_store::CopyOptions { batch_rows, force };
            crate::migrate_store::migrate_store(&load_quiet(file)?, &endpoints, options).await
        }
        Command::Backup { dest, force } => crate::backup::backup(&load(file)?, &dest, force).await,
        Command::Restore { src, to, force } => {
            crate::backup::restore(&load(file)?, &src, to.as_deref(), force).await
        }
        Command::Dlq { command } => Box::pin(crate::dlq::run(load(file)?, command)).await,
        Command::Keys { command } => Box::pin(crate::keys::run(load(file)?, command)).await,
        Command::Models { command } => crate::models::run(&load(file)?, command).await,
        Command::Eval { command } => crate::eval::run(load_quiet(file)?, command).await,
    }
}

/// [`load`], logging only warnings unless `MEMVOX_LOG__FILTER` says otherwise: the
/// evaluation's progress goes to stderr and its report to stdout.
fn load_quiet(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let mut config = Config::load(file)?;
    if std::env::var_os("MEMVOX_LOG__FILTER").is_none() {
        config.shared.log.filter = "warn".to_owned();
    }
    drop(memvox_telemetry::init_logging(&config.shared.log).context("logging")?);
    Ok(config)
}

/// Loads and validates the configuration, then starts logging as it says. One-shot commands
/// export no traces (the guard is dropped at once); `memvox serve` does.
fn load(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let config = Config::load(file)?;
    drop(memvox_telemetry::init_logging(&config.shared.log).context("logging")?);
    Ok(config)
}
