//! `live-bench BASE_URL SERVER_PID [--sockets N] [--users N] [--changes N] [--rate PER_SECOND]`
//!
//! Drives a running `beatstream serve` (with a scanned library) over HTTP and real WebSockets:
//! signs up `users` listeners, connects `sockets` WebSockets spread over them (each a device),
//! reads the server's memory before and after (per idle connection), then makes `changes` likes
//! and unlikes at `rate` a second and measures, on every socket of the listener, the delay from
//! sending the request to receiving its `like.changed` message. Prints a Markdown report.
//! `scripts/bench-realtime.sh` runs it against a fresh release server.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

struct Options {
    base: String,
    pid: u32,
    sockets: usize,
    users: usize,
    changes: usize,
    rate: f64,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: live-bench BASE_URL SERVER_PID [--sockets N] [--users N] [--changes N] [--rate PER_SECOND]";
    let base = args.next().ok_or(usage)?;
    let pid = args.next().and_then(|p| p.parse().ok()).ok_or(usage)?;
    let mut options = Options {
        base,
        pid,
        sockets: 1000,
        users: 100,
        changes: 2000,
        rate: 100.0,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(usage)?;
        let number = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--sockets" => options.sockets = number(&value)? as usize,
            "--users" => options.users = number(&value)? as usize,
            "--changes" => options.changes = number(&value)? as usize,
            "--rate" => options.rate = number(&value)?,
            _ => return Err(usage.into()),
        }
    }
    if options.users == 0 || options.sockets < options.users {
        return Err("need at least one user and one socket per user".into());
    }
    Ok(options)
}

/// A process's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// When each change was sent: (user index, track id, liked) → instant.
type Sent = Arc<Mutex<HashMap<(usize, String, bool), Instant>>>;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}/api/v1{path}", options.base);

    // Listeners.
    let run = std::process::id();
    let mut tokens = Vec::new();
    for i in 0..options.users {
        let reply: Value = http
            .post(api("/auth/signup"))
            .json(&json!({"username": format!("live{run}x{i}"), "password": "benchmark password"}))
            .send()
            .await
            .expect("sign-up")
            .json()
            .await
            .expect("sign-up reply");
        tokens.push(
            reply["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("sign-up failed: {reply}"))
                .to_string(),
        );
    }
    let tracks: Value = http
        .get(api("/tracks?limit=50"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .expect("tracks")
        .json()
        .await
        .expect("tracks reply");
    let track_ids: Vec<String> = tracks["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(!track_ids.is_empty(), "the library has no tracks");

    // Sockets, each a device of one listener.
    let rss_before = rss_kib(options.pid);
    let sent: Sent = Arc::default();
    let delays = Arc::new(Mutex::new(Vec::<f64>::new()));
    let hellos = Arc::new(AtomicUsize::new(0));
    let ws_base = options.base.replace("http://", "ws://");
    let connecting = Instant::now();
    let mut readers = Vec::new();
    for chunk in (0..options.sockets).collect::<Vec<_>>().chunks(50) {
        let mut opened = Vec::new();
        for &i in chunk {
            let user = i % options.users;
            let url = format!("{ws_base}/api/v1/events?device_id=bench-{i}&device_kind=other");
            let mut request = url.into_client_request().expect("request");
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {}", tokens[user]).parse().expect("header"),
            );
            opened.push(async move { (user, tokio_tungstenite::connect_async(request).await) });
        }
        for (user, result) in futures_util::future::join_all(opened).await {
            let (mut ws, _) = result.expect("WebSocket");
            let (sent, delays, hellos) = (sent.clone(), delays.clone(), hellos.clone());
            readers.push(tokio::spawn(async move {
                while let Some(Ok(message)) = ws.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let now = Instant::now();
                    let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    match value["type"].as_str() {
                        Some("hello") => {
                            hellos.fetch_add(1, Ordering::Relaxed);
                        }
                        Some("like.changed") => {
                            let key = (
                                user,
                                value["track_id"].as_str().unwrap_or("").to_string(),
                                value["liked"].as_bool().unwrap_or(false),
                            );
                            let at = sent.lock().expect("lock").get(&key).copied();
                            if let Some(at) = at {
                                let ms = now.duration_since(at).as_secs_f64() * 1000.0;
                                delays.lock().expect("lock").push(ms);
                            }
                        }
                        _ => {}
                    }
                }
            }));
        }
    }
    while hellos.load(Ordering::Relaxed) < options.sockets {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = connecting.elapsed().as_secs_f64();
    // Let the devices.changed messages of the connections settle, then read idle memory.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_idle = rss_kib(options.pid);

    // Changes: like and unlike, round robin over listeners, paced.
    let mut liked: HashMap<(usize, usize), bool> = HashMap::new();
    let period = Duration::from_secs_f64(1.0 / options.rate);
    let mut tick = tokio::time::interval(period);
    let started = Instant::now();
    let mut requests = Vec::new();
    for c in 0..options.changes {
        tick.tick().await;
        let user = c % options.users;
        let track = (c / options.users) % track_ids.len();
        let now_liked = !liked.get(&(user, track)).copied().unwrap_or(false);
        liked.insert((user, track), now_liked);
        let key = (user, track_ids[track].clone(), now_liked);
        let path = api(&format!("/me/likes/tracks/{}", track_ids[track]));
        let request = if now_liked {
            http.put(path)
        } else {
            http.delete(path)
        }
        .bearer_auth(&tokens[user]);
        sent.lock().expect("lock").insert(key, Instant::now());
        requests.push(tokio::spawn(async move {
            request
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false)
        }));
    }
    let mut failed = 0;
    for request in requests {
        if !request.await.unwrap_or(false) {
            failed += 1;
        }
    }
    let per_user = options.sockets / options.users;
    let expected = options.changes * per_user;
    let deadline = Instant::now() + Duration::from_secs(15);
    while delays.lock().expect("lock").len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_after = rss_kib(options.pid);
    let mut delays = delays.lock().expect("lock").clone();
    delays.sort_by(|a, b| a.total_cmp(b));

    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| sockets connected | {} ({} listeners, {} each) |",
        options.sockets, options.users, per_user
    );
    println!("| time to connect them all | {connect_secs:.1} s |");
    println!(
        "| changes (likes and unlikes) | {} at {} a second, {failed} failed |",
        options.changes, options.rate
    );
    println!(
        "| messages received / expected | {} / {expected} |",
        delays.len()
    );
    println!("| delay p50 | {:.1} ms |", percentile(&delays, 0.50));
    println!("| delay p90 | {:.1} ms |", percentile(&delays, 0.90));
    println!("| delay p99 | {:.1} ms |", percentile(&delays, 0.99));
    println!(
        "| delay max | {:.1} ms |",
        delays.last().copied().unwrap_or(f64::NAN)
    );
    println!("| run time | {elapsed:.1} s |");
    println!(
        "| server memory before the sockets | {:.1} MiB |",
        rss_before as f64 / 1024.0
    );
    println!(
        "| server memory with the sockets idle | {:.1} MiB |",
        rss_idle as f64 / 1024.0
    );
    println!(
        "| memory per idle connection | {:.1} KiB |",
        (rss_idle.saturating_sub(rss_before)) as f64 / options.sockets as f64
    );
    println!(
        "| server memory after the changes | {:.1} MiB |",
        rss_after as f64 / 1024.0
    );
    for reader in readers {
        reader.abort();
    }
}
