//! From the read models to index documents: a track as it is, an album and an artist gathered
//! from their tracks, a playlist as its last event described it. The same code serves one
//! entry (after an event) and a whole rebuild.

use std::collections::{BTreeSet, HashMap};

use beatstream_events::catalog::{NamedRef, TrackSummary};
use beatstream_events::playlists::PlaylistChanged;
use serde::Serialize;
use serde_json::json;
use tantivy::TantivyDocument;

use crate::schema::{access_of_user, Fields, Kind};
use crate::text;

/// What the index holds of one entry before it becomes a document.
#[derive(Debug, Default)]
pub struct Entry {
    pub key: String,
    pub kind: Option<Kind>,
    pub name: String,
    pub other: Vec<String>,
    pub artists: Vec<String>,
    pub albums: Vec<String>,
    pub genres: Vec<String>,
    pub year: Option<i64>,
    /// A private playlist's members; empty for everything anyone may find.
    pub access: Vec<String>,
    pub plays: u64,
    pub body: String,
}

impl Entry {
    pub fn into_document(self, fields: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.key, &self.key);
        if let Some(kind) = self.kind {
            doc.add_text(fields.kind, kind.as_str());
            doc.add_u64(fields.kind_code, kind.code());
        }
        let name_words = text::words(&self.name);
        doc.add_u64(fields.name_words, name_words.len() as u64);
        doc.add_text(fields.name_prefix, text::prefixes(&name_words).join(" "));
        doc.add_text(fields.name, &self.name);
        doc.add_text(fields.all, &self.name);
        let mut other_words = Vec::new();
        for other in &self.other {
            doc.add_text(fields.other, other);
            doc.add_text(fields.all, other);
            other_words.extend(text::words(other));
        }
        doc.add_text(fields.other_prefix, text::prefixes(&other_words).join(" "));
        other_words.extend(name_words);
        doc.add_text(fields.all_prefix, text::prefixes(&other_words).join(" "));
        for artist in &self.artists {
            doc.add_text(fields.artist, artist);
        }
        for album in &self.albums {
            doc.add_text(fields.album, album);
        }
        for genre in &self.genres {
            doc.add_text(fields.genre, genre);
        }
        if let Some(year) = self.year {
            doc.add_i64(fields.year, year);
        }
        doc.add_u64(fields.private, u64::from(!self.access.is_empty()));
        for access in &self.access {
            doc.add_text(fields.access, access);
        }
        doc.add_u64(fields.plays, self.plays);
        doc.add_text(fields.body, &self.body);
        doc
    }
}

#[derive(Serialize)]
struct ArtistRef<'a> {
    id: &'a str,
    name: &'a str,
}

fn refs(named: &[NamedRef]) -> Vec<ArtistRef<'_>> {
    named
        .iter()
        .map(|n| ArtistRef {
            id: &n.id,
            name: &n.name,
        })
        .collect()
}

fn names(named: &[NamedRef]) -> Vec<String> {
    named.iter().map(|n| n.name.clone()).collect()
}

pub fn track(track: &TrackSummary, plays: u64) -> Entry {
    let body = track.api_json();
    let mut artists = names(&track.artists);
    for artist in &track.album_artists {
        if !artists.contains(&artist.name) {
            artists.push(artist.name.clone());
        }
    }
    let mut other = artists.clone();
    other.push(track.album.name.clone());
    Entry {
        key: Kind::Track.key(&track.track_id),
        kind: Some(Kind::Track),
        name: track.title.clone(),
        other,
        artists,
        albums: vec![track.album.name.clone()],
        genres: track.genres.clone(),
        year: track.year,
        access: Vec::new(),
        plays,
        body: body.to_string(),
    }
}

/// An album or artist gathered from its tracks, in any order.
#[derive(Debug, Default)]
pub struct Gathered {
    pub id: String,
    pub name: String,
    /// An album's artists (its album artists, or its tracks' artists where none are tagged).
    pub artists: Vec<NamedRef>,
    pub albums: BTreeSet<String>,
    pub album_titles: Vec<String>,
    pub genres: Vec<String>,
    pub year: Option<i64>,
    pub track_count: i64,
    pub duration_ms: i64,
    pub plays: u64,
}

impl Gathered {
    fn add_genres(&mut self, genres: &[String]) {
        for genre in genres {
            if !self.genres.iter().any(|g| g.eq_ignore_ascii_case(genre)) {
                self.genres.push(genre.clone());
            }
        }
    }

