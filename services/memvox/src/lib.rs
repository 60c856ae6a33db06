//! The composition of the `memvox` command, as a library for the binary, its tests and its
//! benchmarks: the full configuration ([`Config`], every section from the crate that owns it)
//! and every part in one process ([`Memvox`]).

mod config;
mod process;

pub use config::Config;
pub use process::Memvox;
