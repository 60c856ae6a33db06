//! memvox binaries as processes in a test: a command on a fresh embedded store that reads no
//! configuration file, a free loopback port to serve on, a guard that kills the process, a wait
//! for its health endpoint, and the checks every separately deployed service binary must pass.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `binary` (a path from `env!("CARGO_BIN_EXE_…")`) run in `dir` with no configuration file,
/// the hashing embedder (no model to load) and a SQLite store in `dir`, with no stdin.
pub fn memvox_command(binary: &str, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env_remove("MEMVOX_CONFIG")
        .env("MEMVOX_EMBEDDER__PROVIDER", "hashing")
        .env(
            "MEMVOX_STORE__URL",
            format!("sqlite://{}/memvox.db", dir.display()),
        )
        .stdin(Stdio::null());
    command
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process, killed and reaped when dropped.
#[derive(Debug)]
pub struct Running(pub Child);

impl Running {
    /// Asks the process to stop as an operator would (SIGTERM).
    pub fn terminate(&self) {
        let pid = self.0.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM to {pid}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (at most 60 s) until `base` answers `/health/ready`, whatever the status.
pub async fn wait_until_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{base}/health/ready")).await.is_err() {
        assert!(Instant::now() < deadline, "{base} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the service binary `binary` (a path from `env!("CARGO_BIN_EXE_…")`) on a fresh embedded
/// store and checks what its deployment relies on: `/health/ready` answers 200 with its store
/// up, `/metrics` shows the stream gauges, and SIGTERM (a rolling update's stop) makes
/// it answer 503 on readiness, drain and exit with status 0.
pub async fn assert_serves_health_and_stops_on_sigterm(binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut running = Running(
        memvox_command(binary, dir.path())
            .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_until_ready(&base).await;
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body = ready.text().await.unwrap();
    assert!(
        body.contains(r#""status":"ready""#) && body.contains(r#""store":"ok""#),
        "{body}"
    );
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("memvox_stream_length"), "{metrics}");

    running.terminate();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{binary} still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{binary} stopped with {status}");
}
