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
//! the more played, then to the shorter name.
//!
//! One pass over the index serves every kind asked for (a best-N list per kind). Typos are
//! looked for only when that pass finds nothing at all, as Typesense does, and only for the
//! words the index does not know as typed: a typo costs a walk of the term dictionary, and a
//! word typed right should not be crowded by lookalikes. Segments
//! are sorted most played first, and a pass ranks at most [`SCAN_BUDGET`] matching entries: a
//! query matching more (one or two letters typed over a big library) ranks the most played.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA};

use tantivy::query::{
    BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, TantivyDocument, Term, TERMINATED};

use crate::index::Generation;
use crate::query::ParsedQuery;
use crate::schema::{access_of_user, Fields, Kind};
use crate::text;

const EXACT: Score = 10.0;
const PREFIX: Score = 8.0;
const FUZZY: Score = 3.0;
/// What elsewhere than the name is worth, relative to the name.
const ELSEWHERE: Score = 0.5;
const WHOLE_NAME_BONUS: Score = 5.0;

/// Matching entries ranked per pass, at most (shared by the segments in proportion to their
/// size).
pub const SCAN_BUDGET: u64 = 20_000;

/// The typos forgiven in a word of `chars` characters.
pub fn typos_allowed(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Lookalikes of a word looked up per typo: the most frequent this many.
const MAX_LOOKALIKES: usize = 8;

fn levenshtein(typos: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: OnceLock<[LevenshteinAutomatonBuilder; 2]> = OnceLock::new();
    let builders = BUILDERS.get_or_init(|| {
        [
            LevenshteinAutomatonBuilder::new(1, true),
            LevenshteinAutomatonBuilder::new(2, true),
        ]
    });
    &builders[usize::from(typos.clamp(1, 2)) - 1]
}

struct Dfa<'a>(&'a DFA);

impl tantivy_fst::Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// The terms of `field` within the typos allowed of `word` (of its start, when `partial`): the
/// most frequent [`MAX_LOOKALIKES`]. One walk of the term dictionary per segment, shared by every
/// clause that needs them.
fn lookalikes(
    searcher: &Searcher,
    field: Field,
    word: &str,
    partial: bool,
) -> tantivy::Result<Vec<String>> {
    let typos = typos_allowed(word.chars().count());
    if typos == 0 {
        return Ok(Vec::new());
    }
    let builder = levenshtein(typos);
    let dfa = if partial {
        builder.build_prefix_dfa(word)
    } else {
        builder.build_dfa(word)
    };
    let mut found: std::collections::HashMap<Vec<u8>, u64> = Default::default();
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(field)?;
        let mut stream = index.terms().search(Dfa(&dfa)).into_stream()?;
        while stream.advance() {
            *found.entry(stream.key().to_vec()).or_default() += u64::from(stream.value().doc_freq);
        }
    }
    let mut found: Vec<(Vec<u8>, u64)> = found.into_iter().collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(found
        .into_iter()
        .take(MAX_LOOKALIKES)
        .filter_map(|(bytes, _)| String::from_utf8(bytes).ok())
        .collect())
}

/// Any of `words` in `field`.
fn any_of(field: Field, words: &[String]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        words
            .iter()
            .map(|w| (Occur::Should, term_query(field, w)))
            .collect(),
    ))
}

/// One hit: its rank key and the stored reply.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: Kind,
    pub score: Score,
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

