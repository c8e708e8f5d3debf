//! Answering a query from a generation of the index.
//!
//! Each free word must match (in the entry's name or in what else identifies it), scored by how
//! well it matched; the scores are tiers, not term statistics, so ranking reads like a rule:
//!
//! | match of one word                    | in the name | elsewhere |
//! | ------------------------------------ | ----------- | --------- |
//! | the word itself                      | 10          | 5         |
//! | the start of a word (last word only) | 8           | 4         |
//! | one or two typos away                | 3           | 1.5       |
//!
//! A word takes its best tier. Ties go to an entry whose whole name is the query, then to
//! the more played, then to the shorter name. Typos are looked for only when the exact and
//! prefix pass leaves the list short: they cost a walk of the term dictionary, and a word typed
//! right should not be outranked by lookalikes anyway.

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Score, Searcher, TantivyDocument, Term};

use crate::index::Generation;
use crate::query::ParsedQuery;
use crate::schema::{access_of_user, Fields, Kind, ACCESS_PUBLIC};
use crate::text;

const EXACT: Score = 10.0;
const PREFIX: Score = 8.0;
const FUZZY: Score = 3.0;
/// What elsewhere than the name is worth, relative to the name.
const ELSEWHERE: Score = 0.5;
const WHOLE_NAME_BONUS: Score = 5.0;

/// The typos forgiven in a word of `chars` characters.
pub fn typos_allowed(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// One hit: its rank key and the stored reply.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: Kind,
    pub score: Score,
    pub whole_name: bool,
    pub plays: u64,
    pub body: String,
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn constant(query: Box<dyn Query>, score: Score) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(term(field, text), IndexRecordOption::Basic))
}

/// How one free word may match.
fn word_query(fields: &Fields, word: &str, partial: bool, fuzzy: bool) -> Box<dyn Query> {
    let mut options: Vec<Box<dyn Query>> = vec![
        constant(term_query(fields.name, word), EXACT),
        constant(term_query(fields.other, word), EXACT * ELSEWHERE),
    ];
    if partial {
        let key = text::prefix_key(word);
        options.push(constant(term_query(fields.name_prefix, key), PREFIX));
        options.push(constant(
            term_query(fields.other_prefix, key),
            PREFIX * ELSEWHERE,
        ));
    }
    let typos = typos_allowed(word.chars().count());
    if fuzzy && typos > 0 {
        let fuzzy_in = |field: Field| -> Box<dyn Query> {
            if partial {
                Box::new(FuzzyTermQuery::new_prefix(term(field, word), typos, true))
            } else {
                Box::new(FuzzyTermQuery::new(term(field, word), typos, true))
            }
        };
        options.push(constant(fuzzy_in(fields.name), FUZZY));
        options.push(constant(fuzzy_in(fields.other), FUZZY * ELSEWHERE));
    }
    Box::new(DisjunctionMaxQuery::new(options))
}

/// Every word of a filter must be in its field (with typos, in the second pass).
fn filter_words(field: Field, words: &[String], fuzzy: bool) -> Vec<(Occur, Box<dyn Query>)> {
    words
        .iter()
        .map(|word| {
            let typos = typos_allowed(word.chars().count());
            let query: Box<dyn Query> = if fuzzy && typos > 0 {
                Box::new(FuzzyTermQuery::new(term(field, word), typos, true))
            } else {
                term_query(field, word)
            };
            (Occur::Must, constant(query, 0.0))
        })
        .collect()
}

/// Who is asking, for private playlists.
pub struct Viewer<'a> {
    pub user_id: &'a str,
}

