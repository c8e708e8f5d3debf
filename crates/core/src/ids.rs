//! Opaque string ids as newtypes, so a `UserId` can never be passed where a `TrackId` belongs.
//! New ids are UUIDv7 (time-ordered, so they index well); any string is accepted from storage
//! and clients, since ids are opaque to them.

/// Declares an id newtype over `String` with serde, display and generation.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A new, unique, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// A user account, shared by the auth and users services.
    UserId
);

/// Ids given as one comma-separated value (`?ids=a,b,c`): trimmed, empty ones skipped, in the
/// order given.
pub fn comma_separated(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_ordered() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert_ne!(a, b);
        assert!(a < b, "UUIDv7 ids sort by creation time");
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = UserId("abc".into());
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
    }
}