/// How one free word must match (somewhere), and how well it did (its best tier).
fn word_query(
    fields: &Fields,
    word: &str,
    partial: bool,
    lookalikes: Option<&[String]>,
) -> [(Occur, Box<dyn Query>); 2] {
    let key = text::prefix_key(word);
    if let Some(lookalikes) = lookalikes {
        // Unknown as typed: only lookalikes can match, anywhere for a base score, more in the
        // name.
        let anywhere = constant(any_of(fields.all, lookalikes), FUZZY * ELSEWHERE);
        let in_name = constant(any_of(fields.name, lookalikes), FUZZY * (1.0 - ELSEWHERE));
        return [(Occur::Must, anywhere), (Occur::Should, in_name)];
    }
    let matcher = if partial {
        term_query(fields.all_prefix, key)
    } else {
        term_query(fields.all, word)
    };
    let mut tiers: Vec<Box<dyn Query>> = vec![
        constant(term_query(fields.name, word), EXACT),
        constant(term_query(fields.other, word), EXACT * ELSEWHERE),
    ];
    if partial {
        tiers.push(constant(term_query(fields.name_prefix, key), PREFIX));
        tiers.push(constant(
            term_query(fields.other_prefix, key),
            PREFIX * ELSEWHERE,
        ));
    }
    [
        (Occur::Must, constant(matcher, 0.0)),
        (Occur::Should, Box::new(DisjunctionMaxQuery::new(tiers))),
    ]
}

/// Every word of a filter must be in its field (or a lookalike, where it has them).
fn filter_words(
    field: Field,
    words: &[String],
    lookalikes: &[Option<Vec<String>>],
) -> Vec<(Occur, Box<dyn Query>)> {
    words
        .iter()
        .zip(lookalikes)
        .map(|(word, lookalikes)| {
            let query: Box<dyn Query> = match lookalikes {
                Some(lookalikes) => any_of(field, lookalikes),
                None => term_query(field, word),
            };
            (Occur::Must, constant(query, 0.0))
        })
        .collect()
}

/// Who is asking, for private playlists.
pub struct Viewer<'a> {
    pub user_id: &'a str,
}

/// Which words get typo tolerance: those the index does not know as typed (a word typed
/// right is not widened to its lookalikes, which would cost a walk of the term dictionary).
#[derive(Debug, Default)]
struct Typos {
    /// Per word: the lookalikes to match instead, for a word the index does not know.
    words: Vec<Option<Vec<String>>>,
    artist: Vec<Option<Vec<String>>>,
    album: Vec<Option<Vec<String>>>,
    genre: Vec<Option<Vec<String>>>,
}

impl Typos {
    /// `None` when no word has lookalikes to try: typos would find nothing more.
    fn of(
        searcher: &Searcher,
        fields: &Fields,
        query: &ParsedQuery,
    ) -> tantivy::Result<Option<Typos>> {
        // A word the field knows is matched as typed; an unknown one by its lookalikes.
        let resolve = |field: Field, word: &str, partial: bool| {
            let key = if partial {
                text::prefix_key(word)
            } else {
                word
            };
            // Only free words are partial, and their prefixes are in `all_prefix`.
            let known_in = if partial { fields.all_prefix } else { field };
            if searcher.doc_freq(&term(known_in, key))? > 0 {
                return Ok(None);
            }
            let found = lookalikes(searcher, field, word, partial)?;
            Ok::<_, tantivy::TantivyError>((!found.is_empty()).then_some(found))
        };
        let last = query.words.len().saturating_sub(1);
        let mut typos = Typos::default();
        for (i, word) in query.words.iter().enumerate() {
            let partial = i == last && query.last_is_partial;
            typos.words.push(resolve(fields.all, word, partial)?);
        }
        for (field, words, out) in [
            (fields.artist, &query.artist, &mut typos.artist),
            (fields.album, &query.album, &mut typos.album),
            (fields.genre, &query.genre, &mut typos.genre),
        ] {
            for word in words {
                out.push(resolve(field, word, false)?);
            }
        }
        let worth_it = [&typos.words, &typos.artist, &typos.album, &typos.genre]
            .iter()
            .any(|v| v.iter().any(Option::is_some));
        Ok(worth_it.then_some(typos))
    }

    fn exact(query: &ParsedQuery) -> Typos {
        Typos {
            words: vec![None; query.words.len()],
            artist: vec![None; query.artist.len()],
            album: vec![None; query.album.len()],
            genre: vec![None; query.genre.len()],
        }
    }
}

