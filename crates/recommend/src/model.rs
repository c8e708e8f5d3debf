//! The trained model and the two things it answers: a listener's recommendations (a blend of
//! matrix factorisation, item-item neighbours, content similarity and popularity, each pick
//! with the reason that weighed most) and a radio station from one track.
//!
//! The model is immutable once trained; the service swaps in a new one after each retraining,
//! and requests in flight keep the one they started with.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::als::{Als, AlsParams};
use crate::items::{Features, ItemMeta, Items};
use crate::knn::{top_k, KnnParams, Neighbors};
use crate::sparse::Csr;

/// What a model is trained from.
pub struct TrainingData {
    pub items: Items,
    /// Listeners by items: how strongly each listener likes each track (plays, likes, their
    /// own playlists).
    pub user_items: Csr,
    /// Public playlists by items: tracks that people put together.
    pub baskets: Csr,
}

/// How much each source counts in a listener's blend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blend {
    pub als: f32,
    pub knn: f32,
    pub content: f32,
    pub popularity: f32,
}

impl Default for Blend {
    fn default() -> Self {
        // Chosen with the ALS settings (see `AlsParams::default`); content decides where the
        // others have nothing to say (a new listener, a new track, a one-listener server).
        Blend {
            als: 1.0,
            knn: 0.3,
            content: 0.1,
            popularity: 0.02,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ModelParams {
    pub als: AlsParams,
    pub knn: KnnParams,
    pub blend: Blend,
    /// How fast a listener's older tracks count less (see [`recency_weighted`]).
    pub recency_half_life: f32,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            als: AlsParams::default(),
            knn: KnnParams::default(),
            blend: Blend::default(),
            recency_half_life: 5.0,
        }
    }
}

/// Why a track was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Listeners who play the same things play this (matrix factorisation).
    SimilarListeners,
    /// Played or put together with this track of the listener's own history.
    BecauseOf(u32),
    /// By an artist the listener plays or says they like.
    Artist(u32),
    /// In a genre the listener plays or says they like.
    Genre(u32),
    /// Played most on this server.
    Popular,
    /// Nothing to go on yet: something from the library to start with.
    Discover,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    pub item: u32,
    pub score: f32,
    pub reason: Reason,
}

/// A listener as a request sees them.
#[derive(Debug, Clone, Default)]
pub struct Taste {
    /// Tracks of their history with how strongly they like each (positive).
    pub history: Vec<(u32, f32)>,
    pub favorite_artists: Vec<u32>,
    pub favorite_genres: Vec<u32>,
    /// Never to be recommended: recently played, disliked (skipped), or held out.
    pub exclude: HashSet<u32>,
}

pub struct Model {
    pub items: Items,
    /// From 0 to 1, on a log scale of how many listeners and playlists have each track.
    popularity: Vec<f32>,
    /// Items, most popular first.
    popular: Vec<u32>,
    by_artist_popular: Vec<Vec<u32>>,
    by_genre_popular: Vec<Vec<u32>>,
    als: Option<Als>,
    knn: Neighbors,
    blend: Blend,
    pub stats: ModelStats,
}

#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ModelStats {
    pub tracks: usize,
    pub listeners: usize,
    pub interactions: usize,
    pub playlists: usize,
    pub neighbor_pairs: usize,
    pub factorised: bool,
    pub train_ms: u64,
    /// Of which the factorisation and the neighbours.
    pub als_ms: u64,
    pub knn_ms: u64,
}

/// Per-source scores of one candidate.
#[derive(Default, Clone, Copy)]
struct Parts {
    candidate: bool,
    als: f32,
    knn: f32,
    /// The largest single contribution to `knn`, and from which track of the history.
    knn_best: f32,
    knn_from: u32,
    content: f32,
    content_reason: Option<Reason>,
    popularity: f32,
}

/// Every item's parts, densely (no hashing on the request path), and which are candidates.
struct Candidates {
    parts: Vec<Parts>,
    touched: Vec<u32>,
}

