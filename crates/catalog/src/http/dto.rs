//! Response and query shapes of the catalog routes.

use beatstream_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::model::{Album, AlbumRef, Artist, ArtistRef, Genre, Track};
use crate::scan::{ScanProblem, ScanReport, ScanState};
use crate::signing::UrlSigner;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtistRefDto {
    pub id: String,
    pub name: String,
}

impl From<&ArtistRef> for ArtistRefDto {
    fn from(a: &ArtistRef) -> Self {
        ArtistRefDto {
            id: a.id.clone(),
            name: a.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlbumRefDto {
    pub id: String,
    pub title: String,
}

impl From<&AlbumRef> for AlbumRefDto {
    fn from(a: &AlbumRef) -> Self {
        AlbumRefDto {
            id: a.id.clone(),
            title: a.title.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplayGainDto {
    pub track_gain_db: Option<f64>,
    pub album_gain_db: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackDto {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRefDto>,
    pub album: AlbumRefDto,
    pub album_artists: Vec<ArtistRefDto>,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub duration_ms: i64,
    pub year: Option<i64>,
    pub genres: Vec<String>,
    /// `mp3`, `flac`, `ogg`, `opus`, `m4a` (AAC in MP4), `alac` (Apple Lossless in MP4, which
    /// browsers cannot decode), `aac`, `wav`, `aiff`, `ape`, `wv`, `mpc`.
    pub format: String,
    pub bitrate_kbps: Option<i64>,
    pub sample_rate: Option<i64>,
    pub channels: Option<i64>,
    pub size_bytes: i64,
    pub replay_gain: ReplayGainDto,
    pub has_lyrics: bool,
    /// A signed URL of the original stream, usable without an `Authorization` header for a
    /// few hours (add `format` and `bitrate` to transcode).
    pub stream_url: String,
    pub created_at: Timestamp,
}

impl TrackDto {
    pub fn new(t: &Track, signer: &UrlSigner, user: &str) -> Self {
        TrackDto {
            id: t.id.clone(),
            title: t.title.clone(),
            artists: t.artists.iter().map(ArtistRefDto::from).collect(),
            album: AlbumRefDto::from(&t.album),
            album_artists: t.album_artists.iter().map(ArtistRefDto::from).collect(),
            track_number: t.track_number,
            disc_number: t.disc_number,
            duration_ms: t.duration_ms,
            year: t.year,
            genres: t.genres.clone(),
            format: t.format.as_str().to_string(),
            bitrate_kbps: t.bitrate_kbps,
            sample_rate: t.sample_rate,
            channels: t.channels,
            size_bytes: t.size,
            replay_gain: ReplayGainDto {
                track_gain_db: t.rg_track_gain,
                album_gain_db: t.rg_album_gain,
            },
            has_lyrics: t.has_lyrics,
            stream_url: signer.sign(&format!("/api/v1/tracks/{}/stream", t.id), user),
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlbumDto {
    pub id: String,
    pub title: String,
    pub artists: Vec<ArtistRefDto>,
    pub year: Option<i64>,
    pub genres: Vec<String>,
    pub track_count: i64,
    pub duration_ms: i64,
    pub compilation: bool,
    pub mb_album_id: Option<String>,
    /// A signed URL of the cover (add `size=N`), or null when the album has none.
    pub cover_url: Option<String>,
    pub created_at: Timestamp,
}

impl AlbumDto {
    pub fn new(a: &Album, signer: &UrlSigner, user: &str) -> Self {
        AlbumDto {
            id: a.id.clone(),
            title: a.title.clone(),
            artists: a.artists.iter().map(ArtistRefDto::from).collect(),
            year: a.year,
            genres: a.genres.clone(),
            track_count: a.track_count,
            duration_ms: a.duration_ms,
            compilation: a.compilation,
            mb_album_id: a.mb_album_id.clone(),
            cover_url: a
                .has_cover
                .then(|| signer.sign(&format!("/api/v1/albums/{}/cover", a.id), user)),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlbumDetail {
    #[serde(flatten)]
    pub album: AlbumDto,
    pub tracks: Vec<TrackDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtistDto {
    pub id: String,
    pub name: String,
    pub album_count: i64,
    pub track_count: i64,
    pub mb_artist_id: Option<String>,
}

impl From<&Artist> for ArtistDto {
    fn from(a: &Artist) -> Self {
        ArtistDto {
            id: a.id.clone(),
            name: a.name.clone(),
            album_count: a.album_count,
            track_count: a.track_count,
            mb_artist_id: a.mb_artist_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtistDetail {
    #[serde(flatten)]
    pub artist: ArtistDto,
    pub albums: Vec<AlbumDto>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GenreDto {
    pub name: String,
    pub track_count: i64,
    pub album_count: i64,
}

impl From<&Genre> for GenreDto {
    fn from(g: &Genre) -> Self {
        GenreDto {
            name: g.name.clone(),
            track_count: g.track_count,
            album_count: g.album_count,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// A page of `rows`, each turned into its DTO by `dto`.
    pub fn of<R>(rows: &[R], next_cursor: Option<String>, dto: impl Fn(&R) -> T) -> Self {
        List {
            items: rows.iter().map(dto).collect(),
            next_cursor,
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlbumQuery {
    /// `name` (default), `newest`, `year`, or `random` (one page of up to `limit`, no cursor;
    /// the filters apply as to the other orders).
    pub sort: Option<String>,
    pub genre: Option<String>,
    pub artist_id: Option<String>,
    /// Albums of these years only (both ends included).
    pub from_year: Option<i64>,
    pub to_year: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// Comma-separated track ids (up to 500): those of them that exist, in that order, on one
    /// page; no other filter applies.
    pub ids: Option<String>,
    /// `random`: one page of up to `limit` tracks in random order (no cursor), of `genre` and
    /// within `from_year`..=`to_year` when given.
    pub sort: Option<String>,
    pub from_year: Option<i64>,
    pub to_year: Option<i64>,
    pub album_id: Option<String>,
    pub artist_id: Option<String>,
    pub genre: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Signed-URL parameters, accepted by stream and cover routes in place of a bearer token.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// `opus`, `mp3` or `aac` to transcode; absent for the original.
    pub format: Option<String>,
    /// Bitrate cap in kbps when transcoding.
    pub bitrate: Option<u32>,
    /// Start this many milliseconds into the track (transcodes; such a stream is not cached
    /// and has no ranges).
    pub offset_ms: Option<u64>,
    /// Signed URL: user.
    pub u: Option<String>,
    /// Signed URL: expiry (Unix seconds).
    pub exp: Option<i64>,
    /// Signed URL: signature.
    pub sig: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CoverQuery {
    /// Longest side in pixels (snapped up to a multiple of 32, at most 2048); absent for the original.
    pub size: Option<u32>,
    pub u: Option<String>,
    pub exp: Option<i64>,
    pub sig: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanStarted {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanProblemDto {
    /// Relative to the library folder.
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanDto {
    pub id: String,
    /// `queued`, `running` or `idle`.
    pub state: String,
    pub files_seen: u64,
    pub tracks_added: u64,
    pub tracks_updated: u64,
    pub tracks_removed: u64,
    pub errors: Vec<ScanProblemDto>,
    pub error_count: u64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl From<ScanReport> for ScanDto {
    fn from(r: ScanReport) -> Self {
        ScanDto {
            id: r.id,
            state: match r.state {
                ScanState::Queued => "queued",
                ScanState::Running => "running",
                ScanState::Idle => "idle",
            }
            .into(),
            files_seen: r.files_seen,
            tracks_added: r.tracks_added,
            tracks_updated: r.tracks_updated,
            tracks_removed: r.tracks_removed,
            errors: r
                .errors
                .into_iter()
                .map(|ScanProblem { path, reason }| ScanProblemDto { path, reason })
                .collect(),
            error_count: r.error_count,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LyricsDto {
    pub lyrics: Option<String>,
}
