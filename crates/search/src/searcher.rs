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
//! the more played, then to the shorter name. A pass's query only says what must match (one
//! posting list per word, intersected); each matched entry's tiers are then looked up in the
//! tiers' own posting lists, skipping forward as entries come in order.
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

use tantivy::postings::SegmentPostings;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TantivyDocument, Term, TERMINATED,
};

use crate::cache::{ColumnCache, LookalikeCache};
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

/// The terms of `field` within the typos allowed of `word`, the nearest first (one typo before
/// two, as a word two typos away is looked for only when none is one away): the most frequent
/// [`MAX_LOOKALIKES`]. (A half-typed word is looked up among the indexed prefixes, where only a
/// few terms are near it, rather than as the start of whole words, which would walk every word
/// that starts like it.)
fn lookalikes(searcher: &Searcher, field: Field, word: &str) -> tantivy::Result<Vec<String>> {
    for typos in 1..=typos_allowed(word.chars().count()) {
        let found = terms_within(searcher, field, word, typos)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

/// The most frequent [`MAX_LOOKALIKES`] terms of `field` at most `typos` edits from `word`:
/// one walk of the term dictionary per segment.
fn terms_within(
    searcher: &Searcher,
    field: Field,
    word: &str,
    typos: u8,
) -> tantivy::Result<Vec<String>> {
    let dfa = levenshtein(typos).build_dfa(word);
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

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(term(field, text), IndexRecordOption::Basic))
}

/// One tier of a word's match: the entries it holds score `score` for that word.
struct Tier {
    score: Score,
    /// `None`: every entry the pass matched (the lowest tier).
    terms: Option<(Field, Vec<String>)>,
}

impl Tier {
    fn any(score: Score) -> Tier {
        Tier { score, terms: None }
    }

    fn of(score: Score, field: Field, words: &[&str]) -> Tier {
        Tier {
            score,
            terms: Some((field, words.iter().map(|w| w.to_string()).collect())),
        }
    }
}

/// A word that must match, and its tiers, best first: an entry takes the first that holds it.
/// Ranking looks each matched entry up in the tiers' posting lists (skipping forward as the
/// entries come in order), rather than scoring unions of those lists, which would read every
/// posting of a common prefix.
fn word_rule(
    fields: &Fields,
    word: &str,
    partial: bool,
    lookalikes: Option<&[String]>,
    name_only: bool,
) -> (Box<dyn Query>, Vec<Tier>) {
    let key = text::prefix_key(word);
    // A half-typed word's lookalikes are prefixes.
    let (name, all) = if partial {
        (fields.name_prefix, fields.all_prefix)
    } else {
        (fields.name, fields.all)
    };
    match (lookalikes, name_only) {
        (Some(lookalikes), true) => (any_of(name, lookalikes), vec![Tier::any(FUZZY)]),
        (Some(lookalikes), false) => {
            let names: Vec<&str> = lookalikes.iter().map(String::as_str).collect();
            (
                any_of(all, lookalikes),
                vec![Tier::of(FUZZY, name, &names), Tier::any(FUZZY * ELSEWHERE)],
            )
        }
        (None, true) if partial => (
            term_query(fields.name_prefix, key),
            vec![Tier::of(EXACT, fields.name, &[word]), Tier::any(PREFIX)],
        ),
        (None, true) => (term_query(fields.name, word), vec![Tier::any(EXACT)]),
        (None, false) if partial => (
            term_query(fields.all_prefix, key),
            vec![
                Tier::of(EXACT, fields.name, &[word]),
                Tier::of(PREFIX, fields.name_prefix, &[key]),
                Tier::of(EXACT * ELSEWHERE, fields.other, &[word]),
                Tier::any(PREFIX * ELSEWHERE),
            ],
        ),
        (None, false) => (
            term_query(fields.all, word),
            vec![
                Tier::of(EXACT, fields.name, &[word]),
                Tier::any(EXACT * ELSEWHERE),
            ],
        ),
    }
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
            (Occur::Must, query)
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
        cache: &LookalikeCache,
        query: &ParsedQuery,
    ) -> tantivy::Result<Option<Typos>> {
        let generation = searcher.generation().generation_id();
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
            let found = cache.get_or_find(generation, known_in, key, || {
                lookalikes(searcher, known_in, key)
            })?;
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

/// One pass over the index: what an entry must match, and how its words rank.
struct Pass {
    query: Box<dyn Query>,
    /// Per free word, its tiers.
    words: Vec<Vec<Tier>>,
    /// The kinds asked for, by [`Kind::code`].
    kinds: [bool; 4],
}

/// The pass over names only (`name_only`: every word in the name, the entries that rank
/// highest and few enough to find fast) or over everything that identifies an entry.
fn build(
    fields: &Fields,
    kinds: &[Kind],
    query: &ParsedQuery,
    typos: &Typos,
    name_only: bool,
) -> Pass {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut wanted = [false; 4];
    for kind in kinds {
        wanted[kind.code() as usize] = true;
    }
    // Kinds are checked per entry from a fast field; without tracks (most of the index) the
    // other kinds' lists are short enough to narrow the pass as well.
    if !kinds.contains(&Kind::Track) {
        let kinds: Vec<(Occur, Box<dyn Query>)> = kinds
            .iter()
            .map(|k| (Occur::Should, term_query(fields.kind, k.as_str())))
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
    }
    let last = query.words.len().saturating_sub(1);
    let mut words = Vec::with_capacity(query.words.len());
    for (i, word) in query.words.iter().enumerate() {
        let partial = i == last && query.last_is_partial;
        let (must, tiers) = word_rule(fields, word, partial, typos.words[i].as_deref(), name_only);
        clauses.push((Occur::Must, must));
        words.push(tiers);
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
            Box::new(RangeQuery::new(bound(from), bound(to))),
        ));
    }
    if clauses.is_empty() {
        clauses.push((Occur::Must, Box::new(tantivy::query::AllQuery)));
    }
    Pass {
        query: Box::new(BooleanQuery::new(clauses)),
        words,
        kinds: wanted,
    }
}

