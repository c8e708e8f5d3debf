//! Which services one process runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A service a process can run. New services add a variant here and a wiring function in the
/// server crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Auth,
    Users,
    Catalog,
    /// Playlists and the listener's library (likes, plays).
    Playlists,
    /// Search over tracks, albums, artists and playlists.
    Search,
    /// Recommendations and radio.
    Recommendations,
    /// Live updates over WebSockets, devices and remote control.
    Realtime,
    /// No service of its own: the public entry point of a split deployment, forwarding every
    /// route to the instances of its service (needs service discovery).
    Gateway,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Auth,
        Role::Users,
        Role::Catalog,
        Role::Playlists,
        Role::Search,
        Role::Recommendations,
        Role::Realtime,
        Role::Gateway,
    ];

    /// Whether the role is a service (with routes and tables), not the gateway.
    pub fn is_service(self) -> bool {
        self != Role::Gateway
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Auth => "auth",
            Role::Users => "users",
            Role::Catalog => "catalog",
            Role::Playlists => "playlists",
            Role::Search => "search",
            Role::Recommendations => "recommendations",
            Role::Realtime => "realtime",
            Role::Gateway => "gateway",
        }
    }

    /// `auth, users`: for error messages.
    pub fn names() -> String {
        Self::ALL.map(Role::as_str).join(", ")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s.trim())
            .ok_or_else(|| format!("unknown role `{s}`: use `all` or some of {}", Role::names()))
    }
}

/// A set of roles; `all` (the default) stands for every role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn all() -> Self {
        Roles(Role::ALL.to_vec())
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Parses names such as `["auth", "users"]` or `["all"]`.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut roles = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            if name == "all" {
                return Ok(Self::all());
            }
            if name.is_empty() {
                continue;
            }
            let role = name.parse::<Role>()?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles.sort();
        Ok(Roles(roles))
    }
}

impl Serialize for Roles {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = self.0.iter().map(|r| r.as_str()).collect();
        names.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Roles::parse(&names).map_err(serde::de::Error::custom)
    }
}
