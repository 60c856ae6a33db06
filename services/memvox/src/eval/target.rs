//! The memvox under evaluation: started in process exactly as `memvox serve` runs it (same
//! [`crate::serve::run`]: HTTP API, extraction and embedding workers), on the embedded
//! backends — SQLite in a temporary directory, the in-process bus — on 127.0.0.1 port 0, with
//! a webhook secret, an init secret and an API token generated for the run; or a running
//! server reached by URL with the credentials given.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memvox::{Config, Memvox};
use memvox_bus::BusBackend;
use memvox_config::Secret;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::client::Endpoint;

/// A memvox being evaluated.
pub struct Target {
    /// How to reach it.
    pub endpoint: Endpoint,
    /// The process-local app, when started in process.
    pub app: Option<Memvox>,
    running: Option<(JoinHandle<anyhow::Result<()>>, tempfile::TempDir)>,
}

/// A random secret with a readable prefix.
fn secret(prefix: &str) -> String {
    format!("{prefix}_{:032x}", rand::random::<u128>())
}

impl Target {
    /// A running memvox at `endpoint`.
    pub fn remote(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            app: None,
            running: None,
        }
    }

    /// Starts memvox in process on `config` moved onto the embedded backends (the embedder,
    /// extractor and query settings stay as configured).
    pub async fn in_process(mut config: Config) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        config.shared.store.url = format!("sqlite://{}", dir.path().join("memvox.db").display());
        config.shared.store.schema = None;
        config.shared.store.migrate_on_start = Some(true);
        config.shared.encryption.key_file = None;
        config.shared.encryption.keys = None;
        config.shared.encryption.active_key = None;
        config.shared.encryption.index_key = None;
        config.shared.bus.backend = BusBackend::InProcess;
        let (webhook, init) = (secret("wsec_eval"), secret("init_eval"));
        let (token, admin_token) = (secret("mvx_eval"), secret("mvx_admin_eval"));
        let integrator_secret = secret("integrator_eval");
        config.shared.identity.integrator_secrets = vec![integrator_secret.clone()];
        config.gateway.webhook_secrets = vec![Secret::from(webhook.clone())];
        config.query.init_secrets = vec![Secret::from(init.clone())];
        // The replay delivers a caller's calls of months within seconds: no init rate limits.
        config.query.init_rate_per_number_per_minute = 0;
        config.query.init_rate_global_per_second = 0;
        config.query.tool_token_sha256 = vec![hex::encode(Sha256::digest(token.as_bytes()))];
        config.query.admin_token_sha256 = vec![hex::encode(Sha256::digest(admin_token.as_bytes()))];
        let init_header = config.query.init_secret_header.clone();
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("cannot listen on 127.0.0.1")?;
        let address = listener.local_addr()?;
        config.shared.http.listen = address;
        let app = Memvox::build(config).await?;
        let task = tokio::spawn(crate::serve::run(app.clone(), listener));
        let endpoint = Endpoint {
            base_url: format!("http://{address}"),
            webhook_secret: webhook,
            token,
            admin_token,
            integrator_secret,
            init: Some((init_header, init)),
        };
        wait_ready(&endpoint.base_url).await?;
        Ok(Self {
            endpoint,
            app: Some(app),
            running: Some((task, dir)),
        })
    }

    /// Stops an in-process memvox (graceful shutdown) and removes its data.
    pub async fn stop(self) -> anyhow::Result<()> {
        if let (Some(app), Some((task, dir))) = (self.app, self.running) {
            app.shutdown.cancel();
            task.await.context("memvox task")??;
            drop(dir);
        }
        Ok(())
    }
}

/// Waits for `/health/ready` to answer 200.
async fn wait_ready(base_url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let url = format!("{base_url}/health/ready");
    loop {
        if let Ok(response) = reqwest::get(&url).await
            && response.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("memvox did not become ready at {url}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
