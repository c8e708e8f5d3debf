//! `search2` and `search3`: Beatstream's typo-tolerant search, or with an empty query (which
//! clients use to sync a whole library) every artist, album and song, paged.

use serde_json::{json, Value};

use crate::api::{enc, full_albums, full_tracks, page_at};
use crate::model;
use crate::{Call, Failure};

/// The search service answers up to this many of each kind.
const SEARCH_MAX: usize = 100;

pub async fn search(call: &Call<'_>, method: &str) -> Result<Value, Failure> {
    let p = call.params;
    let query = p.get("query").unwrap_or("").trim();
    // Clients send `""` (two quotes) for "everything", some with a `*`.
    let query = query.trim_matches('"').trim_end_matches('*').trim();
    let (artist_count, artist_offset) = (
        p.count("artistCount", 20, 500)?,
        p.count("artistOffset", 0, usize::MAX)?,
    );
    let (album_count, album_offset) = (
        p.count("albumCount", 20, 500)?,
        p.count("albumOffset", 0, usize::MAX)?,
    );
    let (song_count, song_offset) = (
        p.count("songCount", 20, 500)?,
        p.count("songOffset", 0, usize::MAX)?,
    );
    let (artists, albums, songs) = if query.is_empty() {
        let take = |path: &'static str, offset, count| async move {
            if count == 0 {
                Ok(Vec::new())
            } else {
                page_at(&call.api, path, offset, count).await
            }
        };
        (
            take("/api/v1/artists?", artist_offset, artist_count).await?,
            take("/api/v1/albums?sort=name", album_offset, album_count).await?,
            take("/api/v1/tracks?", song_offset, song_count).await?,
        )
    } else {
        let most = (artist_offset + artist_count)
            .max(album_offset + album_count)
            .max(song_offset + song_count)
            .clamp(1, SEARCH_MAX);
        let found = call
            .api
            .get(&format!(
                "/api/v1/search?types=artist,album,track&limit={most}&q={}",
                enc(query)
            ))
            .await?;
        let part = |key: &str, offset: usize, count: usize| -> Vec<Value> {
            found[key]["items"]
                .as_array()
                .map(|l| l.iter().skip(offset).take(count).cloned().collect())
                .unwrap_or_default()
        };
        (
            part("artists", artist_offset, artist_count),
            full_albums(&call.api, part("albums", album_offset, album_count)).await?,
            full_tracks(&call.api, part("tracks", song_offset, song_count)).await?,
        )
    };
    let result = json!({
        "artist": artists.iter().map(model::artist).collect::<Vec<_>>(),
        "album": albums.iter().map(model::album).collect::<Vec<_>>(),
        "song": songs.iter().map(model::song).collect::<Vec<_>>(),
    });
    let key = if method == "search2" {
        "searchResult2"
    } else {
        "searchResult3"
    };
    Ok(json!({ key: result }))
}
