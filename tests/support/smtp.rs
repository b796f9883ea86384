//! A minimal SMTP sink on 127.0.0.1 for mail tests: it accepts every message (no TLS, no auth)
//! and keeps what it received. It speaks just enough ESMTP for lettre: greeting, EHLO/HELO,
//! MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP, QUIT.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The raw message (headers and body).
    pub data: String,
}

impl Received {
    /// The value of header `name` (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        for line in self.data.split("\r\n") {
            if line.is_empty() {
                return None;
            }
            if line.to_ascii_lowercase().starts_with(&prefix) {
                return Some(line[prefix.len()..].trim().to_owned());
            }
        }
        None
    }
}

/// A running sink.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub async fn start() -> SmtpSink {
        Self::on(0).await
    }

    /// Starts a sink on `port` (0: a free one).
    pub async fn on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let shared = inbox.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let inbox = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, inbox).await;
                });
            }
        });
        SmtpSink { port, inbox, task }
    }

    /// What it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Stops listening (the port closes).
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn session(stream: tokio::net::TcpStream, inbox: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            w.write_all(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?;
        } else if cmd.starts_with("HELO") || cmd.starts_with("MAIL") || cmd.starts_with("NOOP") {
            w.write_all(b"250 OK\r\n").await?;
        } else if cmd.starts_with("RSET") {
            to.clear();
            w.write_all(b"250 OK\r\n").await?;
        } else if cmd.starts_with("RCPT") {
            let addr =
                line.trim_end().split(':').nth(1).unwrap_or("").trim().trim_matches(['<', '>']).to_owned();
            to.push(addr);
            w.write_all(b"250 OK\r\n").await?;
        } else if cmd.starts_with("DATA") {
            w.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            inbox.lock().unwrap().push(Received { to: std::mem::take(&mut to), data });
            w.write_all(b"250 OK queued\r\n").await?;
        } else if cmd.starts_with("QUIT") {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            w.write_all(b"502 not implemented\r\n").await?;
        }
    }
}