/// A word that must be in the name: as typed (10), or as the start of a word there when it is
/// the last (8, or 10 when whole), or with typos (3).
fn name_word_query(
    fields: &Fields,
    word: &str,
    partial: bool,
    lookalikes: Option<&[String]>,
) -> Vec<(Occur, Box<dyn Query>)> {
    if let Some(lookalikes) = lookalikes {
        return vec![(
            Occur::Must,
            constant(any_of(fields.name, lookalikes), FUZZY),
        )];
    }
    if partial {
        vec![
            (
                Occur::Must,
                constant(
                    term_query(fields.name_prefix, text::prefix_key(word)),
                    PREFIX,
                ),
            ),
            (
                Occur::Should,
                constant(term_query(fields.name, word), EXACT - PREFIX),
            ),
        ]
    } else {
        vec![(Occur::Must, constant(term_query(fields.name, word), EXACT))]
    }
}

/// The query of a pass. `name_only` asks for every word in the name: the entries that rank
/// highest, and few enough to find fast.
fn build(
    fields: &Fields,
    kinds: &[Kind],
    query: &ParsedQuery,
    typos: &Typos,
    name_only: bool,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if kinds.len() < Kind::ALL.len() {
        let kinds: Vec<(Occur, Box<dyn Query>)> = kinds
            .iter()
            .map(|k| (Occur::Should, term_query(fields.kind, k.as_str())))
            .collect();
        clauses.push((
            Occur::Must,
            constant(Box::new(BooleanQuery::new(kinds)), 0.0),
        ));
    }
    let last = query.words.len().saturating_sub(1);
    for (i, word) in query.words.iter().enumerate() {
        let partial = i == last && query.last_is_partial;
        if name_only {
            clauses.extend(name_word_query(
                fields,
                word,
                partial,
                typos.words[i].as_deref(),
            ));
        } else {
            clauses.extend(word_query(fields, word, partial, typos.words[i].as_deref()));
        }
    }
    // Entries without a field (a playlist has no artist, an artist no year) fail its filter.
    clauses.extend(filter_words(fields.artist, &query.artist, &typos.artist));
    clauses.extend(filter_words(fields.album, &query.album, &typos.album));
    clauses.extend(filter_words(fields.genre, &query.genre, &typos.genre));
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
    if clauses.is_empty() {
        clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// A hit being ranked: its key, then its address to break ties the same way every time.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    key: HitKey,
    address: DocAddress,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .score
            .total_cmp(&other.key.score)
            .then(self.key.plays.cmp(&other.key.plays))
            .then(self.key.shortness.cmp(&other.key.shortness))
            // Earlier documents first.
            .then(other.address.cmp(&self.address))
    }
}

