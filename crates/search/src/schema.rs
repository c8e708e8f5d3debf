//! The index's schema: one document per track, album, artist and playlist.
//!
//! Text is indexed twice: as folded words (`name`, `other`) and as every prefix of those words
//! (`name_prefix`, `other_prefix`), so a half-typed word is one term lookup, not a scan of the
//! term dictionary. `name` is what the entry is called (a title, an artist's or playlist's
//! name); `other` is what else identifies it (a track's artists and album, an album's artists,
//! a playlist's owner and description). The reply for each entry is stored ready to send.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};

use crate::text::ANALYZER;

/// Bumped whenever the schema or what goes into it changes: an index of another version is
/// rebuilt at start (while the old one keeps answering, where it can be opened).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Track,
    Album,
    Artist,
    Playlist,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Track, Kind::Album, Kind::Artist, Kind::Playlist];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Album => "album",
            Kind::Artist => "artist",
            Kind::Playlist => "playlist",
        }
    }

    /// The kind's number in the `kind_code` fast field.
    pub fn code(self) -> u64 {
        match self {
            Kind::Track => 0,
            Kind::Album => 1,
            Kind::Artist => 2,
            Kind::Playlist => 3,
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The document's key in the index: kinds have separate id spaces.
    pub fn key(self, id: &str) -> String {
        format!("{}:{id}", self.as_str())
    }
}

#[derive(Clone)]
pub struct Fields {
    pub key: Field,
    pub kind: Field,
    pub kind_code: Field,
    pub name: Field,
    pub name_prefix: Field,
    pub other: Field,
    pub other_prefix: Field,
    /// `name` and `other` together, and their prefixes: what a word must match somewhere
    /// (one posting list per word, which intersects fast); the four above only rank.
    pub all: Field,
    pub all_prefix: Field,
    pub artist: Field,
    pub album: Field,
    pub genre: Field,
    pub year: Field,
    /// 1 for a private playlist, which only its members find.
    pub private: Field,
    /// A private playlist's members: "user:<id>" for the owner and each collaborator.
    pub access: Field,
    /// Plays of the entry (of its tracks, for an album or artist). Segments are sorted by it,
    /// most played first.
    pub plays: Field,
    /// How many words `name` has: a whole-name match ranks first.
    pub name_words: Field,
    pub body: Field,
}

pub fn access_of_user(user_id: &str) -> String {
    format!("user:{user_id}")
}

pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Matching is by term presence; frequencies and positions would only cost space.
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        kind: builder.add_text_field("kind", STRING),
        kind_code: builder.add_u64_field("kind_code", FAST),
        name: builder.add_text_field("name", words.clone()),
        name_prefix: builder.add_text_field("name_prefix", words.clone()),
        other: builder.add_text_field("other", words.clone()),
        other_prefix: builder.add_text_field("other_prefix", words.clone()),
        all: builder.add_text_field("all", words.clone()),
        all_prefix: builder.add_text_field("all_prefix", words.clone()),
        artist: builder.add_text_field("artist", words.clone()),
        album: builder.add_text_field("album", words.clone()),
        genre: builder.add_text_field("genre", words),
        year: builder.add_i64_field("year", INDEXED | FAST),
        private: builder.add_u64_field("private", FAST),
        access: builder.add_text_field("access", STRING),
        plays: builder.add_u64_field("plays", FAST),
        name_words: builder.add_u64_field("name_words", FAST),
        body: builder.add_text_field("body", STORED),
    };
    (builder.build(), fields)
}

impl Fields {
    /// The fields of an index built with this version's schema; `None` if it lacks one.
    pub fn of(schema: &Schema) -> Option<Fields> {
        let f = |name: &str| schema.get_field(name).ok();
        Some(Fields {
            key: f("key")?,
            kind: f("kind")?,
            kind_code: f("kind_code")?,
            name: f("name")?,
            name_prefix: f("name_prefix")?,
            other: f("other")?,
            other_prefix: f("other_prefix")?,
            all: f("all")?,
            all_prefix: f("all_prefix")?,
            artist: f("artist")?,
            album: f("album")?,
            genre: f("genre")?,
            year: f("year")?,
            private: f("private")?,
            access: f("access")?,
            plays: f("plays")?,
            name_words: f("name_words")?,
            body: f("body")?,
        })
    }
}