impl Candidates {
    fn new(items: usize) -> Self {
        Candidates {
            parts: vec![Parts::default(); items],
            touched: Vec::with_capacity(4096),
        }
    }

    fn at(&mut self, item: u32) -> &mut Parts {
        let p = &mut self.parts[item as usize];
        if !p.candidate {
            p.candidate = true;
            self.touched.push(item);
        }
        p
    }
}

const CANDIDATES_PER_SOURCE: usize = 300;
const CONTENT_ARTISTS: usize = 10;
const CONTENT_GENRES: usize = 5;
/// Tracks per artist or genre (most popular first) that content similarity considers.
const CONTENT_PER_GROUP: usize = 300;
/// The same for a radio's seed, whose station draws more on its artist and genres.
const RADIO_PER_GROUP: usize = 2000;
const HISTORY_FOR_NEIGHBOURS: usize = 200;

impl Model {
    pub fn train(data: TrainingData, params: ModelParams) -> Model {
        let started = Instant::now();
        let n = data.items.len();
        let mut counts = data.user_items.column_counts();
        for (count, extra) in counts.iter_mut().zip(data.baskets.column_counts()) {
            *count += extra;
        }
        let max = counts.iter().copied().max().unwrap_or(0) as f32;
        let popularity: Vec<f32> = counts
            .iter()
            .map(|&c| {
                if max > 0.0 {
                    (1.0 + c as f32).ln() / (1.0 + max).ln()
                } else {
                    0.0
                }
            })
            .collect();
        let mut popular: Vec<u32> = (0..n as u32).collect();
        popular.sort_by(|a, b| popularity[*b as usize].total_cmp(&popularity[*a as usize]));
        let rank: Vec<u32> = {
            let mut rank = vec![0u32; n];
            for (r, item) in popular.iter().enumerate() {
                rank[*item as usize] = r as u32;
            }
            rank
        };
        let by_rank = |lists: &Vec<Vec<u32>>| -> Vec<Vec<u32>> {
            lists
                .iter()
                .map(|list| {
                    let mut list = list.clone();
                    list.sort_by_key(|i| rank[*i as usize]);
                    list
                })
                .collect()
        };
        let by_artist_popular = by_rank(&data.items.by_artist);
        let by_genre_popular = by_rank(&data.items.by_genre);
        // Co-occurrence: every listener's history and every public playlist is a basket.
        let baskets = Csr::from_rows(
            (0..data.user_items.rows())
                .map(|u| data.user_items.row(u).0.iter().map(|&i| (i, 1.0)).collect())
                .chain(
                    (0..data.baskets.rows())
                        .map(|b| data.baskets.row(b).0.iter().map(|&i| (i, 1.0)).collect()),
                ),
            n,
        );
        let knn_started = Instant::now();
        let knn = Neighbors::build(&baskets, params.knn);
        let knn_ms = knn_started.elapsed().as_millis() as u64;
        let listeners = (0..data.user_items.rows())
            .filter(|&u| !data.user_items.row(u).0.is_empty())
            .count();
        // Factorisation needs several listeners to find anything a listener does not already
        // share with themself.
        let als_started = Instant::now();
        let als = (listeners >= 2 && n > 0).then(|| Als::train(&data.user_items, params.als).als);
        let als_ms = als_started.elapsed().as_millis() as u64;
        let stats = ModelStats {
            tracks: n,
            listeners,
            interactions: data.user_items.nnz(),
            playlists: data.baskets.rows(),
            neighbor_pairs: knn.pairs(),
            factorised: als.is_some(),
            train_ms: started.elapsed().as_millis() as u64,
            als_ms,
            knn_ms,
        };
        Model {
            items: data.items,
            popularity,
            popular,
            by_artist_popular,
            by_genre_popular,
            als,
            knn,
            blend: params.blend,
            stats,
        }
    }

    /// An empty model, before the first training.
    pub fn empty() -> Model {
        Model::train(
            TrainingData {
                items: Items::default(),
                user_items: Csr::default_with_columns(0),
                baskets: Csr::default_with_columns(0),
            },
            ModelParams::default(),
        )
    }

