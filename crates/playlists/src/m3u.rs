//! M3U/M3U8 playlists: reading entries (with `#EXTINF` hints) and writing them.

use crate::model::Entry;

/// One entry of an M3U file.
#[derive(Debug, Clone, PartialEq)]
pub struct M3uEntry {
    /// 1-based line of the location.
    pub line: usize,
    /// The location as written: a path (absolute, relative, Windows) or a URL.
    pub location: String,
    /// From `#EXTINF:secs,Artist - Title`, when present.
    pub artist: Option<String>,
    pub title: Option<String>,
}

/// A parsed M3U file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct M3u {
    /// From `#PLAYLIST:`.
    pub name: Option<String>,
    pub entries: Vec<M3uEntry>,
}

/// Parses M3U text leniently: blank lines and unknown directives are skipped, `#EXTINF` applies
/// to the next location.
pub fn parse(text: &str) -> M3u {
    let mut m3u = M3u::default();
    let mut pending: Option<(Option<String>, Option<String>)> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.chars().any(|c| c.is_control() && c != '\t') {
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(info) = line.strip_prefix("#EXTINF:") {
            let display = info.split_once(',').map(|(_, d)| d.trim()).unwrap_or("");
            pending = Some(match display.split_once(" - ") {
                Some((artist, title)) => (
                    Some(artist.trim().to_string()),
                    Some(title.trim().to_string()),
                ),
                None if display.is_empty() => (None, None),
                None => (None, Some(display.to_string())),
            });
            continue;
        }
        if let Some(name) = line.strip_prefix("#PLAYLIST:") {
            let name = name.trim();
            if !name.is_empty() {
                m3u.name = Some(name.to_string());
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (artist, title) = pending.take().unwrap_or((None, None));
        m3u.entries.push(M3uEntry {
            line: index + 1,
            location: line.to_string(),
            artist,
            title,
        });
    }
    m3u
}

/// The path components of a location, most specific last: `file://` URLs decoded, Windows
/// separators and drive letters handled, `.` dropped. Empty for web URLs.
pub fn path_parts(location: &str) -> Vec<String> {
    let path = if let Some(rest) = location.strip_prefix("file://") {
        percent_decode(rest)
    } else if location.contains("://") {
        return Vec::new();
    } else {
        location.to_string()
    };
    path.replace('\\', "/")
        .split('/')
        .filter(|part| !part.is_empty() && *part != "." && !part.ends_with(':'))
        .map(str::to_string)
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Folds a name for matching: lower case, without diacritics of common Latin letters, with
/// runs of spaces and punctuation collapsed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = strip_accent(c);
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'č' | 'ć' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'š' | 'ś' => 's',
        'ž' | 'ź' | 'ż' => 'z',
        'ř' => 'r',
        'ł' => 'l',
        other => other,
    }
}

/// Writes an extended M3U8 playlist: `#EXTINF` with the duration in seconds and
/// "Artists - Title", then the track's path relative to its library folder.
pub fn write(name: &str, entries: &[Entry]) -> String {
    let mut out = String::from("#EXTM3U\n");
    out.push_str(&format!("#PLAYLIST:{}\n", one_line(name)));
    for entry in entries {
        let track = &entry.track;
        if track.path.is_empty() {
            // A track this service never heard of has no path to write.
            continue;
        }
        let artists: Vec<&str> = track.artists.iter().map(|a| a.name.as_str()).collect();
        let seconds = (track.duration_ms + 500) / 1000;
        out.push_str(&format!(
            "#EXTINF:{seconds},{} - {}\n{}\n",
            one_line(&artists.join(", ")),
            one_line(&track.title),
            one_line(&track.path)
        ));
    }
    out
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extended_m3u() {
        let text = "\u{feff}#EXTM3U\r\n#PLAYLIST:Road trip\r\n#EXTINF:215,Daft Punk - One More Time\r\nMusic/Daft Punk/01.mp3\r\n\r\n# a comment\r\nfile:///home/kim/Music/B%C3%B8rk/02.flac\r\n";
        let m3u = parse(text);
        assert_eq!(m3u.name.as_deref(), Some("Road trip"));
        assert_eq!(m3u.entries.len(), 2);
        assert_eq!(m3u.entries[0].artist.as_deref(), Some("Daft Punk"));
        assert_eq!(m3u.entries[0].title.as_deref(), Some("One More Time"));
        assert_eq!(m3u.entries[0].line, 4);
        assert_eq!(m3u.entries[1].artist, None);
        assert_eq!(
            path_parts(&m3u.entries[1].location),
            vec!["home", "kim", "Music", "Børk", "02.flac"]
        );
    }

    #[test]
    fn windows_paths_and_urls() {
        assert_eq!(path_parts(r"C:\Music\A\b.mp3"), vec!["Music", "A", "b.mp3"]);
        assert_eq!(path_parts("./A/b.mp3"), vec!["A", "b.mp3"]);
        assert!(path_parts("http://example.com/a.mp3").is_empty());
    }

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("  Björk — Jóga!! "), "bjork joga");
        assert_eq!(fold("AC/DC"), "ac dc");
    }
}