fn build(
    fields: &Fields,
    kind: Kind,
    query: &ParsedQuery,
    viewer: &Viewer<'_>,
    fuzzy: bool,
) -> Option<Box<dyn Query>> {
    if kind == Kind::Playlist && query.has_filters() {
        // Playlists have no artist, album, genre or year.
        return None;
    }
    if kind == Kind::Artist && (!query.album.is_empty() || query.years.is_some()) {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        constant(term_query(fields.kind, kind.as_str()), 0.0),
    )];
    let last = query.words.len().saturating_sub(1);
    for (i, word) in query.words.iter().enumerate() {
        let partial = i == last && query.last_is_partial;
        clauses.push((Occur::Must, word_query(fields, word, partial, fuzzy)));
    }
    clauses.extend(filter_words(fields.artist, &query.artist, fuzzy));
    clauses.extend(filter_words(fields.album, &query.album, fuzzy));
    clauses.extend(filter_words(fields.genre, &query.genre, fuzzy));
    if let Some((from, to)) = query.years {
        use std::ops::Bound;
        let bound = |year: Option<i64>| match year {
            Some(y) => Bound::Included(Term::from_field_i64(fields.year, y)),
            None => Bound::Unbounded,
        };
        clauses.push((
            Occur::Must,
            constant(Box::new(RangeQuery::new(bound(from), bound(to))), 0.0),
        ));
    }
    if kind == Kind::Playlist {
        let access = BooleanQuery::new(vec![
            (Occur::Should, term_query(fields.access, ACCESS_PUBLIC)),
            (
                Occur::Should,
                term_query(fields.access, &access_of_user(viewer.user_id)),
            ),
        ]);
        clauses.push((Occur::Must, constant(Box::new(access), 0.0)));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn collect(
    searcher: &Searcher,
    fields: &Fields,
    query: &dyn Query,
    words: usize,
    limit: usize,
) -> tantivy::Result<Vec<(HitKey, DocAddress)>> {
    let plays_field = fields.plays;
    let words_field = fields.name_words;
    let whole_score = EXACT * words as Score;
    let collector =
        TopDocs::with_limit(limit).tweak_score(move |segment: &tantivy::SegmentReader| {
            let fast = segment.fast_fields();
            let plays = fast
                .u64(segment.schema().get_field_name(plays_field))
                .ok()
                .map(|c| c.first_or_default_col(0));
            let name_words = fast
                .u64(segment.schema().get_field_name(words_field))
                .ok()
                .map(|c| c.first_or_default_col(0));
            move |doc, score: Score| {
                let plays = plays.as_ref().map_or(0, |c| c.get_val(doc));
                let name_words = name_words.as_ref().map_or(0, |c| c.get_val(doc));
                let whole = words > 0 && name_words == words as u64 && score >= whole_score - 0.01;
                HitKey {
                    score: if whole {
                        score + WHOLE_NAME_BONUS
                    } else {
                        score
                    },
                    plays,
                    shortness: u64::MAX - name_words,
                }
            }
        });
    searcher.search(query, &collector)
}

/// The rank of a hit: compared field by field.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct HitKey {
    pub score: Score,
    pub plays: u64,
    pub shortness: u64,
}

fn body_of(searcher: &Searcher, fields: &Fields, address: DocAddress) -> tantivy::Result<String> {
    let doc: TantivyDocument = searcher.doc(address)?;
    Ok(doc
        .get_first(fields.body)
        .and_then(|v| v.as_str())
        .unwrap_or("{}")
        .to_string())
}

/// The best `limit` entries of `kind` for the query.
pub fn search_kind(
    generation: &Generation,
    kind: Kind,
    query: &ParsedQuery,
    viewer: &Viewer<'_>,
    limit: usize,
) -> tantivy::Result<Vec<Hit>> {
    let Some(fields) = &generation.fields else {
        return Ok(Vec::new());
    };
    if query.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let searcher = generation.reader.searcher();
    let Some(exact) = build(fields, kind, query, viewer, false) else {
        return Ok(Vec::new());
    };
    let mut found = collect(&searcher, fields, exact.as_ref(), query.words.len(), limit)?;
    if found.len() < limit {
        if let Some(fuzzy) = build(fields, kind, query, viewer, true) {
            found = collect(&searcher, fields, fuzzy.as_ref(), query.words.len(), limit)?;
        }
    }
    let whole_score = EXACT * query.words.len() as Score + WHOLE_NAME_BONUS;
    found
        .into_iter()
        .map(|(key, address)| {
            Ok(Hit {
                kind,
                score: key.score,
                whole_name: !query.words.is_empty() && key.score >= whole_score - 0.01,
                plays: key.plays,
                body: body_of(&searcher, fields, address)?,
            })
        })
        .collect()
}
