//! memvox binaries as processes in a test: a command on a fresh embedded store that reads no
//! configuration file, a free loopback port to serve on, and a guard that kills the process.

use std::path::Path;
use std::process::{Child, Command, Stdio};

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
