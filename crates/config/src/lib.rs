//! Beatstream's configuration: the structs, the service roles, and layered loading.
//!
//! Settings come in four layers, each overriding the one before: built-in defaults, a TOML file,
//! `BEATSTREAM_SECTION__KEY` environment variables, then command-line flags. [`Config::load`] is
//! pure (it takes the file text and an environment map) so tests never touch the process
//! environment. Every layer is checked against the same schema: an unknown key anywhere is an
//! error that names it.

mod layers;
mod role;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use layers::{CliOverrides, ConfigError};
pub use role::{Role, Roles};

/// The whole configuration of one `beatstream` process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server binds, e.g. `127.0.0.1:3000`.
    pub listen: String,
    /// Where SQLite files, indexes, caches and local blobs live.
    pub data_dir: PathBuf,
    /// Music folders to scan.
    pub library: Vec<PathBuf>,
    /// Which services this process runs.
    pub roles: Roles,
    pub database: DatabaseConfig,
    pub events: EventsConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub catalog: CatalogConfig,
    pub realtime: RealtimeConfig,
    pub discovery: DiscoveryConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Empty: one SQLite file per service in `data_dir`. `postgres://...`: one PostgreSQL
    /// database, each service in its own schema. `sqlite://DIR`: SQLite files in DIR.
    pub url: String,
    /// Connections per service pool.
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// `memory://` (in-process bus) or `nats://host:port` (NATS JetStream).
    pub url: String,
    /// Prefix of subjects and name of the JetStream stream, so several deployments (or test
    /// runs) can share one NATS server.
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Empty: `data_dir/blobs`. `file:///abs/dir` or `s3://bucket/prefix`.
    pub url: String,
    /// For S3-compatible servers other than AWS (MinIO, moto...).
    pub s3_endpoint: String,
    pub s3_region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Whether anyone may sign up. An admin can always create accounts.
    pub open_signup: bool,
    /// Lifetime of access tokens (JWT), in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// Login attempts allowed per account per minute before 429 (0: no limit).
    pub login_attempts_per_account_per_minute: u32,
    /// Login attempts allowed per client address per minute before 429 (0: no limit).
    pub login_attempts_per_address_per_minute: u32,
    /// The file holding the key that seals app passwords (created on first start); empty for
    /// `<data_dir>/secrets.key`. Every auth instance of a deployment needs the same key.
    pub secrets_key_file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// Separators that split one artist tag into several artists ("A feat. B", "A; B").
    pub artist_separators: Vec<String>,
    /// Separators that split one genre tag into several genres ("Rock;Pop", "Rock / Pop").
    pub genre_separators: Vec<String>,
    /// Watch the library folders and rescan what changes while running.
    pub watch: bool,
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: u64,
    /// The ffmpeg executable used for transcoding; empty disables transcoding.
    pub ffmpeg: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryConfig {
    /// Where instances announce themselves: `""` (nowhere: one process), `nats://host:port`
    /// (a JetStream key-value bucket in `events.namespace`) or `static` (the list below).
    pub url: String,
    /// The address others reach this instance at (`http://host:port`); empty: the address it
    /// listens on.
    pub advertise: String,
    /// An announcement not renewed within this many seconds drops out.
    pub ttl_secs: u64,
    /// With `url = "static"`: the instances, `[{address = "http://...", roles = ["catalog"]}]`.
    pub instances: Vec<StaticInstance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticInstance {
    pub address: String,
    pub roles: Vec<String>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            advertise: String::new(),
            ttl_secs: 10,
            instances: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RealtimeConfig {
    /// Messages a WebSocket may have waiting; a client further behind is disconnected (4008).
    pub socket_queue: usize,
    /// Recent messages kept for clients that reconnect with `last_id`...
    pub replay_messages: usize,
    /// ...and for how long, in seconds (at most 600).
    pub replay_window_secs: u64,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            socket_queue: 256,
            replay_messages: 20_000,
            replay_window_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest accepted JSON body, in bytes.
    pub max_json_body_bytes: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Per-request timeout in seconds (streaming excluded once it exists).
    pub request_timeout_secs: u64,
    /// The built web player (`web/dist`); empty: `web/dist` under the working directory, else
    /// the one in the source tree the binary was built from.
    pub web_dir: PathBuf,
    /// Requests a second per client address (0: no limit), and the burst allowed over it.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `beatstream=debug,sqlx=warn`.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:3000".into(),
            data_dir: PathBuf::from("./data"),
            library: Vec::new(),
            roles: Roles::all(),
            database: DatabaseConfig::default(),
            events: EventsConfig::default(),
            storage: StorageConfig::default(),
            auth: AuthConfig::default(),
            catalog: CatalogConfig::default(),
            realtime: RealtimeConfig::default(),
            discovery: DiscoveryConfig::default(),
            http: HttpConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 8,
        }
    }
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            url: "memory://".into(),
            namespace: "beatstream".into(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            open_signup: true,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            login_attempts_per_account_per_minute: 10,
            login_attempts_per_address_per_minute: 60,
            secrets_key_file: String::new(),
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Self {
            artist_separators: strings(&[";", " / ", " feat. ", " feat ", " ft. ", " featuring "]),
            genre_separators: strings(&[";", " / ", "/", ",", "|"]),
            watch: true,
            max_upload_bytes: 1024 * 1024 * 1024,
            ffmpeg: "ffmpeg".into(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_json_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 20,
            request_timeout_secs: 30,
            web_dir: PathBuf::new(),
            rate_limit_per_second: 0,
            rate_limit_burst: 100,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Config {
    /// Builds the configuration from its layers: defaults, `file` (path and text), `env`
    /// (only `BEATSTREAM_*` keys are read), then `cli`.
    pub fn load(
        file: Option<(&Path, &str)>,
        env: &std::collections::HashMap<String, String>,
        cli: &CliOverrides,
    ) -> Result<Self, ConfigError> {
        let config = layers::load(file, env, cli)?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects combinations that cannot work, saying how to fix them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "listen",
                format!("`{}` is not an address such as 127.0.0.1:3000", self.listen),
            ));
        }
        let db = &self.database.url;
        if !(db.is_empty()
            || db.starts_with("sqlite://")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "use sqlite://DIR or postgres://USER@HOST/DB, or leave it empty for SQLite files in data_dir".into(),
            ));
        }
        if self.events.url != "memory://" && !self.events.url.starts_with("nats://") {
            return Err(invalid(
                "events.url",
                "use memory:// (in-process) or nats://HOST:PORT (NATS JetStream)".into(),
            ));
        }
        let ns = &self.events.namespace;
        if ns.is_empty()
            || !ns
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                "events.namespace",
                "use letters, digits, `_` and `-` only (it names a NATS stream)".into(),
            ));
        }
        let discovery = &self.discovery;
        if !(discovery.url.is_empty()
            || discovery.url == "static"
            || discovery.url.starts_with("nats://"))
        {
            return Err(invalid(
                "discovery.url",
                "use \"\" (one process), nats://HOST:PORT or static".into(),
            ));
        }
        if !(2..=3600).contains(&discovery.ttl_secs) {
            return Err(invalid(
                "discovery.ttl_secs",
                "use 2 to 3600 seconds".into(),
            ));
        }
        for instance in &discovery.instances {
            if !instance.address.starts_with("http://") && !instance.address.starts_with("https://")
            {
                return Err(invalid(
                    "discovery.instances",
                    format!(
                        "`{}` is not an address such as http://10.0.0.5:3000",
                        instance.address
                    ),
                ));
            }
            if let Some(role) = instance.roles.iter().find(|r| r.parse::<Role>().is_err()) {
                return Err(invalid(
                    "discovery.instances",
                    format!("unknown role `{role}`: use some of {}", Role::names()),
                ));
            }
        }
        let rt = &self.realtime;
        if !(1..=100_000).contains(&rt.socket_queue) {
            return Err(invalid(
                "realtime.socket_queue",
                "use 1 to 100000 messages".into(),
            ));
        }
        if !(1..=600).contains(&rt.replay_window_secs) {
            return Err(invalid(
                "realtime.replay_window_secs",
                "use 1 to 600 seconds (the live channel keeps messages ten minutes)".into(),
            ));
        }
        let st = &self.storage.url;
        if !(st.is_empty() || st.starts_with("file://") || st.starts_with("s3://")) {
            return Err(invalid(
                "storage.url",
                "use file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX, or leave it empty for data_dir/blobs".into(),
            ));
        }
        if self.roles.is_empty() {
            return Err(invalid(
                "roles",
                format!("name at least one of: {}", Role::names()),
            ));
        }
        if self.auth.access_token_ttl_secs < 30 {
            return Err(invalid(
                "auth.access_token_ttl_secs",
                "must be at least 30 seconds".into(),
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", "use `text` or `json`".into()));
        }
        Ok(())
    }

    /// The local directory blobs live in when `storage.url` is empty.
    pub fn default_blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }
}

#[cfg(test)]
mod tests;
