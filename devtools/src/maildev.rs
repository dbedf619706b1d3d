//! maildev (npm, installed by scripts/bootstrap.sh into .tools/): a real SMTP server that keeps
//! what it receives, with a REST API (`GET /email`) the tests read the mails from. No mock
//! mailer stands in for it.
//!
//! The tests of one run share one maildev (scripts/test.sh starts it and passes
//! [`SMTP_PORT_VAR`] and [`INBOX_VAR`]); without them, a test process starts its own on first
//! use (not before: most tests send no mail). A test that needs the mail server down starts a
//! [`Maildev`] of its own and stops it.

use std::io;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskline::config::MailSettings;
use taskline::mail::{Mail, Outbox, Sending};
use taskline_mail::SmtpOutbox;

use crate::{free_port, repo_root};

/// Set by scripts/test.sh: the SMTP port of the run's maildev.
pub const SMTP_PORT_VAR: &str = "TASKLINE_TEST_SMTP_PORT";
/// Set by scripts/test.sh: the address of the run's maildev's web inbox and REST API.
pub const INBOX_VAR: &str = "TASKLINE_TEST_MAILDEV_URL";
/// Where maildev's executable is, if not in .tools/ (a checkout without bootstrap).
pub const BIN_VAR: &str = "TASKLINE_MAILDEV_BIN";

/// maildev's executable.
pub fn executable() -> PathBuf {
    match std::env::var(BIN_VAR) {
        Ok(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => repo_root().join(".tools/node_modules/.bin/maildev"),
    }
}

/// A maildev this process started (stopped when dropped).
pub struct Maildev {
    child: Option<Child>,
    pub smtp_port: u16,
    pub web_port: u16,
}

impl Maildev {
    /// Starts maildev on free ports and waits until both answer.
    pub fn start() -> io::Result<Self> {
        let (smtp_port, web_port) = (free_port()?, free_port()?);
        Self::start_on(smtp_port, web_port)
    }

    pub fn start_on(smtp_port: u16, web_port: u16) -> io::Result<Self> {
        let bin = executable();
        // The wrapper kills maildev when this process goes away (its stdin closes).
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" & pid=$!; trap 'kill $pid 2>/dev/null' EXIT; while read -r _; do :; done; exit 0"#)
            .arg("sh")
            .arg(&bin)
            .args(["--ip", "127.0.0.1", "--silent"])
            .args(["--smtp", &smtp_port.to_string()])
            .args(["--web", &web_port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", bin.display())))?;
        let mut server = Self {
            child: Some(child),
            smtp_port,
            web_port,
        };
        server.wait_ready(Duration::from_secs(30))?;
        Ok(server)
    }

    /// The address of its web inbox and REST API.
    pub fn inbox_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// Stops it: its SMTP port refuses connections from then on.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok() && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(io::Error::other(format!(
                    "maildev exited early: {status} (run scripts/bootstrap.sh, or set {BIN_VAR})"
                )));
            }
            if TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.web_port)).is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "maildev did not start",
        ))
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The run's maildev: from scripts/test.sh, or (ports chosen now, started on first use) this
/// process's own.
struct Shared {
    smtp_port: u16,
    inbox_url: String,
    own: Option<Mutex<Option<Maildev>>>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let port = std::env::var(SMTP_PORT_VAR)
            .ok()
            .and_then(|p| p.parse().ok());
        let url = std::env::var(INBOX_VAR).ok().filter(|u| !u.is_empty());
        match (port, url) {
            (Some(smtp_port), Some(inbox_url)) => Shared {
                smtp_port,
                inbox_url,
                own: None,
            },
            _ => {
                let smtp_port = free_port().expect("free port");
                let web_port = free_port().expect("free port");
                Shared {
                    smtp_port,
                    inbox_url: format!("http://127.0.0.1:{web_port}"),
                    own: Some(Mutex::new(None)),
                }
            }
        }
    })
}

/// Starts this process's own maildev if it has one and it is not running yet.
fn ensure_started() {
    let shared = shared();
    let Some(own) = &shared.own else { return };
    let mut own = own.lock().expect("maildev lock");
    if own.is_none() {
        let web_port = shared
            .inbox_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("inbox port");
        *own = Some(
            Maildev::start_on(shared.smtp_port, web_port)
                .expect("start maildev (run scripts/bootstrap.sh first)"),
        );
    }
}

/// The SMTP port the test configuration sends to.
pub fn smtp_port() -> u16 {
    shared().smtp_port
}

/// The run's inbox (its maildev started if it is this process's own).
pub fn inbox_url() -> String {
    ensure_started();
    shared().inbox_url.clone()
}

/// The SMTP outbox of the tests: the shared maildev is started before the first mail if it is
/// this process's own and the configuration points at it.
pub struct TestOutbox {
    smtp: SmtpOutbox,
    shared: bool,
}

impl TestOutbox {
    pub fn shared_for(settings: &MailSettings) -> Arc<dyn Outbox> {
        Arc::new(Self {
            smtp: SmtpOutbox::new(settings).expect("test mail settings"),
            shared: settings.port == smtp_port(),
        })
    }

    fn prepare(&self) {
        if self.shared {
            ensure_started();
        }
    }
}

impl Outbox for TestOutbox {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        self.prepare();
        self.smtp.send(mail)
    }

    fn probe(&self) -> Sending<'_> {
        self.prepare();
        self.smtp.probe()
    }
}

/// Every mail in the inbox at `inbox` to `to`, oldest first (maildev's `GET /email`).
pub async fn mails_to(inbox: &str, to: &str) -> Vec<Value> {
    let all: Vec<Value> = reqwest::get(format!("{inbox}/email"))
        .await
        .expect("maildev's REST API")
        .json()
        .await
        .expect("maildev's mails as JSON");
    all.into_iter()
        .filter(|mail| {
            mail["to"].as_array().is_some_and(|to_list| {
                to_list.iter().any(|a| {
                    a["address"]
                        .as_str()
                        .is_some_and(|a| a.eq_ignore_ascii_case(to))
                })
            })
        })
        .collect()
}

/// The mails of the run's inbox to `to` with `subject`.
pub async fn mails(to: &str, subject: &str) -> Vec<Value> {
    mails_to(&inbox_url(), to)
        .await
        .into_iter()
        .filter(|mail| mail["subject"] == subject)
        .collect()
}

/// The newest mail of the run's inbox to `to` with `subject`, waiting a little for it.
pub async fn latest_mail(to: &str, subject: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(mail) = mails(to, subject).await.pop() {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "no mail {subject:?} to {to} in {}",
            inbox_url()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token of the link in a mail's plain text (`...#token=<token>` on a line of its own).
pub fn link_token(mail: &Value) -> String {
    let text = mail["text"].as_str().expect("a plain-text body");
    text.lines()
        .find_map(|line| {
            line.trim()
                .split_once("#token=")
                .map(|(_, t)| t.to_string())
        })
        .unwrap_or_else(|| panic!("no link with a token in {text:?}"))
}
