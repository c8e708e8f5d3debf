//! The catalog's domain types: no SQL, no HTTP.

use beatstream_core::Timestamp;
use sha2::{Digest, Sha256};

use crate::format::AudioFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtistRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRef>,
    pub album: AlbumRef,
    pub album_artists: Vec<ArtistRef>,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub year: Option<i64>,
    pub genres: Vec<String>,
    pub duration_ms: i64,
    pub bitrate_kbps: Option<i64>,
    pub sample_rate: Option<i64>,
    pub channels: Option<i64>,
    pub format: AudioFormat,
    pub size: i64,
    pub mtime: i64,
    pub mb_recording_id: Option<String>,
    pub rg_track_gain: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub has_lyrics: bool,
    pub created_at: Timestamp,
}

impl Track {
    /// The track as events carry it; `path` is relative to its library folder.
    pub fn summary(self, path: String) -> beatstream_events::catalog::TrackSummary {
        use beatstream_events::catalog::{NamedRef, TrackSummary};
        let named = |r: ArtistRef| NamedRef {
            id: r.id,
            name: r.name,
        };
        TrackSummary {
            track_id: self.id,
            title: self.title,
            artists: self.artists.into_iter().map(named).collect(),
            album: NamedRef {
                id: self.album.id,
                name: self.album.title,
            },
            album_artists: self.album_artists.into_iter().map(named).collect(),
            genres: self.genres,
            year: self.year,
            track_number: self.track_number,
            disc_number: self.disc_number,
            duration_ms: self.duration_ms,
            format: self.format.as_str().to_string(),
            bitrate_kbps: self.bitrate_kbps,
            path,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Album {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRef>,
    pub year: Option<i64>,
    pub genres: Vec<String>,
    pub track_count: i64,
    pub duration_ms: i64,
    pub compilation: bool,
    pub mb_album_id: Option<String>,
    pub has_cover: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Artist {
    pub id: String,
    pub name: String,
    pub album_count: i64,
    pub track_count: i64,
    pub mb_artist_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genre {
    pub name: String,
    pub track_count: i64,
    pub album_count: i64,
}

/// Where a track's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackSource {
    /// A file in a library folder.
    File(std::path::PathBuf),
    /// An upload in blob storage.
    Blob(String),
}

/// How album lists are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlbumSort {
    Name,
    Newest,
    Year,
}

/// Names compare without case or repeated spaces: "The  Beatles" and "the beatles" are one.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A sort key: case-folded, a leading "The " or "A " ignored, as record shops file them.
pub fn sort_key(name: &str) -> String {
    let key = name_key(name);
    for article in ["the ", "a ", "an "] {
        if let Some(rest) = key.strip_prefix(article) {
            if !rest.is_empty() {
                return rest.to_string();
            }
        }
    }
    key
}

/// Ids derived from identity, so the same artist or album gets the same id on every scan.
pub fn derived_id(kind: &str, identity: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\u{1f}{identity}").as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn artist_id(name: &str) -> String {
    derived_id("artist", &name_key(name))
}

/// Albums are one per MusicBrainz release where there is one, else per album artists + title.
pub fn album_identity(title: &str, album_artists: &[String], mb_album_id: Option<&str>) -> String {
    match mb_album_id {
        Some(mbid) if !mbid.trim().is_empty() => format!("mb:{}", mbid.trim().to_lowercase()),
        _ => {
            let artists: Vec<String> = album_artists.iter().map(|a| name_key(a)).collect();
            format!("{}\u{1e}{}", artists.join("\u{1d}"), name_key(title))
        }
    }
}

pub fn album_id(identity: &str) -> String {
    derived_id("album", identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_identity_not_spelling_of_case_or_spaces() {
        assert_eq!(artist_id("The  Beatles"), artist_id("the beatles"));
        assert_ne!(artist_id("Björk"), artist_id("Bjork"));
    }

    #[test]
    fn albums_with_one_title_stay_apart_by_album_artist() {
        let a = album_identity("Greatest Hits", &["Queen".into()], None);
        let b = album_identity("Greatest Hits", &["ABBA".into()], None);
        assert_ne!(album_id(&a), album_id(&b));
        let mb1 = album_identity("X", &["A".into()], Some("ABC"));
        let mb2 = album_identity("X (Deluxe)", &["B".into()], Some("abc"));
        assert_eq!(mb1, mb2, "one MusicBrainz release is one album");
    }

    #[test]
    fn sort_keys_ignore_leading_articles() {
        assert_eq!(sort_key("The Beatles"), "beatles");
        assert_eq!(sort_key("The"), "the");
        assert_eq!(sort_key("Abba"), "abba");
    }
}