/// A [`Tier`] opened on one segment.
struct TierProbe {
    score: Score,
    /// `None` holds every entry.
    postings: Option<Vec<SegmentPostings>>,
}

impl TierProbe {
    fn open(segment: &SegmentReader, tier: &Tier) -> tantivy::Result<TierProbe> {
        let postings = match &tier.terms {
            None => None,
            Some((field, words)) => {
                let index = segment.inverted_index(*field)?;
                let mut lists = Vec::with_capacity(words.len());
                for word in words {
                    if let Some(list) =
                        index.read_postings(&term(*field, word), IndexRecordOption::Basic)?
                    {
                        lists.push(list);
                    }
                }
                Some(lists)
            }
        };
        Ok(TierProbe {
            score: tier.score,
            postings,
        })
    }

    /// Whether the tier holds `doc`; asked in increasing `doc` order.
    fn holds(&mut self, doc: DocId) -> bool {
        let Some(lists) = &mut self.postings else {
            return true;
        };
        lists.iter_mut().any(|list| {
            if list.doc() < doc {
                list.seek(doc);
            }
            list.doc() == doc
        })
    }
}

/// The score of `doc`: each word's best tier.
fn score_of(words: &mut [Vec<TierProbe>], doc: DocId) -> Score {
    words
        .iter_mut()
        .map(|tiers| {
            tiers
                .iter_mut()
                .find_map(|tier| tier.holds(doc).then_some(tier.score))
                .unwrap_or(0.0)
        })
        .sum()
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
    cache: &ColumnCache,
    pass: &Pass,
    viewer: &Viewer<'_>,
    words: usize,
    limit: usize,
) -> tantivy::Result<[Vec<(HitKey, DocAddress)>; 4]> {
    let member = term(fields.access, &access_of_user(viewer.user_id));
    let weight = pass
        .query
        .weight(EnableScoring::disabled_from_searcher(searcher))?;
    let whole_score = EXACT * words as Score;
    let total_docs = searcher.num_docs().max(1);
    let mut best: [BinaryHeap<Reverse<Ranked>>; 4] = Default::default();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let budget = (SCAN_BUDGET * u64::from(segment.num_docs()) / total_docs).max(1_000);
        let columns = cache.of(segment, fields)?;
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
        let mut tiers: Vec<Vec<TierProbe>> = pass
            .words
            .iter()
            .map(|tiers| tiers.iter().map(|t| TierProbe::open(segment, t)).collect())
            .collect::<tantivy::Result<_>>()?;
        let mut matches = weight.scorer(segment, 1.0)?;
        let mut ranked = 0;
        let mut doc: DocId = matches.doc();
        while doc != TERMINATED && ranked < budget {
            let kind = (columns.kind.get_val(doc) as usize).min(3);
            let allowed = pass.kinds[kind]
                && (columns.private.get_val(doc) == 0 || visible.binary_search(&doc).is_ok());
            if allowed && alive.is_none_or(|a| a.is_alive(doc)) {
                ranked += 1;
                let score = score_of(&mut tiers, doc);
                let words_in_name = columns.name_words.get_val(doc);
                let whole =
                    words > 0 && words_in_name == words as u64 && score >= whole_score - 0.01;
                let hit = Ranked {
                    key: HitKey {
                        score: if whole {
                            score + WHOLE_NAME_BONUS
                        } else {
                            score
                        },
                        plays: columns.plays.get_val(doc),
                        shortness: u64::MAX - words_in_name,
                    },
                    address: DocAddress::new(ord as u32, doc),
                };
                let heap = &mut best[kind];
                if heap.len() < limit {
                    heap.push(Reverse(hit));
                } else if heap.peek().is_some_and(|Reverse(worst)| hit > *worst) {
                    heap.pop();
                    heap.push(Reverse(hit));
                }
            }
            doc = matches.advance();
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
            collect(
                &searcher,
                fields,
                &generation.columns,
                &name_only,
                viewer,
                words,
                limit,
            )?
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
            let mut more = collect(
                &searcher,
                fields,
                &generation.columns,
                &anywhere,
                viewer,
                words,
                limit,
            )?;
            for kind in short {
                found[kind.code() as usize] = std::mem::take(&mut more[kind.code() as usize]);
            }
        }
        Ok(found)
    };
    let mut found = pass(&Typos::exact(query))?;
    if found.iter().all(Vec::is_empty) {
        if let Some(typos) = Typos::of(&searcher, fields, &generation.lookalikes, query)? {
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
