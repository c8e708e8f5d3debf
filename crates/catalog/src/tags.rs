//! Reading one audio file: its tags and audio properties, through lofty, into [`FileTags`].
//!
//! The content decides the format (an `.mp3` that is really a PNG is refused), every string is
//! cleaned and capped, multi-valued artists and genres are split, and nothing here panics on a
//! hostile file: lofty returns errors, and our parsing of numbers and dates is total.

use std::path::Path;

use lofty::config::ParseOptions;
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::probe::Probe;
use lofty::tag::{ItemKey, Tag};

use crate::blocks::BlockReader;
use crate::format::AudioFormat;

/// Longest title, name or other text kept from a tag; longer is cut.
const MAX_TEXT_CHARS: usize = 512;
/// Longest lyrics kept.
const MAX_LYRICS_CHARS: usize = 64 * 1024;
/// Most artists or genres kept from one tag.
const MAX_VALUES: usize = 32;

/// What one file says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTags {
    pub format: Option<AudioFormat>,
    pub title: Option<String>,
    pub artists: Vec<String>,
    pub album: Option<String>,
    pub album_artists: Vec<String>,
    pub track_number: Option<i64>,
    pub disc_number: Option<i64>,
    pub year: Option<i64>,
    pub date: Option<String>,
    pub genres: Vec<String>,
    pub compilation: bool,
    pub mb_recording_id: Option<String>,
    pub mb_track_id: Option<String>,
    pub mb_album_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
    pub lyrics: Option<String>,
    pub duration_ms: i64,
    pub bitrate_kbps: Option<i64>,
    pub sample_rate: Option<i64>,
    pub channels: Option<i64>,
}

/// How multi-valued tags are split.
#[derive(Debug, Clone)]
pub struct Separators {
    pub artists: Vec<String>,
    pub genres: Vec<String>,
}

/// Why a file was not read; goes into the scan report, never with a server path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("empty file")]
    Empty,
    #[error("not an audio file this server reads ({0})")]
    NotAudio(String),
    #[error("unreadable audio file: {0}")]
    Corrupt(String),
    #[error("cannot open the file: {0}")]
    Io(String),
}

/// Reads tags and properties. Cover art is skipped (the scanner looks for it separately).
pub fn read_file(path: &Path, separators: &Separators) -> Result<FileTags, ReadError> {
    let metadata = std::fs::metadata(path).map_err(|e| ReadError::Io(e.kind().to_string()))?;
    if metadata.len() == 0 {
        return Err(ReadError::Empty);
    }
    let tagged = match probe(path, false, true) {
        Ok(tagged) => tagged,
        // Broken tags over good audio: the file still appears, named from its path.
        Err(ReadError::Corrupt(_)) => probe(path, false, false)?,
        Err(other) => return Err(other),
    };
    let mut tags = from_tagged(&tagged, separators);
    if tags.format == Some(AudioFormat::M4a) && is_alac(path) {
        tags.format = Some(AudioFormat::Alac);
    }
    Ok(tags)
}

/// Whether an MP4 file holds Apple Lossless (the generic properties do not say).
fn is_alac(path: &Path) -> bool {
    use lofty::file::AudioFile;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let options = ParseOptions::new().read_tags(false).read_cover_art(false);
    lofty::mp4::Mp4File::read_from(&mut file, options)
        .ok()
        .and_then(|mp4| mp4.properties().codec())
        .is_some_and(|codec| codec == lofty::mp4::Mp4Codec::ALAC)
}

/// The file's first embedded picture (front cover preferred), for cover art.
pub fn read_picture(path: &Path) -> Option<Vec<u8>> {
    let tagged = probe(path, true, true).ok()?;
    let mut best: Option<&lofty::picture::Picture> = None;
    for tag in tagged.tags() {
        for picture in tag.pictures() {
            let front = picture.pic_type() == lofty::picture::PictureType::CoverFront;
            if best.is_none() || front {
                best = Some(picture);
            }
            if front {
                break;
            }
        }
    }
    best.map(|p| p.data().to_vec())
}

