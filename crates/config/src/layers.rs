//! Layered loading: defaults, file, environment, flags, merged as TOML trees and then checked
//! against the [`Config`] schema in one pass, so every layer gets the same unknown-key errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::Config;

/// Settings given as command-line flags; `None` leaves the lower layers alone.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub library: Vec<PathBuf>,
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("configuration: {0}")]
    Schema(String),
    #[error("setting `{key}`: {message}")]
    Invalid { key: String, message: String },
}

const ENV_PREFIX: &str = "BEATSTREAM_";
/// Environment variables that are not settings: the config file's own path.
const ENV_NOT_SETTINGS: [&str; 1] = ["BEATSTREAM_CONFIG"];
/// Variables for the test suites (`BEATSTREAM_TEST_POSTGRES`, ...), not for the server.
const ENV_TEST_PREFIX: &str = "BEATSTREAM_TEST_";

pub(crate) fn load(
    file: Option<(&Path, &str)>,
    env: &HashMap<String, String>,
    cli: &CliOverrides,
) -> Result<Config, ConfigError> {
    let defaults = Table::try_from(Config::default())
        .map_err(|e| ConfigError::Schema(format!("defaults do not serialize: {e}")))?;
    let mut merged = defaults.clone();

    if let Some((path, text)) = file {
        let table: Table = toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // Check the file alone first so its errors name the file.
        check_schema(&defaults, table.clone()).map_err(|message| ConfigError::File {
            path: path.to_path_buf(),
            message,
        })?;
        merge(&mut merged, table);
    }

    let mut env_vars: Vec<(&String, &String)> = env
        .iter()
        .filter(|(k, _)| {
            k.starts_with(ENV_PREFIX)
                && !k.starts_with(ENV_TEST_PREFIX)
                && !ENV_NOT_SETTINGS.contains(&k.as_str())
        })
        .collect();
    env_vars.sort();
    for (var, raw) in env_vars {
        let path = env_key_path(var);
        let default = lookup(&defaults, &path).ok_or_else(|| ConfigError::Env {
            var: var.clone(),
            message: format!("unknown setting `{}`", path.join(".")),
        })?;
        let value = env_value(default, raw);
        set(&mut merged, &path, value);
    }

    apply_cli(&mut merged, cli);

    Config::deserialize_table(merged).map_err(ConfigError::Schema)
}

impl Config {
    fn deserialize_table(table: Table) -> Result<Config, String> {
        Value::Table(table)
            .try_into::<Config>()
            .map_err(|e| e.to_string().trim().to_string())
    }
}

fn check_schema(defaults: &Table, layer: Table) -> Result<(), String> {
    let mut probe = defaults.clone();
    merge(&mut probe, layer);
    Config::deserialize_table(probe).map(|_| ())
}

/// `BEATSTREAM_AUTH__OPEN_SIGNUP` → `["auth", "open_signup"]`.
fn env_key_path(var: &str) -> Vec<String> {
    var[ENV_PREFIX.len()..]
        .split("__")
        .map(|part| part.to_ascii_lowercase())
        .collect()
}

/// Types an environment value like the default it replaces: lists are comma-separated,
/// numbers and booleans are parsed, anything else stays a string.
fn env_value(default: &Value, raw: &str) -> Value {
    match default {
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Boolean(true),
            "false" | "0" | "no" | "off" => Value::Boolean(false),
            _ => Value::String(raw.to_string()),
        },
        Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(Value::Integer)
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        _ => Value::String(raw.to_string()),
    }
}

fn apply_cli(merged: &mut Table, cli: &CliOverrides) {
    if let Some(listen) = &cli.listen {
        merged.insert("listen".into(), Value::String(listen.clone()));
    }
    if let Some(dir) = &cli.data_dir {
        merged.insert(
            "data_dir".into(),
            Value::String(dir.to_string_lossy().into()),
        );
    }
    if !cli.library.is_empty() {
        let dirs = cli
            .library
            .iter()
            .map(|d| Value::String(d.to_string_lossy().into()))
            .collect();
        merged.insert("library".into(), Value::Array(dirs));
    }
    if let Some(roles) = &cli.roles {
        let roles = roles.iter().map(|r| Value::String(r.clone())).collect();
        merged.insert("roles".into(), Value::Array(roles));
    }
}

fn lookup<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let value = table.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    match value {
        Value::Table(inner) => lookup(inner, rest),
        _ => None,
    }
}

fn set(table: &mut Table, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return;
    }
    let entry = table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(inner) = entry {
        set(inner, rest, value);
    }
}

/// Deep-merges `layer` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Table, layer: Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base_inner)), Value::Table(layer_inner)) => {
                merge(base_inner, layer_inner)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
