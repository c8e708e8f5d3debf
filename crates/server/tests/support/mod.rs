//! Whole-system test support: start the real `beatstream` binary on a free port, against
//! SQLite + the in-process bus or a fresh PostgreSQL database + a unique NATS namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub enum Backend {
    /// SQLite files and the in-process bus: the zero-set-up default.
    Embedded,
    /// A fresh PostgreSQL database and a unique JetStream namespace.
    External {
        database_url: String,
        namespace: String,
    },
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
}

fn postgres_admin_url() -> String {
    std::env::var("BEATSTREAM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn nats_url() -> String {
    std::env::var("BEATSTREAM_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

impl Env {
    pub async fn embedded() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            backend: Backend::Embedded,
        }
    }

    /// Creates a fresh database on the test PostgreSQL server.
    pub async fn external() -> Env {
        use beatstream_db::sqlx::{self, Executor};
        let name = format!("bs_sys_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&postgres_admin_url())
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        admin.close().await;
        let base = postgres_admin_url();
        let database_url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        Env {
            dir: tempfile::tempdir().unwrap(),
            backend: Backend::External {
                database_url,
                namespace: format!("sys{}", uuid::Uuid::new_v4().simple()),
            },
        }
    }

    pub fn config_path(&self) -> PathBuf {
        let path = self.dir.path().join("beatstream.toml");
        let mut text = format!(
            "data_dir = \"{}\"\n",
            self.dir.path().join("data").display()
        );
        if let Backend::External {
            database_url,
            namespace,
        } = &self.backend
        {
            text.push_str(&format!("[database]\nurl = \"{database_url}\"\n[events]\nurl = \"{}\"\nnamespace = \"{namespace}\"\n", nats_url()));
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn start(&self, extra_env: &[(&str, &str)]) -> Server {
        Server::start(self, extra_env)
    }

    /// Runs SQL against one service's database (SQLite file or PostgreSQL schema).
    pub async fn query_i64(&self, service: &str, sql: &str) -> i64 {
        use beatstream_db::{Db, DbLocation};
        let location = match &self.backend {
            Backend::Embedded => {
                DbLocation::SqliteFile(self.dir.path().join("data").join(format!("{service}.db")))
            }
            Backend::External { database_url, .. } => DbLocation::Postgres {
                url: database_url.clone(),
                schema: service.into(),
            },
        };
        let db = Db::open(&location, service, 1).await.unwrap();
        let row = beatstream_db::sqlx::query(sql)
            .fetch_one(db.pool())
            .await
            .unwrap();
        let value: i64 = beatstream_db::sqlx::Row::try_get(&row, 0).unwrap();
        db.close().await;
        value
    }

    pub async fn finish(self) {
        if let Backend::External {
            database_url,
            namespace,
        } = &self.backend
        {
            use beatstream_db::sqlx::{self, Executor};
            if let Ok(admin) = sqlx::AnyPool::connect(&postgres_admin_url()).await {
                let name = &database_url[database_url.rfind('/').unwrap() + 1..];
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                admin.close().await;
            }
            if let Ok(client) = async_nats::connect(nats_url()).await {
                let js = async_nats::jetstream::new(client);
                let upper = namespace.to_uppercase();
                // The event stream, the live stream, and the discovery bucket.
                for stream in [
                    upper.clone(),
                    format!("{upper}_LIVE"),
                    format!("KV_{upper}_instances"),
                ] {
                    let _ = js.delete_stream(stream).await;
                }
            }
        }
    }
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(env: &Env, extra_env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = env.dir.path().join(format!("server-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_beatstream"));
        command
            .arg("serve")
            .arg("--config")
            .arg(env.config_path())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start beatstream");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(self.base.trim_start_matches("http://")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("beatstream did not start; log:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no flush, as a crash or power cut.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "beatstream did not stop on SIGTERM; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    /// Stops the server; when a test failed, shows the end of its log, which would otherwise
    /// go with the test's temporary directory.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let text = self.log_text();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(400)..];
            eprintln!(
                "--- the last {} lines of {}:\n{}",
                tail.len(),
                self.log.display(),
                tail.join("\n")
            );
        }
    }
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Value,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn credentials(username: &str) -> Value {
    json!({"username": username, "password": "long enough password"})
}

pub fn data_dir(env: &Env) -> &Path {
    env.dir.path()
}

/// Copies the catalog's fixture library (16 tracks) to `to`.
pub fn copy_fixture_library(to: &std::path::Path) {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &to.join(entry.file_name()));
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
    copy(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../catalog/tests/fixtures/library"
        )),
        to,
    );
}

/// A NATS server of a test's own (Debian's `nats-server`), which the test may stop and start
/// again without disturbing anyone else's.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    store: Option<tempfile::TempDir>,
}

impl Nats {
    /// Starts one on a free port.
    pub fn start_new() -> Nats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Nats::start(port, tempfile::tempdir().unwrap())
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port with the same stored streams.
    pub fn restart(&mut self) -> Nats {
        self.stop();
        Nats::start(self.port, self.store.take().unwrap())
    }

    fn start(port: u16, store: tempfile::TempDir) -> Nats {
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian's nats-server package)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nats {
            child: Some(child),
            port,
            store: Some(store),
        }
    }

    /// SIGTERM, and wait for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until `check` holds, up to `limit`; fails the test naming `what` otherwise.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_explained(limit, what, check, || async { String::new() }).await;
}

/// [`eventually`], adding what `explain` tells at the time of failing to the message.
pub async fn eventually_explained<F, Fut, E, EFut>(
    limit: Duration,
    what: &str,
    mut check: F,
    explain: E,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
    E: FnOnce() -> EFut,
    EFut: std::future::Future<Output = String>,
{
    let started = Instant::now();
    while !check().await {
        if started.elapsed() >= limit {
            panic!(
                "{what} did not happen within {limit:?}; {}",
                explain().await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The fixture track an upload sends (real Ogg Vorbis, tagged).
pub fn upload_fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../catalog/tests/fixtures/library/Unicode/Björk – Jóga (日本).ogg"
    ))
    .unwrap()
}

/// `POST /api/v1/tracks` at `base` with `content` as the multipart file `file_name`.
pub async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    file_name: &str,
    content: &[u8],
) -> reqwest::Response {
    let boundary = "beatstream-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .post(format!("{base}/api/v1/tracks"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// How many `topic` events consumer `group` handled, from the process's `/metrics`.
pub async fn events_handled(
    client: &reqwest::Client,
    server: &Server,
    group: &str,
    topic: &str,
) -> f64 {
    let text = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| {
            l.starts_with("beatstream_events_handled_total")
                && l.contains(&format!("group=\"{group}\""))
                && l.contains(&format!("topic=\"{topic}\""))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0)
}
