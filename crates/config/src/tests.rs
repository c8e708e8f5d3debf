use std::collections::HashMap;
use std::path::Path;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(
    file: Option<&str>,
    env_pairs: &[(&str, &str)],
    cli: CliOverrides,
) -> Result<Config, ConfigError> {
    Config::load(
        file.map(|t| (Path::new("beatstream.toml"), t)),
        &env(env_pairs),
        &cli,
    )
}

#[test]
fn no_config_gives_embedded_defaults() {
    let config = load(None, &[], CliOverrides::default()).unwrap();
    assert_eq!(config.listen, "127.0.0.1:3000");
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(config.events.url, "memory://");
    assert!(config.database.url.is_empty());
    assert_eq!(config.roles, Roles::all());
    assert!(config.auth.open_signup);
}

#[test]
fn layers_override_in_order_file_env_flags() {
    let file = r#"
        listen = "127.0.0.1:4000"
        data_dir = "/srv/file"
        [auth]
        open_signup = false
        access_token_ttl_secs = 600
    "#;
    let config = load(
        Some(file),
        &[
            ("BEATSTREAM_DATA_DIR", "/srv/env"),
            ("BEATSTREAM_AUTH__ACCESS_TOKEN_TTL_SECS", "120"),
        ],
        CliOverrides {
            data_dir: Some("/srv/flag".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(config.listen, "127.0.0.1:4000", "file beats default");
    assert!(!config.auth.open_signup, "file beats default");
    assert_eq!(config.auth.access_token_ttl_secs, 120, "env beats file");
    assert_eq!(
        config.data_dir,
        PathBuf::from("/srv/flag"),
        "flag beats env"
    );
}

#[test]
fn unknown_key_in_file_is_named() {
    let err = load(
        Some("[auth]\nopen_sigup = true\n"),
        &[],
        CliOverrides::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("open_sigup"), "{message}");
    assert!(message.contains("beatstream.toml"), "{message}");
}

#[test]
fn unknown_top_level_key_in_file_is_named() {
    let err = load(Some("lisen = \"x\"\n"), &[], CliOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("lisen"), "{err}");
}

#[test]
fn unknown_env_key_is_named() {
    let err = load(
        None,
        &[("BEATSTREAM_AUTH__OPEN", "1")],
        CliOverrides::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("BEATSTREAM_AUTH__OPEN"), "{message}");
    assert!(message.contains("auth.open"), "{message}");
}

#[test]
fn other_env_vars_are_ignored() {
    let config = load(
        None,
        &[
            ("HOME", "/root"),
            ("BEATSTREAM_CONFIG", "x.toml"),
            ("BEATSTREAM_TEST_POSTGRES", "postgres://x"),
        ],
        CliOverrides::default(),
    );
    assert!(config.is_ok());
}

#[test]
fn env_lists_are_comma_separated() {
    let config = load(
        None,
        &[
            ("BEATSTREAM_LIBRARY", "/music/a, /music/b"),
            ("BEATSTREAM_ROLES", "users,auth"),
        ],
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.library,
        vec![PathBuf::from("/music/a"), PathBuf::from("/music/b")]
    );
    assert!(config.roles.contains(Role::Auth) && config.roles.contains(Role::Users));
}

#[test]
fn env_value_of_wrong_type_is_an_error() {
    let err = load(
        None,
        &[("BEATSTREAM_AUTH__OPEN_SIGNUP", "maybe")],
        CliOverrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("open_signup") || err.to_string().contains("bool"),
        "{err}"
    );
}

#[test]
fn roles_select_services_and_reject_unknown_ones() {
    let config = load(
        None,
        &[],
        CliOverrides {
            roles: Some(vec!["users".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(config.roles.contains(Role::Users));
    assert!(!config.roles.contains(Role::Auth));

    let err = load(Some("roles = [\"autth\"]"), &[], CliOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("autth"), "{err}");
}

#[test]
fn bad_backend_urls_explain_the_fix() {
    let err = load(
        None,
        &[("BEATSTREAM_EVENTS__URL", "kafka://x")],
        CliOverrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nats://"), "{err}");
    let err = load(
        Some("[database]\nurl = \"mysql://x\""),
        &[],
        CliOverrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("postgres://"), "{err}");
}

#[test]
fn realtime_limits_are_read_and_checked() {
    let config = load(
        Some("[realtime]\nsocket_queue = 64"),
        &[("BEATSTREAM_REALTIME__REPLAY_WINDOW_SECS", "60")],
        CliOverrides::default(),
    )
    .unwrap();
    assert_eq!(
        (
            config.realtime.socket_queue,
            config.realtime.replay_window_secs
        ),
        (64, 60)
    );
    let err = load(
        Some("[realtime]\nreplay_window_secs = 3600"),
        &[],
        CliOverrides::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("realtime.replay_window_secs"),
        "{err}"
    );
    let err = load(
        Some("[realtime]\nsocket_queue = 0"),
        &[],
        CliOverrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("realtime.socket_queue"), "{err}");
}

#[test]
fn malformed_toml_names_the_file() {
    let err = load(Some("listen = "), &[], CliOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("beatstream.toml"), "{err}");
}

#[test]
fn checked_in_example_config_matches_the_schema() {
    let text = include_str!("../../../beatstream.example.toml");
    let config = load(Some(text), &[], CliOverrides::default()).unwrap();
    assert_eq!(
        config,
        Config::default(),
        "beatstream.example.toml drifted from the defaults"
    );
}
