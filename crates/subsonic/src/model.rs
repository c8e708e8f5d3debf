//! Beatstream's JSON (catalog, playlists and library replies) in Subsonic's shapes: songs
//! (`Child`), `AlbumID3`, `ArtistID3` and playlists, with the OpenSubsonic fields typed clients
//! check (`artists`, `genres`, `displayArtist`, `musicBrainzId`, `replayGain`, `mediaType`).
//! Track replies from the catalog and from the playlists service's read model differ a little;
//! every field is read leniently.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

/// What the caller starred (with when) and rated, by id.
#[derive(Default)]
pub struct Marks {
    pub starred: HashMap<String, String>,
    pub ratings: HashMap<String, i64>,
}

impl Marks {
    pub fn mark(&self, object: &mut Map<String, Value>, id: &str) {
        if let Some(at) = self.starred.get(id) {
            object.insert("starred".into(), at.clone().into());
        }
        if let Some(rating) = self.ratings.get(id) {
            object.insert("userRating".into(), (*rating).into());
        }
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn seconds(ms: &Value) -> i64 {
    (ms.as_i64().unwrap_or(0) + 500) / 1000
}

/// `[{id, name}]` as OpenSubsonic's `artists` and the display string.
fn artist_refs(value: &Value) -> (Vec<Value>, String) {
    let refs: Vec<Value> = value
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| json!({"id": text(&a["id"]), "name": text(&a["name"])}))
                .collect()
        })
        .unwrap_or_default();
    let display = refs
        .iter()
        .map(|a| text(&a["name"]))
        .collect::<Vec<_>>()
        .join(", ");
    (refs, display)
}

fn genres(value: &Value) -> (Vec<Value>, Option<String>) {
    let names: Vec<String> = value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|g| g.as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let first = names.first().cloned();
    (
        names.into_iter().map(|n| json!({"name": n})).collect(),
        first,
    )
}

/// The MIME type and file suffix of a Beatstream `format`.
pub fn content_type(format: &str) -> (&'static str, &'static str) {
    match format {
        "mp3" => ("audio/mpeg", "mp3"),
        "flac" => ("audio/flac", "flac"),
        "ogg" => ("audio/ogg", "ogg"),
        "opus" => ("audio/ogg", "opus"),
        "m4a" | "alac" => ("audio/mp4", "m4a"),
        "aac" => ("audio/aac", "aac"),
        "wav" => ("audio/wav", "wav"),
        "aiff" => ("audio/aiff", "aiff"),
        "ape" => ("audio/x-ape", "ape"),
        "wv" => ("audio/x-wavpack", "wv"),
        "mpc" => ("audio/x-musepack", "mpc"),
        _ => ("application/octet-stream", "bin"),
    }
}

/// Keeps a name usable as a path segment.
fn segment(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.trim().is_empty() {
        "Unknown".into()
    } else {
        cleaned
    }
}