/// The best `limit` hits of each kind (indexed by [`Kind::code`]), best first.
fn collect(
    searcher: &Searcher,
    fields: &Fields,
    query: &dyn Query,
    viewer: &Viewer<'_>,
    words: usize,
    limit: usize,
) -> tantivy::Result<[Vec<(HitKey, DocAddress)>; 4]> {
    let member = term(fields.access, &access_of_user(viewer.user_id));
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let whole_score = EXACT * words as Score;
    let total_docs = searcher.num_docs().max(1);
    let mut best: [BinaryHeap<Reverse<Ranked>>; 4] = Default::default();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let budget = (SCAN_BUDGET * u64::from(segment.num_docs()) / total_docs).max(1_000);
        let fast = segment.fast_fields();
        let column = |field: Field| -> tantivy::Result<_> {
            Ok(fast
                .u64(segment.schema().get_field_name(field))?
                .first_or_default_col(0))
        };
        let kinds = column(fields.kind_code)?;
        let plays = column(fields.plays)?;
        let name_words = column(fields.name_words)?;
        let private = column(fields.private)?;
        // The private playlists this viewer may see, in this segment (a handful).
        let mut visible: Vec<DocId> = Vec::new();
        if let Some(mut postings) = segment
            .inverted_index(fields.access)?
            .read_postings(&member, IndexRecordOption::Basic)?
        {
            while postings.doc() != TERMINATED {
                visible.push(postings.doc());
                postings.advance();
            }
        }
        let alive = segment.alive_bitset();
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut ranked = 0;
        let mut doc: DocId = scorer.doc();
        while doc != TERMINATED && ranked < budget {
            let allowed = private.get_val(doc) == 0 || visible.binary_search(&doc).is_ok();
            if allowed && alive.is_none_or(|a| a.is_alive(doc)) {
                ranked += 1;
                let score = scorer.score();
                let words_in_name = name_words.get_val(doc);
                let whole =
                    words > 0 && words_in_name == words as u64 && score >= whole_score - 0.01;
                let hit = Ranked {
                    key: HitKey {
                        score: if whole {
                            score + WHOLE_NAME_BONUS
                        } else {
                            score
                        },
                        plays: plays.get_val(doc),
                        shortness: u64::MAX - words_in_name,
                    },
                    address: DocAddress::new(ord as u32, doc),
                };
                let heap = &mut best[(kinds.get_val(doc) as usize).min(3)];
                if heap.len() < limit {
                    heap.push(Reverse(hit));
                } else if heap.peek().is_some_and(|Reverse(worst)| hit > *worst) {
                    heap.pop();
                    heap.push(Reverse(hit));
                }
            }
            doc = scorer.advance();
        }
    }
    Ok(best.map(|heap| {
        heap.into_sorted_vec()
            .into_iter()
            .map(|Reverse(r)| (r.key, r.address))
            .collect()
    }))
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

/// The best `limit` entries of each of `kinds` for the query, in the order of `kinds`.
pub fn search(
    generation: &Generation,
    kinds: &[Kind],
    query: &ParsedQuery,
    viewer: &Viewer<'_>,
    limit: usize,
) -> tantivy::Result<Vec<(Kind, Vec<Hit>)>> {
    let empty = || kinds.iter().map(|&k| (k, Vec::new())).collect();
    let Some(fields) = &generation.fields else {
        return Ok(empty());
    };
    if query.is_empty() || limit == 0 || kinds.is_empty() {
        return Ok(empty());
    }
    let searcher = generation.reader.searcher();
    let words = query.words.len();
    let pass = |typos: &Typos| -> tantivy::Result<[Vec<(HitKey, DocAddress)>; 4]> {
        // First the entries with every word in their name: they outrank any other (a word
        // elsewhere scores at most 5, one in the name at least 8), so a kind they fill is done.
        let mut found = if words > 0 {
            let name_only = build(fields, kinds, query, typos, true);
            collect(&searcher, fields, name_only.as_ref(), viewer, words, limit)?
        } else {
            Default::default()
        };
        let short: Vec<Kind> = kinds
            .iter()
            .copied()
            .filter(|k| found[k.code() as usize].len() < limit)
            .collect();
        if !short.is_empty() {
            let anywhere = build(fields, &short, query, typos, false);
            let mut more = collect(&searcher, fields, anywhere.as_ref(), viewer, words, limit)?;
            for kind in short {
                found[kind.code() as usize] = std::mem::take(&mut more[kind.code() as usize]);
            }
        }
        Ok(found)
    };
    let mut found = pass(&Typos::exact(query))?;
    if found.iter().all(Vec::is_empty) {
        if let Some(typos) = Typos::of(&searcher, fields, query)? {
            found = pass(&typos)?;
        }
    }
    kinds
        .iter()
        .map(|&kind| {
            let hits = std::mem::take(&mut found[kind.code() as usize])
                .into_iter()
                .map(|(key, address)| {
                    Ok(Hit {
                        kind,
                        score: key.score,
                        plays: key.plays,
                        body: body_of(&searcher, fields, address)?,
                    })
                })
                .collect::<tantivy::Result<Vec<Hit>>>()?;
            Ok((kind, hits))
        })
        .collect()
}
