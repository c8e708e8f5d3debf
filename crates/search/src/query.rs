//! What a person typed, understood: free words (the last one possibly half-typed) and the
//! field filters power users add (`artist:`, `album:`, `genre:`, `year:1990..1999`). Nothing a
//! person can type is a syntax error: quotes group a filter's words, an unknown `key:` is read
//! as words, and every other mark separates words.

use crate::text;

/// Longer queries are refused (a 400): no search box sends them.
pub const MAX_QUERY_CHARS: usize = 500;

/// Words past this many are ignored: they no longer narrow anything down.
pub const MAX_WORDS: usize = 12;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedQuery {
    /// Folded free words.
    pub words: Vec<String>,
    /// The last free word may be the start of a longer one (the person is still typing).
    pub last_is_partial: bool,
    pub artist: Vec<String>,
    pub album: Vec<String>,
    pub genre: Vec<String>,
    pub years: Option<(Option<i64>, Option<i64>)>,
}

impl ParsedQuery {
    pub fn has_filters(&self) -> bool {
        !self.artist.is_empty()
            || !self.album.is_empty()
            || !self.genre.is_empty()
            || self.years.is_some()
    }

    /// Nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && !self.has_filters()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct QueryTooLong;

/// Reads a query. Only a query over [`MAX_QUERY_CHARS`] characters is refused.
pub fn parse(input: &str) -> Result<ParsedQuery, QueryTooLong> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryTooLong);
    }
    let mut parsed = ParsedQuery::default();
    let mut free = String::new();
    let mut rest = input;
    while !rest.is_empty() {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            free.push(' ');
            break;
        }
        if trimmed.len() < rest.len() {
            free.push(' ');
        }
        rest = trimmed;
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let piece = &rest[..end];
        if let Some((key, value)) = piece.split_once(':') {
            let key = key.to_lowercase();
            if matches!(key.as_str(), "artist" | "album" | "genre" | "year") {
                // A quoted value runs to the closing quote (or the end).
                let after_colon = &rest[key.len() + 1..];
                let (value, consumed) = if let Some(quoted) = after_colon.strip_prefix('"') {
                    match quoted.find('"') {
                        Some(close) => (&quoted[..close], key.len() + 2 + close + 1),
                        None => (quoted, rest.len()),
                    }
                } else {
                    (value, end)
                };
                let consumed = consumed.min(rest.len());
                if !apply_filter(&mut parsed, &key, value) {
                    // Not a filter after all (`year:soon`): plain words.
                    free.push_str(&rest[..consumed]);
                }
                rest = &rest[consumed..];
                continue;
            }
        }
        free.push_str(piece);
        rest = &rest[end..];
    }
    let mut words = text::words(&free);
    words.truncate(MAX_WORDS);
    let all_words = words.len();
    // A word said twice asks nothing more ("love love"); the last stays last.
    let mut seen = std::collections::HashSet::new();
    let last = words.pop();
    words.retain(|w| seen.insert(w.clone()));
    if let Some(last) = last {
        words.retain(|w| *w != last);
        words.push(last);
    }
    // Still typing unless the query ends with a space, or the last word was cut off above.
    let ends_with_word = free.trim_end_matches(|c: char| !c.is_alphanumeric()).len() == free.len()
        && !free.is_empty();
    parsed.last_is_partial =
        ends_with_word && text::words(&free).len() == all_words && !words.is_empty();
    parsed.words = words;
    Ok(parsed)
}

fn apply_filter(parsed: &mut ParsedQuery, key: &str, value: &str) -> bool {
    match key {
        "artist" => parsed.artist.extend(text::words(value)),
        "album" => parsed.album.extend(text::words(value)),
        "genre" => parsed.genre.extend(text::words(value)),
        "year" => match parse_years(value) {
            Some(range) => parsed.years = Some(range),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// `1995`, `1990..1999`, `..1999`, `1990..` (and `-` in place of `..`).
fn parse_years(value: &str) -> Option<(Option<i64>, Option<i64>)> {
    let year = |s: &str| -> Option<Option<i64>> {
        let s = s.trim();
        if s.is_empty() {
            return Some(None);
        }
        s.parse::<i64>()
            .ok()
            .filter(|y| (0..=9999).contains(y))
            .map(Some)
    };
    let (from, to) = match value.split_once("..").or_else(|| value.split_once('-')) {
        Some((from, to)) => (year(from)?, year(to)?),
        None => {
            let single = year(value)??;
            (Some(single), Some(single))
        }
    };
    if from.is_none() && to.is_none() {
        return None;
    }
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_partial_until_a_space_follows() {
        let q = parse("let it b").unwrap();
        assert_eq!(q.words, ["let", "it", "b"]);
        assert!(q.last_is_partial);
        assert!(!parse("let it be ").unwrap().last_is_partial);
        assert!(!parse("let it be!").unwrap().last_is_partial);
    }

    #[test]
    fn filters_are_taken_out_of_the_words() {
        let q = parse("help artist:beatles year:1960..1969 genre:\"rock and roll\" album:Help!")
            .unwrap();
        assert_eq!(q.words, ["help"]);
        assert_eq!(q.artist, ["beatles"]);
        assert_eq!(q.genre, ["rock", "and", "roll"]);
        assert_eq!(q.album, ["help"]);
        assert_eq!(q.years, Some((Some(1960), Some(1969))));
        assert!(!q.last_is_partial);
    }

    #[test]
    fn year_forms() {
        assert_eq!(
            parse("year:1995").unwrap().years,
            Some((Some(1995), Some(1995)))
        );
        assert_eq!(
            parse("year:..1999").unwrap().years,
            Some((None, Some(1999)))
        );
        assert_eq!(parse("year:1990-").unwrap().years, Some((Some(1990), None)));
        let q = parse("year:soon").unwrap();
        assert_eq!(
            (q.years, q.words),
            (None, vec!["year".to_string(), "soon".to_string()])
        );
    }

    #[test]
    fn syntax_characters_are_only_separators() {
        let q = parse("\"(beat*les:").unwrap();
        assert_eq!(q.words, ["beat", "les"]);
        let q = parse("foo:bar").unwrap();
        assert_eq!(q.words, ["foo", "bar"]);
        assert!(q.last_is_partial);
        assert!(parse(":::").unwrap().is_empty());
        assert!(parse("artist:").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn repeated_words_count_once_and_the_last_stays_last() {
        let q = parse("love me love").unwrap();
        assert_eq!(q.words, ["me", "love"]);
        assert!(q.last_is_partial);
        assert_eq!(parse("love love tim").unwrap().words, ["love", "tim"]);
    }

    #[test]
    fn too_long_is_refused_and_many_words_are_cut() {
        assert_eq!(parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(QueryTooLong));
        let many: String = (0..50).map(|i| format!("w{i} ")).collect();
        assert_eq!(parse(&many).unwrap().words.len(), MAX_WORDS);
    }
}
