//! Command-line flags. Flags are the last configuration layer; see `beatstream_config`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use beatstream_config::{CliOverrides, Config};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "beatstream",
    version,
    about = "Beatstream: a music streaming server for your own music"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the services (all of them by default) and serve HTTP.
    Serve(ConfigArgs),
    /// Apply database migrations for the selected services, then exit.
    Migrate(ConfigArgs),
    /// Scan the library folders once, with a progress bar, then exit.
    Scan(ConfigArgs),
    /// Search index maintenance.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the search index from the catalog. A running server does it (and keeps
    /// answering from the old index meanwhile); otherwise this command does.
    Reindex(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// A TOML config file (see beatstream.example.toml).
    #[arg(long, env = "BEATSTREAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long)]
    pub listen: Option<String>,
    /// Folder for databases, indexes, caches and uploads [default: ./data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A music folder to scan (repeatable).
    #[arg(long)]
    pub library: Vec<PathBuf>,
    /// Services to run, comma-separated (`all`, or some of: auth, users, catalog, playlists,
    /// search, recommendations, realtime).
    #[arg(long, value_delimiter = ',')]
    pub roles: Option<Vec<String>>,
}

impl Cli {
    fn config_args(&self) -> &ConfigArgs {
        match &self.command {
            Command::Serve(args)
            | Command::Migrate(args)
            | Command::Scan(args)
            | Command::Search {
                command: SearchCommand::Reindex(args),
            } => args,
        }
    }

    pub fn load_config(&self) -> anyhow::Result<Config> {
        let args = self.config_args();
        let file_text = match &args.config {
            Some(path) => Some((
                path.clone(),
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?,
            )),
            None => None,
        };
        let env: HashMap<String, String> = std::env::vars().collect();
        let overrides = CliOverrides {
            listen: args.listen.clone(),
            data_dir: args.data_dir.clone(),
            library: args.library.clone(),
            roles: args.roles.clone(),
        };
        let file = file_text
            .as_ref()
            .map(|(path, text)| (path.as_path(), text.as_str()));
        Ok(Config::load(file, &env, &overrides)?)
    }
}