    /// The same model with other blend weights (for evaluating each source alone).
    pub fn set_blend(&mut self, blend: Blend) {
        self.blend = blend;
    }

    /// Up to `n` picks for a listener, best first, spread over artists (see
    /// `diversified`). Tracks of their history come only when nothing new is left.
    pub fn recommend(&self, taste: &Taste, n: usize) -> Vec<Pick> {
        if n == 0 || self.items.is_empty() {
            return Vec::new();
        }
        let mut parts = Candidates::new(self.items.len());
        let history: Vec<(u32, f32)> = taste
            .history
            .iter()
            .copied()
            .filter(|(i, w)| (*i as usize) < self.items.len() && *w > 0.0)
            .collect();
        self.score_als(&history, &mut parts);
        self.score_neighbours(&history, &mut parts);
        self.score_content(taste, &history, &mut parts);
        for &item in self.popular.iter().take(CANDIDATES_PER_SOURCE) {
            parts.at(item).popularity = self.popularity[item as usize];
        }
        let blend = self.blend;
        let mut ranked: Vec<Pick> = parts
            .touched
            .iter()
            .filter(|item| !taste.exclude.contains(item))
            .map(|&item| {
                let p = &parts.parts[item as usize];
                let contributions = [
                    (blend.als * p.als, Reason::SimilarListeners),
                    (blend.knn * p.knn, Reason::BecauseOf(p.knn_from)),
                    (
                        blend.content * p.content,
                        p.content_reason.unwrap_or(Reason::Popular),
                    ),
                    (blend.popularity * p.popularity, Reason::Popular),
                ];
                let score: f32 = contributions.iter().map(|(s, _)| s).sum();
                let reason = contributions
                    .iter()
                    .filter(|(s, _)| *s > 0.0)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map_or(Reason::Discover, |(_, r)| *r);
                Pick {
                    item,
                    score,
                    reason,
                }
            })
            .collect();
        // Only the best few hundred can make the list (the artist cap passes over at most a
        // few per artist): sort those.
        let keep = 20 * n + 200;
        let order = |a: &Pick, b: &Pick| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item));
        if ranked.len() > keep {
            ranked.select_nth_unstable_by(keep, order);
            ranked.truncate(keep);
        }
        ranked.sort_by(order);
        let known: HashSet<u32> = history.iter().map(|(i, _)| *i).collect();
        let cap = n.div_ceil(5).max(2);
        self.diversified(&ranked, n, cap, |pick| !known.contains(&pick.item))
    }

    /// Picks from `ranked` (best first) in passes that loosen in turn: tracks something speaks
    /// for, at most `cap` per artist; the same with at most a third of the list per artist;
    /// then tracks nothing speaks for (something new to try), at most `cap` and then a third; then
    /// without limits; and last, if still short, the ones `fresh` turned down. So a listener of
    /// one artist gets that artist and others, and a stated favourite genre with a few artists
    /// in it fills most of the list before anything unrelated.
    fn diversified(
        &self,
        ranked: &[Pick],
        n: usize,
        cap: usize,
        fresh: impl Fn(&Pick) -> bool,
    ) -> Vec<Pick> {
        let third = n.div_ceil(3).max(cap);
        // (only scored tracks, per-artist limit, only fresh tracks)
        let passes = [
            (true, cap, true),
            (true, third, true),
            (false, cap, true),
            (false, third, true),
            (false, usize::MAX, true),
            (false, usize::MAX, false),
        ];
        let mut out: Vec<Pick> = Vec::with_capacity(n);
        let mut taken: HashSet<u32> = HashSet::new();
        let mut per_artist: HashMap<u32, usize> = HashMap::new();
        for (scored_only, limit, fresh_only) in passes {
            for pick in ranked {
                if out.len() >= n {
                    return out;
                }
                if taken.contains(&pick.item)
                    || (fresh_only && !fresh(pick))
                    || (scored_only && pick.score <= 0.0)
                {
                    continue;
                }
                let artist = self.items.main_artist(pick.item);
                if let Some(artist) = artist {
                    if per_artist.get(&artist).copied().unwrap_or(0) >= limit {
                        continue;
                    }
                    *per_artist.entry(artist).or_default() += 1;
                }
                taken.insert(pick.item);
                out.push(*pick);
            }
        }
        out
    }

    pub fn als(&self) -> Option<&Als> {
        self.als.as_ref()
    }

    fn score_als(&self, history: &[(u32, f32)], parts: &mut Candidates) {
        let Some(als) = &self.als else { return };
        if history.is_empty() {
            return;
        }
        let user = als.fold_in(history);
        let mut scores = Vec::new();
        als.score_all(&user, &mut scores);
        let mut top: Vec<(u32, f32)> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(i, s)| (i as u32, s))
            .collect();
        top_k(&mut top, CANDIDATES_PER_SOURCE + history.len());
        let max = top.first().map_or(0.0, |t| t.1);
        if max <= 0.0 {
            return;
        }
        for (item, score) in top {
            parts.at(item).als = score / max;
        }
    }

    fn score_neighbours(&self, history: &[(u32, f32)], parts: &mut Candidates) {
        let mut strongest: Vec<(u32, f32)> = history.to_vec();
        top_k(&mut strongest, HISTORY_FOR_NEIGHBOURS);
        let max_weight = strongest.first().map_or(0.0, |h| h.1);
        if max_weight <= 0.0 {
            return;
        }
        for &(from, weight) in &strongest {
            let w = weight / max_weight;
            for (to, sim) in self.knn.of(from) {
                let p = parts.at(to);
                p.knn += w * sim;
                if w * sim > p.knn_best {
                    p.knn_best = w * sim;
                    p.knn_from = from;
                }
            }
        }
        // Every item with a neighbour score was touched here or before.
        let max = parts
            .touched
            .iter()
            .map(|&i| parts.parts[i as usize].knn)
            .fold(0.0, f32::max);
        if max <= 0.0 {
            return;
        }
        for k in 0..parts.touched.len() {
            let i = parts.touched[k] as usize;
            parts.parts[i].knn /= max;
        }
    }

    fn score_content(&self, taste: &Taste, history: &[(u32, f32)], parts: &mut Candidates) {
        let mut artist_weight: HashMap<u32, f32> = HashMap::new();
        let mut genre_weight: HashMap<u32, f32> = HashMap::new();
        for &(item, w) in history {
            for &a in &self.items.artists[item as usize] {
                *artist_weight.entry(a).or_default() += w;
            }
            for &g in &self.items.genres[item as usize] {
                *genre_weight.entry(g).or_default() += w;
            }
        }
        normalise(&mut artist_weight);
        normalise(&mut genre_weight);
        for &a in &taste.favorite_artists {
            artist_weight.insert(a, 1.0);
        }
        for &g in &taste.favorite_genres {
            genre_weight.insert(g, 1.0);
        }
        let strongest = |weights: &HashMap<u32, f32>, k: usize| {
            let mut v: Vec<(u32, f32)> = weights.iter().map(|(a, w)| (*a, *w)).collect();
            top_k(&mut v, k);
            v
        };
        let mut candidates: Vec<u32> = Vec::new();
        for (a, _) in strongest(&artist_weight, CONTENT_ARTISTS) {
            candidates.extend(
                self.by_artist_popular[a as usize]
                    .iter()
                    .take(CONTENT_PER_GROUP),
            );
        }
        for (g, _) in strongest(&genre_weight, CONTENT_GENRES) {
            candidates.extend(
                self.by_genre_popular[g as usize]
                    .iter()
                    .take(CONTENT_PER_GROUP),
            );
        }
        for item in candidates {
            if parts.parts[item as usize].content_reason.is_some() {
                continue;
            }
            let best = |list: &[u32], weights: &HashMap<u32, f32>| {
                list.iter()
                    .filter_map(|x| weights.get(x).map(|w| (*x, *w)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
            };
            let artist = best(&self.items.artists[item as usize], &artist_weight);
            let genre = best(&self.items.genres[item as usize], &genre_weight);
            let artist_part = artist.map_or(0.0, |a| 0.6 * a.1);
            let genre_part = genre.map_or(0.0, |g| 0.4 * g.1);
            // Within a taste, the better-liked tracks first.
            let score = artist_part + genre_part + 0.1 * self.popularity[item as usize];
            let reason = match (artist, genre) {
                (Some((a, _)), _) if artist_part >= genre_part => Reason::Artist(a),
                (_, Some((g, _))) => Reason::Genre(g),
                (Some((a, _)), None) => Reason::Artist(a),
                (None, None) => continue,
            };
            let p = parts.at(item);
            p.content = score / 1.1;
            p.content_reason = Some(reason);
        }
    }

    /// A station of up to `n` tracks seeded by `seed` (first), each alike to it by what
    /// listeners play together and by artist, genre and era; no artist takes more than a
    /// third of it (the seed's) or a fifth (any other) while other close tracks are available,
    /// and one artist rarely plays twice in a row.
    pub fn radio(&self, seed: u32, n: usize, exclude: &HashSet<u32>) -> Vec<u32> {
        if n == 0 || seed as usize >= self.items.len() {
            return Vec::new();
        }
        let mut scores: HashMap<u32, f32> = HashMap::new();
        let knn: Vec<(u32, f32)> = self.knn.of(seed).collect();
        let knn_max = knn.first().map_or(0.0, |k| k.1);
        for (item, sim) in knn {
            *scores.entry(item).or_default() += 0.5 * sim / knn_max;
        }
        if let Some(als) = self.als.as_ref().filter(|a| a.has_vector(seed)) {
            let mut all = Vec::new();
            als.similarities(seed, &mut all);
            let mut sims: Vec<(u32, f32)> = all
                .into_iter()
                .enumerate()
                .filter(|(_, s)| *s > 0.0)
                .map(|(i, s)| (i as u32, s))
                .collect();
            top_k(&mut sims, CANDIDATES_PER_SOURCE);
            for (item, sim) in sims {
                *scores.entry(item).or_default() += 0.3 * sim;
            }
        }
        let alike = self.alike(&self.items.features(seed));
        for item in alike {
            *scores.entry(item).or_default() += 0.5 * self.items.content_similarity(seed, item);
        }
        let mut ranked: Vec<(u32, f32)> = scores
            .into_iter()
            .filter(|(item, _)| *item != seed && !exclude.contains(item))
            .map(|(item, s)| (item, s + 0.05 * self.popularity[item as usize]))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if ranked.len() < n {
            // A thin station is topped up with what is popular.
            let have: HashSet<u32> = ranked.iter().map(|r| r.0).collect();
            for &item in &self.popular {
                if ranked.len() >= n * 2 {
                    break;
                }
                if item != seed && !exclude.contains(&item) && !have.contains(&item) {
                    ranked.push((item, 0.0));
                }
            }
        }
        let seed_artist = self.items.main_artist(seed);
        let mut out = vec![seed];
        self.station_order(seed_artist, ranked, n, &mut out);
        out
    }

    /// A station for a track the model does not know yet (added since it was trained): the
    /// tracks of its artists and genres, by how alike their metadata is. The seed is not in it.
    pub fn radio_from_meta(&self, seed: &ItemMeta, n: usize, exclude: &HashSet<u32>) -> Vec<u32> {
        let artists: Vec<u32> = seed
            .artists
            .iter()
            .filter_map(|(id, _)| self.items.artist(id))
            .collect();
        let genres: Vec<u32> = seed
            .genres
            .iter()
            .filter_map(|g| self.items.genre(g))
            .collect();
        let features = Features {
            artists: &artists,
            genres: &genres,
            ..Features::default()
        };
        let mut ranked: Vec<(u32, f32)> = self
            .alike(&features)
            .into_iter()
            .filter(|i| !exclude.contains(i) && self.items.ids[*i as usize] != seed.id)
            .map(|i| {
                let s = self.items.similarity_to(&features, i);
                (i, s + 0.05 * self.popularity[i as usize])
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out = Vec::new();
        self.station_order(artists.first().copied(), ranked, n, &mut out);
        out
    }

    /// A radio's candidates by content: the most played tracks of the seed's artists and
    /// genres, and its album.
    fn alike(&self, seed: &Features<'_>) -> HashSet<u32> {
        let mut alike: HashSet<u32> = HashSet::new();
        for &a in seed.artists {
            alike.extend(
                self.by_artist_popular[a as usize]
                    .iter()
                    .take(RADIO_PER_GROUP),
            );
        }
        for &g in seed.genres {
            alike.extend(
                self.by_genre_popular[g as usize]
                    .iter()
                    .take(RADIO_PER_GROUP),
            );
        }
        if let Some(album) = seed.album {
            alike.extend(self.items.by_album[album as usize].iter());
        }
        alike
    }

    /// Appends to `out` (which may hold the seed) up to `n` entries in all from `ranked`.
    fn station_order(
        &self,
        seed_artist: Option<u32>,
        ranked: Vec<(u32, f32)>,
        n: usize,
        out: &mut Vec<u32>,
    ) {
        let mut per_artist: HashMap<u32, usize> = HashMap::new();
        if let Some(a) = seed_artist {
            per_artist.insert(a, 1);
        }
        let cap_of = |artist: Option<u32>| {
            if artist == seed_artist {
                n.div_ceil(3).max(2)
            } else {
                n.div_ceil(5).max(2)
            }
        };
        // Coherence first: tracks close to the seed (at least a third of the best one's
        // score) with the caps, then without them, and only then anything else, capped.
        let relevant = ranked.first().map_or(0.0, |r| r.1) / 3.0;
        let mut left: Vec<(u32, f32)> = ranked;
        for pass in 0..3 {
            while out.len() < n {
                let previous = out.last().and_then(|i| self.items.main_artist(*i));
                let allowed = |item: u32, score: f32, per_artist: &HashMap<u32, usize>| {
                    let artist = self.items.main_artist(item);
                    let capped = artist
                        .is_none_or(|a| per_artist.get(&a).copied().unwrap_or(0) < cap_of(Some(a)));
                    match pass {
                        0 => score >= relevant && capped,
                        1 => score >= relevant,
                        _ => capped,
                    }
                };
                // The best allowed one, preferring (among the next few) another artist than the
                // one just played.
                let mut choice = None;
                for (index, (item, score)) in left.iter().enumerate() {
                    if !allowed(*item, *score, &per_artist) {
                        continue;
                    }
                    if choice.is_none() {
                        choice = Some(index);
                    }
                    let artist = self.items.main_artist(*item);
                    if previous.is_none() || artist != previous {
                        choice = Some(index);
                        break;
                    }
                    if index > choice.unwrap_or(0) + 5 {
                        break;
                    }
                }
                let Some(index) = choice else { break };
                let (item, _) = left.remove(index);
                if let Some(a) = self.items.main_artist(item) {
                    *per_artist.entry(a).or_default() += 1;
                }
                out.push(item);
            }
        }
    }
}

/// Weighs a history `(item, strength, last time)` towards its recent end: the newest entry keeps
/// its strength, one `half_life` entries older counts for 0.25 + 0.75/2 of it, and the oldest
/// never less than a quarter. Taste drifts; what a listener played lately says most about what
/// they play next.
pub fn recency_weighted(mut history: Vec<(u32, f32, i64)>, half_life: f32) -> Vec<(u32, f32)> {
    history.sort_by_key(|h| std::cmp::Reverse(h.2));
    history
        .into_iter()
        .enumerate()
        .map(|(age, (item, strength, _))| {
            let decay = 0.5f32.powf(age as f32 / half_life.max(1.0));
            (item, strength * (0.25 + 0.75 * decay))
        })
        .collect()
}

fn normalise(weights: &mut HashMap<u32, f32>) {
    let max = weights.values().copied().fold(0.0, f32::max);
    if max > 0.0 {
        for w in weights.values_mut() {
            *w /= max;
        }
    }
}
