//! What queries would otherwise work out again and again, kept with the generation of the
//! index it was read from:
//! - the fast fields read per matched entry, opened once per segment: opening a column decodes
//!   its header (for the sorted play counts, a table of blocks);
//! - the lookalikes of a misspelled word: a walk of the term dictionary that as-you-type
//!   queries repeat at every keystroke after the typo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::{ColumnIndex, ColumnValues};
use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::SegmentReader;

use crate::schema::Fields;

/// One segment's columns, indexed by document.
pub struct SegmentColumns {
    pub kind: Arc<dyn ColumnValues<u64>>,
    pub plays: Arc<dyn ColumnValues<u64>>,
    pub name_words: Arc<dyn ColumnValues<u64>>,
    pub private: Arc<dyn ColumnValues<u64>>,
}

/// The open columns of the segments of one index.
#[derive(Default)]
pub struct ColumnCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    /// The columns of `segment`, opened on first use.
    pub fn of(
        &self,
        segment: &SegmentReader,
        fields: &Fields,
    ) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = segment.segment_id();
        if let Some(found) = self.lock().get(&id) {
            return Ok(found.clone());
        }
        let opened = Arc::new(SegmentColumns {
            kind: open(segment, fields.kind_code)?,
            plays: open(segment, fields.plays)?,
            name_words: open(segment, fields.name_words)?,
            private: open(segment, fields.private)?,
        });
        let mut segments = self.lock();
        // Segments merged away are not asked for again; forget them now and then.
        if segments.len() > 256 {
            segments.clear();
        }
        segments.insert(id, opened.clone());
        Ok(opened)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentColumns>>> {
        self.segments.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A column as values by document: directly when every document has one value, else its first
/// value or 0.
fn open(segment: &SegmentReader, field: Field) -> tantivy::Result<Arc<dyn ColumnValues<u64>>> {
    let column = segment
        .fast_fields()
        .u64(segment.schema().get_field_name(field))?;
    Ok(match column.index {
        ColumnIndex::Full => column.values,
        _ => column.first_or_default_col(0),
    })
}

/// Lookalikes per (field, word), for the searcher generation they were found in: a commit can
/// add terms, so a new generation starts afresh.
#[derive(Default)]
pub struct LookalikeCache {
    found: Mutex<Lookalikes>,
}

/// The searcher generation, and the lookalikes found in it.
type Lookalikes = (u64, HashMap<(Field, String), Vec<String>>);

/// Words remembered at most; past that the cache starts again (a few keystrokes' worth per
/// person typing is what it is for).
const LOOKALIKES_KEPT: usize = 1024;

impl LookalikeCache {
    pub fn get_or_find(
        &self,
        generation: u64,
        field: Field,
        word: &str,
        find: impl FnOnce() -> tantivy::Result<Vec<String>>,
    ) -> tantivy::Result<Vec<String>> {
        let key = (field, word.to_string());
        {
            let mut found = self.lock();
            if found.0 != generation {
                *found = (generation, HashMap::new());
            }
            if let Some(words) = found.1.get(&key) {
                return Ok(words.clone());
            }
        }
        let words = find()?;
        let mut found = self.lock();
        if found.0 == generation {
            if found.1.len() >= LOOKALIKES_KEPT {
                found.1.clear();
            }
            found.1.insert(key, words.clone());
        }
        Ok(words)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lookalikes> {
        self.found.lock().unwrap_or_else(|e| e.into_inner())
    }
}
