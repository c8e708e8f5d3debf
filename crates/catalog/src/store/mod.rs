//! The catalog's tables. SQL is written once for SQLite and PostgreSQL (see the db crate):
//! `write` holds what scans and uploads change, `read` what browsing asks.

mod read;
mod scans;
mod write;

use beatstream_db::{placeholders, Db};

pub use read::{AlbumFilter, TrackFilter};
pub use write::{IndexedFile, TrackWrite, WriteCache};

#[derive(Clone)]
pub struct CatalogStore {
    db: Db,
}

impl CatalogStore {
    pub fn new(db: Db) -> Self {
        CatalogStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