/// A track as a Subsonic song.
pub fn song(track: &Value) -> Value {
    let id = text(&track["id"]);
    let (artists, display_artist) = artist_refs(&track["artists"]);
    let (album_artists, display_album_artist) = artist_refs(&track["album_artists"]);
    let (genre_list, genre) = genres(&track["genres"]);
    let album_id = text(&track["album"]["id"]);
    let album = text(&track["album"]["title"]);
    let format = text(&track["format"]);
    let (mime, suffix) = content_type(&format);
    let title = text(&track["title"]);
    let mut song = Map::new();
    // A tidy relative path, built from the tags (never the server's own path).
    let number = track["track_number"].as_i64();
    let path = format!(
        "{}/{}/{}{}.{}",
        segment(if display_album_artist.is_empty() {
            &display_artist
        } else {
            &display_album_artist
        }),
        segment(&album),
        number.map(|n| format!("{n:02} - ")).unwrap_or_default(),
        segment(&title),
        suffix
    );
    for (key, value) in [
        ("id", json!(id)),
        ("parent", json!(album_id)),
        ("isDir", json!(false)),
        ("title", json!(title)),
        ("album", json!(album)),
        ("artist", json!(display_artist)),
        ("displayArtist", json!(display_artist)),
        ("artists", json!(artists)),
        ("displayAlbumArtist", json!(display_album_artist)),
        ("albumArtists", json!(album_artists)),
        ("coverArt", json!(album_id)),
        ("albumId", json!(album_id)),
        ("duration", json!(seconds(&track["duration_ms"]))),
        ("contentType", json!(mime)),
        ("suffix", json!(suffix)),
        ("path", json!(path)),
        ("type", json!("music")),
        ("mediaType", json!("song")),
        ("isVideo", json!(false)),
        ("genres", json!(genre_list)),
        ("bpm", json!(0)),
        ("comment", json!("")),
        ("sortName", json!("")),
        ("musicBrainzId", json!("")),
        ("channelCount", track["channels"].clone()),
        ("samplingRate", track["sample_rate"].clone()),
        ("bitRate", track["bitrate_kbps"].clone()),
        ("size", track["size_bytes"].clone()),
        ("track", track["track_number"].clone()),
        ("discNumber", track["disc_number"].clone()),
        ("year", track["year"].clone()),
        ("created", track["created_at"].clone()),
    ] {
        if !value.is_null() {
            song.insert(key.into(), value);
        }
    }
    if let Some(first) = track["artists"].get(0) {
        song.insert("artistId".into(), json!(text(&first["id"])));
    }
    if let Some(genre) = genre {
        song.insert("genre".into(), json!(genre));
    }
    let gain = &track["replay_gain"];
    let mut replay_gain = Map::new();
    if let Some(g) = gain["track_gain_db"].as_f64() {
        replay_gain.insert("trackGain".into(), json!(g));
    }
    if let Some(g) = gain["album_gain_db"].as_f64() {
        replay_gain.insert("albumGain".into(), json!(g));
    }
    song.insert("replayGain".into(), Value::Object(replay_gain));
    Value::Object(song)
}

/// An album as a Subsonic `AlbumID3` (without its songs).
pub fn album(album: &Value) -> Value {
    let id = text(&album["id"]);
    let (artists, display) = artist_refs(&album["artists"]);
    let (genre_list, genre) = genres(&album["genres"]);
    let mut out = Map::new();
    for (key, value) in [
        ("id", json!(id)),
        ("name", json!(text(&album["title"]))),
        ("title", json!(text(&album["title"]))),
        ("album", json!(text(&album["title"]))),
        ("isDir", json!(true)),
        ("artist", json!(display)),
        ("displayArtist", json!(display)),
        ("artists", json!(artists)),
        (
            "songCount",
            json!(album["track_count"].as_i64().unwrap_or(0)),
        ),
        ("duration", json!(seconds(&album["duration_ms"]))),
        ("created", album["created_at"].clone()),
        ("year", album["year"].clone()),
        ("genres", json!(genre_list)),
        (
            "isCompilation",
            json!(album["compilation"].as_bool().unwrap_or(false)),
        ),
        (
            "musicBrainzId",
            json!(album["mb_album_id"].as_str().unwrap_or("")),
        ),
        ("sortName", json!("")),
        ("mediaType", json!("album")),
    ] {
        if !value.is_null() {
            out.insert(key.into(), value);
        }
    }
    if let Some(first) = album["artists"].get(0) {
        out.insert("artistId".into(), json!(text(&first["id"])));
        out.insert("parent".into(), json!(text(&first["id"])));
    }
    if let Some(genre) = genre {
        out.insert("genre".into(), json!(genre));
    }
    if !album["cover_url"].is_null() {
        out.insert("coverArt".into(), json!(id));
    }
    Value::Object(out)
}

/// An artist as a Subsonic `ArtistID3` (without its albums).
pub fn artist(artist: &Value) -> Value {
    let id = text(&artist["id"]);
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert("name".into(), json!(text(&artist["name"])));
    out.insert("coverArt".into(), json!(id));
    out.insert(
        "albumCount".into(),
        json!(artist["album_count"].as_i64().unwrap_or(0)),
    );
    out.insert(
        "musicBrainzId".into(),
        json!(artist["mb_artist_id"].as_str().unwrap_or("")),
    );
    out.insert("sortName".into(), json!(""));
    out.insert("roles".into(), json!(["artist"]));
    Value::Object(out)
}

