//! A fake Discord REST server on loopback for the Discord tests: it answers the paths `teams`
//! posts to (`POST /api/v10/webhooks/{id}/{token}`, `POST /api/v10/channels/{id}/messages`) the
//! way Discord does (shapes from `shared/research/discord-serenity.md` §3.3), follows a script of
//! replies (success, 429 with `retry_after`, 500, never answer), and records every request.
//!
//! Plain `std::net` and threads: one thread accepts, one per connection reads requests (keep-alive
//! included) and answers. A hanging reply holds its connection open until the server is dropped
//! or 30 s pass, whichever comes first, so no test can leave it running for long.
//!
//! Include it with `#[path = "common/fake_discord.rs"] mod fake_discord;`.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the server answers one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reply {
    /// 200 with a message object (or the webhook, for a GET).
    Ok,
    /// 429 with `Retry-After` and a JSON `retry_after` of this many seconds.
    RateLimited(f64),
    /// 500 with Discord's error body.
    ServerError,
    /// 400 "Invalid Form Body".
    BadRequest,
    /// Reads the request and never answers.
    Hang,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: serde_json::Value,
    /// The raw request, for "the secret never appears" checks on what we did not parse.
    pub raw: String,
    pub reply: Reply,
}

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    fallback: Reply,
    requests: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
}

/// The running server; stops when dropped.
pub struct FakeDiscord {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    /// A server that answers `script` in order, then `fallback` for every later request.
    pub fn start(script: Vec<Reply>, fallback: Reply) -> FakeDiscord {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            fallback,
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept_shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FakeDiscord { addr, shared }
    }

    /// A server that always succeeds.
    pub fn ok() -> FakeDiscord {
        FakeDiscord::start(Vec::new(), Reply::Ok)
    }

    /// `http://127.0.0.1:PORT`, for `TEAMS_DISCORD_API_BASE`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests that were answered with success, in order.
    pub fn delivered(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.reply == Reply::Ok)
            .collect()
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let reply = shared
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(shared.fallback);
        let recorded = Recorded { reply, ..request };
        let response = respond(&recorded);
        shared.requests.lock().unwrap().push(recorded);
        match response {
            Some(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
            }
            None => {
                let until = Instant::now() + Duration::from_secs(30);
                while !shared.stop.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut raw = line.clone();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        raw.push_str(&header);
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    raw.push_str(&String::from_utf8_lossy(&body));
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (target, String::new()),
    };
    Some(Recorded {
        method,
        path,
        query,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw,
        reply: Reply::Ok,
    })
}

/// The HTTP response for `request`, or `None` to hang.
fn respond(request: &Recorded) -> Option<Vec<u8>> {
    let (status, extra, body) = match request.reply {
        Reply::Hang => return None,
        Reply::Ok => (
            "200 OK",
            String::new(),
            message_json(&request.body).to_string(),
        ),
        Reply::RateLimited(secs) => (
            "429 Too Many Requests",
            format!("Retry-After: {secs}\r\nX-RateLimit-Scope: user\r\n"),
            serde_json::json!({"message": "You are being rate limited.", "retry_after": secs, "global": false})
                .to_string(),
        ),
        Reply::ServerError => (
            "500 Internal Server Error",
            String::new(),
            r#"{"message": "500: Internal Server Error", "code": 0}"#.to_owned(),
        ),
        Reply::BadRequest => (
            "400 Bad Request",
            String::new(),
            r#"{"message": "Invalid Form Body", "code": 50035, "errors": {}}"#.to_owned(),
        ),
    };
    Some(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// The message object Discord answers a post with (the fields serenity's `Message` needs).
fn message_json(posted: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": "1300000000000000001",
        "channel_id": "111111111111111111",
        "author": {"id": "222222222222222222", "username": "teams", "discriminator": "0000"},
        "content": posted.get("content").cloned().unwrap_or_default(),
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": posted.get("embeds").cloned().unwrap_or_default(),
        "pinned": false,
        "type": 0
    })
}
