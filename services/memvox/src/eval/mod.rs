//! `memvox eval`: measuring memvox through its real path.
//!
//! `memvox eval recall` replays the conversational probe (`probes/conversations`) as
//! ElevenLabs would deliver it — conversation-init for the caller's number at call start, a
//! signed `post_call_transcription` webhook after it — into a memvox started in process (as
//! `memvox serve` runs) or a running one (`--url`), waits until the pipeline has processed
//! everything, asks every question through the memory-query tool and reports evidence recall
//! @1/5/10 by category, answer sizes and latency; then the fact probes (`probes/retrieval`,
//! `probes/lexical`) through the REST API and the tool.
//!
//! Modules: [`corpus`] reads the probe files, [`target`] starts or names the server,
//! [`client`] speaks HTTP, [`replay`] builds the webhooks (and holds the identity rule),
//! [`drain`] waits for the pipeline, [`ask`] asks and scores, [`score`] holds the hit rules,
//! [`report`] prints.

pub mod ask;
pub mod client;
pub mod corpus;
pub mod drain;
pub mod replay;
pub mod report;
pub mod score;
pub mod target;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use memvox::Config;

use self::client::{Client, Endpoint};
use self::corpus::{Conversations, FactProbe};
use self::target::Target;

/// Evaluation commands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Recall through the real path: replay the conversational probe as signed ElevenLabs
    /// webhooks, ask its questions through the memory-query tool, score evidence recall
    /// @1/5/10 by category; then the paraphrase and lexical fact probes.
    Recall(RecallArgs),
}

/// Options of `memvox eval recall`.
#[derive(Debug, Args)]
pub struct RecallArgs {
    /// Directory holding the probes (`conversations/`, `retrieval/`, `lexical/`).
    #[arg(long, value_name = "DIR", default_value = "probes")]
    pub probes: PathBuf,
    /// Evaluate the memvox running at this URL instead of starting one in process (it must
    /// hold no data of the probe's callers).
    #[arg(
        long,
        requires_all = ["webhook_secret", "token", "admin_token", "init_secret", "integrator_secret"]
    )]
    pub url: Option<String>,
    /// With --url: the ElevenLabs webhook signing secret it accepts.
    #[arg(long, env = "MEMVOX_EVAL_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// With --url: a tool token it accepts.
    #[arg(long, env = "MEMVOX_EVAL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// With --url: an admin token it accepts (for `/v1`).
    #[arg(long, env = "MEMVOX_EVAL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// With --url: one of its `identity.integrator_secrets` (the fact probes sign their users'
    /// ids with it).
    #[arg(long, env = "MEMVOX_EVAL_INTEGRATOR_SECRET", hide_env_values = true)]
    pub integrator_secret: Option<String>,
    /// With --url: its conversation-init secret.
    #[arg(long, env = "MEMVOX_EVAL_INIT_SECRET", hide_env_values = true)]
    pub init_secret: Option<String>,
    /// With --url: the header carrying the conversation-init secret.
    #[arg(long, default_value = "x-memvox-secret")]
    pub init_secret_header: String,
    /// Replay and ask only the first N callers of the conversational probe.
    #[arg(long, value_name = "N")]
    pub callers: Option<usize>,
    /// Skip the paraphrase and lexical fact probes.
    #[arg(long)]
    pub skip_facts: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write each missed question, its evidence and what was answered instead to this
    /// file (JSON lines), for studying misses.
    #[arg(long, value_name = "FILE")]
    pub misses: Option<PathBuf>,
    /// Give up waiting for the pipeline after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
}

/// Runs an evaluation command.
pub async fn run(config: Config, command: EvalCommand) -> anyhow::Result<()> {
    let EvalCommand::Recall(args) = command;
    let report = Box::pin(recall(config, &args)).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.table());
    }
    Ok(())
}

/// `memvox eval recall`.
async fn recall(config: Config, args: &RecallArgs) -> anyhow::Result<report::Report> {
    let mut probe = Conversations::load(&args.probes.join("conversations"))?;
    if let Some(n) = args.callers {
        let mut keep: Vec<String> = probe.calls.iter().map(|c| c.caller.clone()).collect();
        keep.dedup();
        keep.truncate(n);
        probe.calls.retain(|c| keep.contains(&c.caller));
        probe.questions.retain(|q| keep.contains(&q.caller));
    }
    let target = match &args.url {
        Some(url) => Target::remote(Endpoint {
            base_url: url.clone(),
            webhook_secret: args.webhook_secret.clone().context("--webhook-secret")?,
            token: args.token.clone().context("--token")?,
            admin_token: args.admin_token.clone().context("--admin-token")?,
            integrator_secret: args
                .integrator_secret
                .clone()
                .context("--integrator-secret")?,
            init: Some((
                args.init_secret_header.clone(),
                args.init_secret.clone().context("--init-secret")?,
            )),
        }),
        None => Box::pin(Target::in_process(config)).await?,
    };
    let client = Client::new(target.endpoint.clone())?;
    let app = target.app.as_deref();
    let timeout = Duration::from_secs(args.timeout_secs);

    let started = Instant::now();
    let baseline = drain::progress(&client, app).await?;
    let identities = replay::replay(&client, &probe.calls).await?;
    let replay_secs = started.elapsed().as_secs_f64();
    let drained = Instant::now();
    drain::wait(&client, app, baseline, probe.calls.len() as u64, timeout).await?;
    let drain_secs = drained.elapsed().as_secs_f64();
    let (memories_per_caller, evidence_stored) = ask::stored(&client, &probe, &identities).await?;
    let asking = Instant::now();
    let conversations = ask::conversations(&client, &probe, &identities).await?;
    let ask_secs = asking.elapsed().as_secs_f64();
    if let Some(path) = &args.misses {
        let lines: Vec<String> = conversations
            .misses
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()?;
        std::fs::write(path, lines.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let mut facts = Vec::new();
    if !args.skip_facts {
        for fact_probe in [
            FactProbe::paraphrase(&args.probes.join("retrieval"))?,
            FactProbe::lexical(&args.probes.join("lexical"))?,
        ] {
            facts.push(ask::facts(&client, app, &fact_probe, timeout).await?);
        }
    }
    let report = report::Report {
        target: args.url.clone().unwrap_or_else(|| "in-process".to_owned()),
        callers: identities.len(),
        calls: probe.calls.len(),
        turns: probe.calls.iter().map(|c| c.turns.len()).sum(),
        memories_per_caller,
        evidence_stored,
        replay_secs,
        drain_secs,
        ask_secs,
        conversations,
        facts,
    };
    target.stop().await?;
    Ok(report)
}