    fn add_common(&mut self, track: &TrackSummary, plays: u64) {
        self.track_count += 1;
        self.duration_ms += track.duration_ms;
        self.plays += plays;
        self.add_genres(&track.genres);
        if let Some(year) = track.year {
            self.year = Some(self.year.map_or(year, |y| y.min(year)));
        }
    }

    pub fn add_to_album(&mut self, track: &TrackSummary, plays: u64) {
        if self.id.is_empty() {
            self.id = track.album.id.clone();
            self.name = track.album.name.clone();
        }
        let artists = if track.album_artists.is_empty() {
            &track.artists
        } else {
            &track.album_artists
        };
        for artist in artists {
            if !self.artists.iter().any(|a| a.id == artist.id) {
                self.artists.push(artist.clone());
            }
        }
        self.add_common(track, plays);
    }

    pub fn add_to_artist(&mut self, artist: &NamedRef, track: &TrackSummary, plays: u64) {
        if self.id.is_empty() {
            self.id = artist.id.clone();
            self.name = artist.name.clone();
        }
        if self.albums.insert(track.album.id.clone()) {
            self.album_titles.push(track.album.name.clone());
        }
        self.add_common(track, plays);
    }

    pub fn album_entry(&self) -> Entry {
        let body = json!({
            "id": self.id,
            "title": self.name,
            "artists": refs(&self.artists),
            "year": self.year,
            "genres": self.genres,
            "track_count": self.track_count,
            "duration_ms": self.duration_ms,
        });
        let artists = names(&self.artists);
        Entry {
            key: Kind::Album.key(&self.id),
            kind: Some(Kind::Album),
            name: self.name.clone(),
            other: artists.clone(),
            artists,
            albums: vec![self.name.clone()],
            genres: self.genres.clone(),
            year: self.year,
            access: Vec::new(),
            plays: self.plays,
            body: body.to_string(),
        }
    }

    pub fn artist_entry(&self) -> Entry {
        let body = json!({
            "id": self.id,
            "name": self.name,
            "album_count": self.albums.len(),
            "track_count": self.track_count,
            "genres": self.genres,
        });
        Entry {
            key: Kind::Artist.key(&self.id),
            kind: Some(Kind::Artist),
            name: self.name.clone(),
            other: Vec::new(),
            artists: vec![self.name.clone()],
            albums: self.album_titles.clone(),
            genres: self.genres.clone(),
            year: None,
            access: Vec::new(),
            plays: self.plays,
            body: body.to_string(),
        }
    }
}

/// Every artist a track names (as a track or album artist), each once.
pub fn artists_of(track: &TrackSummary) -> Vec<&NamedRef> {
    let mut out: Vec<&NamedRef> = Vec::new();
    for artist in track.artists.iter().chain(&track.album_artists) {
        if !artist.id.is_empty() && !out.iter().any(|a| a.id == artist.id) {
            out.push(artist);
        }
    }
    out
}

/// Albums and artists gathered from a stream of tracks (a rebuild).
#[derive(Default)]
pub struct Gatherer {
    pub albums: HashMap<String, Gathered>,
    pub artists: HashMap<String, Gathered>,
}

impl Gatherer {
    pub fn add(&mut self, track: &TrackSummary, plays: u64) {
        if !track.album.id.is_empty() {
            self.albums
                .entry(track.album.id.clone())
                .or_default()
                .add_to_album(track, plays);
        }
        for artist in artists_of(track) {
            self.artists
                .entry(artist.id.clone())
                .or_default()
                .add_to_artist(artist, track, plays);
        }
    }
}

pub fn playlist(playlist: &PlaylistChanged) -> Entry {
    let body = json!({
        "id": playlist.playlist_id,
        "name": playlist.name,
        "description": playlist.description,
        "owner": {"id": playlist.owner_id, "username": playlist.owner_username},
        "public": playlist.public,
        "collaborative": playlist.collaborative,
        "track_count": playlist.track_count,
        "duration_ms": playlist.duration_ms,
        "version": playlist.version,
    });
    let mut access = Vec::new();
    if !playlist.public {
        access.push(access_of_user(playlist.owner_id.as_str()));
        access.extend(
            playlist
                .collaborators
                .iter()
                .map(|c| access_of_user(c.as_str())),
        );
    }
    Entry {
        key: Kind::Playlist.key(&playlist.playlist_id),
        kind: Some(Kind::Playlist),
        name: playlist.name.clone(),
        other: vec![
            playlist.owner_username.clone(),
            playlist.description.clone(),
        ],
        access,
        body: body.to_string(),
        ..Entry::default()
    }
}
