//! The tracks a model knows, numbered densely, with the metadata content-based similarity
//! reads: artists, album, genres and year. Built from catalog events (the service) or from a
//! data set's item file (evaluation).

use std::collections::HashMap;

/// One track's metadata as names; [`Items::push`] numbers the names.
#[derive(Debug, Clone, Default)]
pub struct ItemMeta {
    pub id: String,
    /// `(id, name)` of each artist.
    pub artists: Vec<(String, String)>,
    pub album: Option<String>,
    pub genres: Vec<String>,
    pub year: Option<i64>,
}

/// A track's numbered artists, album, genres and year.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features<'a> {
    pub artists: &'a [u32],
    pub album: Option<u32>,
    pub genres: &'a [u32],
    pub year: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Items {
    pub ids: Vec<String>,
    index: HashMap<String, u32>,
    pub artists: Vec<Vec<u32>>,
    pub albums: Vec<Option<u32>>,
    pub genres: Vec<Vec<u32>>,
    pub years: Vec<Option<i64>>,
    pub artist_ids: Vec<String>,
    pub artist_names: Vec<String>,
    artist_index: HashMap<String, u32>,
    /// Lower-cased genre names, as they are matched.
    genre_keys: HashMap<String, u32>,
    pub genre_names: Vec<String>,
    album_index: HashMap<String, u32>,
    /// Items of each artist, album and genre.
    pub by_artist: Vec<Vec<u32>>,
    pub by_album: Vec<Vec<u32>>,
    pub by_genre: Vec<Vec<u32>>,
}

impl Items {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// An artist's number, by id or (case-insensitively) by name.
    pub fn artist(&self, id_or_name: &str) -> Option<u32> {
        self.artist_index
            .get(id_or_name)
            .or_else(|| self.artist_index.get(&name_key(id_or_name)))
            .copied()
    }

    pub fn genre(&self, name: &str) -> Option<u32> {
        self.genre_keys.get(&name_key(name)).copied()
    }

    /// Adds a track (a repeated id is ignored) and returns its number.
    pub fn push(&mut self, meta: ItemMeta) -> u32 {
        if let Some(existing) = self.index.get(&meta.id) {
            return *existing;
        }
        let item = self.ids.len() as u32;
        let mut artists = Vec::new();
        for (id, name) in &meta.artists {
            let artist = match self.artist_index.get(id) {
                Some(a) => *a,
                None => {
                    let a = self.artist_ids.len() as u32;
                    self.artist_ids.push(id.clone());
                    self.artist_names.push(name.clone());
                    self.artist_index.insert(id.clone(), a);
                    self.artist_index.entry(name_key(name)).or_insert(a);
                    self.by_artist.push(Vec::new());
                    a
                }
            };
            if !artists.contains(&artist) {
                artists.push(artist);
                self.by_artist[artist as usize].push(item);
            }
        }
        let album = meta.album.filter(|a| !a.is_empty()).map(|album| {
            let next = self.by_album.len() as u32;
            let a = *self.album_index.entry(album).or_insert(next);
            if a == next {
                self.by_album.push(Vec::new());
            }
            self.by_album[a as usize].push(item);
            a
        });
        let mut genres = Vec::new();
        for name in &meta.genres {
            let key = name_key(name);
            if key.is_empty() {
                continue;
            }
            let next = self.genre_names.len() as u32;
            let g = *self.genre_keys.entry(key).or_insert(next);
            if g == next {
                self.genre_names.push(name.trim().to_string());
                self.by_genre.push(Vec::new());
            }
            if !genres.contains(&g) {
                genres.push(g);
                self.by_genre[g as usize].push(item);
            }
        }
        self.index.insert(meta.id.clone(), item);
        self.ids.push(meta.id);
        self.artists.push(artists);
        self.albums.push(album);
        self.genres.push(genres);
        self.years.push(meta.year);
        item
    }

    /// What content similarity compares of a track.
    pub fn features(&self, item: u32) -> Features<'_> {
        let i = item as usize;
        Features {
            artists: &self.artists[i],
            album: self.albums[i],
            genres: &self.genres[i],
            year: self.years[i],
        }
    }

    /// How alike two tracks are by their metadata alone, from 0 to 1: a shared artist counts
    /// most, then the same album, shared genres and a near year.
    pub fn content_similarity(&self, a: u32, b: u32) -> f32 {
        self.similarity_to(&self.features(a), b)
    }

    /// [`Items::content_similarity`] of a track described by `a` (one the model may not know).
    pub fn similarity_to(&self, a: &Features<'_>, b: u32) -> f32 {
        let b = self.features(b);
        let mut score = 0.0;
        if a.artists.iter().any(|x| b.artists.contains(x)) {
            score += 0.4;
        }
        if a.album.is_some() && a.album == b.album {
            score += 0.15;
        }
        if !a.genres.is_empty() && !b.genres.is_empty() {
            let shared = a.genres.iter().filter(|g| b.genres.contains(g)).count() as f32;
            let union = (a.genres.len() + b.genres.len()) as f32 - shared;
            score += 0.35 * shared / union;
        }
        if let (Some(ya), Some(yb)) = (a.year, b.year) {
            let gap = (ya - yb).unsigned_abs() as f32;
            score += 0.1 * (1.0 - (gap / 10.0).min(1.0));
        }
        score
    }

    /// The item's first artist, for diversity.
    pub fn main_artist(&self, item: u32) -> Option<u32> {
        self.artists[item as usize].first().copied()
    }
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, artist: &str, album: &str, genres: &[&str], year: i64) -> ItemMeta {
        ItemMeta {
            id: id.into(),
            artists: vec![(format!("ar-{artist}"), artist.into())],
            album: Some(album.into()),
            genres: genres.iter().map(|g| g.to_string()).collect(),
            year: Some(year),
        }
    }

    #[test]
    fn numbers_names_and_compares_tracks() {
        let mut items = Items::default();
        let a = items.push(meta("a", "Björk", "Post", &["Pop", "electronic"], 1995));
        let b = items.push(meta("b", "Björk", "Post", &["Electronic"], 1995));
        let c = items.push(meta("c", "Slayer", "Reign", &["Metal"], 1986));
        assert_eq!(items.push(meta("a", "x", "y", &[], 1)), a);
        assert_eq!(items.genre("ELECTRONIC"), items.genre("electronic"));
        assert_eq!(items.artist("björk"), items.artist("ar-Björk"));
        assert_eq!(
            items.by_genre[items.genre("electronic").unwrap() as usize],
            vec![a, b]
        );
        assert!(items.content_similarity(a, b) > 0.6);
        assert!(items.content_similarity(a, c) < 0.05);
    }
}