fn probe(path: &Path, cover_art: bool, tags: bool) -> Result<TaggedFile, ReadError> {
    // Relaxed: a malformed frame or comment is skipped rather than failing the whole file.
    let options = ParseOptions::new()
        .read_cover_art(cover_art)
        .read_tags(tags)
        .parsing_mode(lofty::config::ParsingMode::Relaxed);
    let reader = BlockReader::open(path).map_err(|e| ReadError::Io(e.kind().to_string()))?;
    // The extension is the guess when the content matches no format (as `Probe::open` does).
    let probe = match FileType::from_path(path) {
        Some(file_type) => Probe::with_file_type(reader, file_type),
        None => Probe::new(reader),
    };
    let probe = probe
        .options(options)
        .guess_file_type()
        .map_err(|e| ReadError::Io(e.kind().to_string()))?;
    if probe.file_type().is_none() {
        return Err(ReadError::NotAudio(
            "the content matches no audio format".into(),
        ));
    }
    probe.read().map_err(|e| ReadError::Corrupt(e.to_string()))
}

fn from_tagged(tagged: &TaggedFile, separators: &Separators) -> FileTags {
    let properties = tagged.properties();
    // The primary tag first, then the others (an MP3's ID3v1 behind its ID3v2).
    let mut tags: Vec<&Tag> = Vec::new();
    if let Some(primary) = tagged.primary_tag() {
        tags.push(primary);
    }
    tags.extend(
        tagged
            .tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != tagged.primary_tag().map(|p| p.tag_type())),
    );
    let text = |key: ItemKey| tags.iter().find_map(|t| t.get_string(key)).and_then(clean);
    let all = |key: ItemKey| -> Vec<String> {
        tags.iter()
            .map(|t| t.get_strings(key).filter_map(clean).collect::<Vec<_>>())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    };

    let mut artists = all(ItemKey::TrackArtists);
    if artists.is_empty() {
        artists = split_all(&all(ItemKey::TrackArtist), &separators.artists);
    } else {
        artists = split_all(&artists, &[]);
    }
    let album_artists = split_all(&all(ItemKey::AlbumArtist), &separators.artists);
    let genres = split_all(&all(ItemKey::Genre), &separators.genres);
    let date = text(ItemKey::RecordingDate)
        .or_else(|| text(ItemKey::Year))
        .or_else(|| text(ItemKey::OriginalReleaseDate));
    FileTags {
        format: AudioFormat::from_file_type(tagged.file_type()),
        title: text(ItemKey::TrackTitle),
        artists,
        album: text(ItemKey::AlbumTitle),
        album_artists,
        track_number: text(ItemKey::TrackNumber)
            .as_deref()
            .and_then(leading_number),
        disc_number: text(ItemKey::DiscNumber)
            .as_deref()
            .and_then(leading_number),
        year: date.as_deref().and_then(year_of),
        date,
        genres,
        compilation: text(ItemKey::FlagCompilation)
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "True" | "yes")),
        mb_recording_id: text(ItemKey::MusicBrainzRecordingId),
        mb_track_id: text(ItemKey::MusicBrainzTrackId),
        mb_album_id: text(ItemKey::MusicBrainzReleaseId),
        mb_artist_id: text(ItemKey::MusicBrainzArtistId),
        rg_track_gain: text(ItemKey::ReplayGainTrackGain)
            .as_deref()
            .and_then(decibels),
        rg_track_peak: text(ItemKey::ReplayGainTrackPeak)
            .as_deref()
            .and_then(decibels),
        rg_album_gain: text(ItemKey::ReplayGainAlbumGain)
            .as_deref()
            .and_then(decibels),
        rg_album_peak: text(ItemKey::ReplayGainAlbumPeak)
            .as_deref()
            .and_then(decibels),
        lyrics: tags
            .iter()
            .find_map(|t| {
                t.get_string(ItemKey::Lyrics)
                    .or_else(|| t.get_string(ItemKey::UnsyncLyrics))
            })
            .map(|l| cap(l.trim(), MAX_LYRICS_CHARS))
            .filter(|l| !l.is_empty()),
        duration_ms: i64::try_from(properties.duration().as_millis()).unwrap_or(i64::MAX),
        bitrate_kbps: properties
            .audio_bitrate()
            .or(properties.overall_bitrate())
            .map(i64::from),
        sample_rate: properties.sample_rate().map(i64::from),
        channels: properties.channels().map(i64::from),
    }
}