/// A playlist as a Subsonic playlist (without its entries), as `me` sees it: read-only unless
/// they own it or collaborate on it.
pub fn playlist(playlist: &Value, me: &str) -> Value {
    let collaborators: Vec<Value> = playlist["collaborators"]
        .as_array()
        .map(|list| list.iter().map(|u| json!(text(&u["username"]))).collect())
        .unwrap_or_default();
    let owner = text(&playlist["owner"]["username"]);
    let editable = owner.eq_ignore_ascii_case(me)
        || collaborators
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.eq_ignore_ascii_case(me)));
    json!({
        "id": text(&playlist["id"]),
        // getCoverArt takes a playlist id: its first song's album cover.
        "coverArt": text(&playlist["id"]),
        "name": text(&playlist["name"]),
        "comment": text(&playlist["description"]),
        "owner": owner,
        "public": playlist["public"].as_bool().unwrap_or(false),
        "readonly": !editable,
        "songCount": playlist["track_count"].as_i64().unwrap_or(0),
        "duration": seconds(&playlist["duration_ms"]),
        "created": playlist["created_at"].clone(),
        "changed": playlist["updated_at"].clone(),
        "allowedUser": collaborators,
    })
}

/// The first letter a name is indexed under (`#` for anything not a letter).
pub fn index_letter(name: &str) -> String {
    let trimmed = name.trim_start();
    let without_article = ["The ", "A ", "An "]
        .iter()
        .find_map(|a| {
            trimmed
                .get(..a.len())
                .filter(|p| p.eq_ignore_ascii_case(a))
                .map(|_| &trimmed[a.len()..])
        })
        .unwrap_or(trimmed);
    match without_article.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_track_becomes_a_song_with_opensubsonic_fields() {
        let track = json!({"id": "t1", "title": "Hey / You", "artists": [{"id": "a1", "name": "A"}, {"id": "a2", "name": "B"}],
            "album": {"id": "al1", "title": "Al"}, "album_artists": [{"id": "a1", "name": "A"}], "track_number": 3,
            "disc_number": 1, "duration_ms": 61_600, "year": 1999, "genres": ["Rock", "Pop"], "format": "flac",
            "bitrate_kbps": 900, "size_bytes": 1234, "replay_gain": {"track_gain_db": -6.5, "album_gain_db": null},
            "created_at": "2026-01-01T00:00:00.000Z"});
        let mut song = song(&track);
        let mut marks = Marks::default();
        marks
            .starred
            .insert("t1".into(), "2026-02-02T00:00:00.000Z".into());
        marks.ratings.insert("t1".into(), 4);
        marks.mark(song.as_object_mut().unwrap(), "t1");
        assert_eq!(song["displayArtist"], "A, B");
        assert_eq!(song["artists"][1]["id"], "a2");
        assert_eq!(song["duration"], 62);
        assert_eq!(song["genre"], "Rock");
        assert_eq!(song["genres"][1]["name"], "Pop");
        assert_eq!(
            (song["contentType"].as_str(), song["suffix"].as_str()),
            (Some("audio/flac"), Some("flac"))
        );
        assert_eq!(song["path"], "A/Al/03 - Hey _ You.flac");
        assert_eq!(song["replayGain"], json!({"trackGain": -6.5}));
        assert_eq!(song["mediaType"], "song");
        assert_eq!(song["starred"], "2026-02-02T00:00:00.000Z");
        assert_eq!(song["userRating"], 4);
    }

    #[test]
    fn names_index_under_their_first_letter_without_articles() {
        assert_eq!(index_letter("The Beatles"), "B");
        assert_eq!(index_letter("abba"), "A");
        assert_eq!(index_letter("2Pac"), "#");
        assert_eq!(index_letter("Élan"), "É");
        assert_eq!(index_letter(""), "#");
    }
}
