//! `memvox`: long-term memory for ElevenLabs voice agents. This binary is the whole product on
//! its embedded defaults (`memvox serve`) and the operator's tool (`memvox migrate`, …).

mod background;
mod backup;
mod cli;
mod dlq;
mod elevenlabs;
mod eval;
mod import;
mod keys;
mod migrate;
mod migrate_store;
mod models;
mod probe;
mod progress;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("memvox: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("memvox: {error:#}");
            ExitCode::FAILURE
        }
    }
}
