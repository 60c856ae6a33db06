//! Command-line surface: the commands, their help, and dispatch.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use memvox_config::Config;

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
}

/// Loads the configuration and runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    memvox_telemetry::init_logging(&config.log).context("logging")?;
    match cli.command {
        Command::Serve => crate::serve::serve(config).await,
        Command::Migrate => crate::migrate::migrate(&config).await,
    }
}