/// Trims, drops control characters and NULs, caps the length; `None` when nothing is left.
fn clean(value: &str) -> Option<String> {
    let cleaned: String = value.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cap(cleaned, MAX_TEXT_CHARS))
}

fn cap(value: &str, max_chars: usize) -> String {
    match value.char_indices().nth(max_chars) {
        Some((cut, _)) => value[..cut].to_string(),
        None => value.to_string(),
    }
}

/// Splits every value on every separator, trims, drops empties and duplicates, keeps order.
pub fn split_all(values: &[String], separators: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        let mut parts = vec![value.clone()];
        for separator in separators.iter().filter(|s| !s.is_empty()) {
            parts = parts
                .iter()
                .flat_map(|p| split_case_insensitive(p, separator))
                .collect();
        }
        for part in parts {
            let part = part.trim().to_string();
            if !part.is_empty()
                && !out.iter().any(|o| o.eq_ignore_ascii_case(&part))
                && out.len() < MAX_VALUES
            {
                out.push(part);
            }
        }
    }
    out
}

fn split_case_insensitive(value: &str, separator: &str) -> Vec<String> {
    let lower = value.to_lowercase();
    let sep = separator.to_lowercase();
    if lower.len() != value.len() {
        // Lowercasing changed byte offsets (rare scripts): split exactly instead.
        return value.split(separator).map(str::to_string).collect();
    }
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(found) = lower[start..].find(&sep) {
        parts.push(value[start..start + found].to_string());
        start += found + sep.len();
    }
    parts.push(value[start..].to_string());
    parts
}

/// "3/12" → 3; "07" → 7; garbage → None.
fn leading_number(value: &str) -> Option<i64> {
    let digits: String = value
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=100_000).contains(n))
}

/// "1999-05-01", "1999", "1999-05" → 1999.
fn year_of(date: &str) -> Option<i64> {
    let digits: String = date.trim().chars().take(4).collect();
    if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()) {
        digits.parse().ok().filter(|y| (1000..=3000).contains(y))
    } else {
        None
    }
}

/// "-6.50 dB" → -6.5.
fn decibels(value: &str) -> Option<f64> {
    let number = value
        .trim()
        .trim_end_matches(|c: char| c.is_alphabetic() || c.is_whitespace());
    number.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn artists_split_on_configured_separators_case_insensitively() {
        let separators = strings(&[";", " / ", " feat. "]);
        assert_eq!(
            split_all(&strings(&["Alpha FEAT. Beta; Gamma / Alpha"]), &separators),
            strings(&["Alpha", "Beta", "Gamma"])
        );
        assert_eq!(
            split_all(&strings(&["Simon & Garfunkel"]), &separators),
            strings(&["Simon & Garfunkel"])
        );
    }

    #[test]
    fn numbers_and_dates_parse_leniently() {
        assert_eq!(leading_number("3/12"), Some(3));
        assert_eq!(leading_number("07"), Some(7));
        assert_eq!(leading_number("x"), None);
        assert_eq!(leading_number("0"), None);
        assert_eq!(year_of("1999-05-01"), Some(1999));
        assert_eq!(year_of("99"), None);
        assert_eq!(decibels("-6.50 dB"), Some(-6.5));
        assert_eq!(decibels("loud"), None);
    }

    #[test]
    fn text_is_cleaned_and_capped() {
        assert_eq!(clean("  a\u{0}b\n "), Some("ab".into()));
        assert_eq!(clean(" \t "), None);
        assert_eq!(
            clean(&"é".repeat(2000)).unwrap().chars().count(),
            MAX_TEXT_CHARS
        );
    }
}
