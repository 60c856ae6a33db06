//! `memvox healthcheck` and `memvox wait-for`: dependency-free probes for container health
//! checks and start-up ordering (the image carries no curl).
//!
//! A probe target is `http://HOST:PORT/PATH` (healthy on a 2xx answer) or `tcp://HOST:PORT`
//! (healthy when a connection opens).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Probes `target` once.
pub async fn probe(target: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(target).with_context(|| format!("`{target}` is not a URL"))?;
    let host = url.host_str().context("the URL has no host")?;
    let port = url.port_or_known_default().context("the URL has no port")?;
    let connect = TcpStream::connect((host, port));
    let mut stream = tokio::time::timeout(PROBE_TIMEOUT, connect)
        .await
        .with_context(|| format!("{host}:{port} did not answer"))??;
    match url.scheme() {
        "tcp" => Ok(()),
        "http" => {
            let path = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
            let exchange = async {
                stream.write_all(request.as_bytes()).await?;
                let mut head = vec![0u8; 64];
                let n = stream.read(&mut head).await?;
                Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
            };
            let head = tokio::time::timeout(PROBE_TIMEOUT, exchange)
                .await
                .context("no HTTP answer in time")??;
            let status = head.split_whitespace().nth(1).unwrap_or("");
            if status.starts_with('2') {
                Ok(())
            } else {
                bail!(
                    "{target} answered {}",
                    head.lines().next().unwrap_or("nothing")
                )
            }
        }
        other => bail!("unsupported scheme `{other}`: use http:// or tcp://"),
    }
}

/// Waits until every target answers, or fails after `timeout`.
pub async fn wait_for(targets: &[String], timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    for target in targets {
        loop {
            match probe(target).await {
                Ok(()) => {
                    println!("{target} is up");
                    break;
                }
                Err(error) if Instant::now() >= deadline => {
                    return Err(error.context(format!("gave up waiting for {target}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
    Ok(())
}
