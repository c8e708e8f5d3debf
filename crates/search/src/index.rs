//! The index on disk: generations in the search folder, the one in use named by `CURRENT`.
//! A rebuild writes a new generation beside the old one, which keeps answering until
//! `CURRENT` is switched; each commit records (in tantivy's commit payload) the schema version
//! and the last entry of `index_changes` it applied.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::cache::{ColumnCache, LookalikeCache};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::text;

const CURRENT: &str = "CURRENT";

/// What each commit records.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    pub schema: u32,
    /// The last `index_changes` entry this generation reflects.
    pub applied: i64,
}

impl Payload {
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}

/// One index directory, open for reading.
pub struct Generation {
    pub name: String,
    pub index: Index,
    pub reader: IndexReader,
    /// `None` when the index is of a schema this version cannot query.
    pub fields: Option<Fields>,
    pub payload: Payload,
    /// The fast fields queries read, opened once per segment.
    pub columns: ColumnCache,
    /// Lookalikes of misspelled words found lately.
    pub lookalikes: LookalikeCache,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index folder: {0}")]
    Directory(String),
    #[error("indexing task failed: {0}")]
    Task(String),
    #[error("the search index is in use by another process (a running server?)")]
    Busy,
}

fn register_analyzer(index: &Index) {
    index
        .tokenizers()
        .register(text::ANALYZER, text::analyzer());
}

impl Generation {
    fn open(root: &Path, name: &str) -> Result<Generation, IndexError> {
        let dir = MmapDirectory::open(root.join(name))
            .map_err(|e| IndexError::Directory(e.to_string()))?;
        let index = Index::open(dir)?;
        register_analyzer(&index);
        let payload = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .unwrap_or_default();
        let fields = Fields::of(&index.schema());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Generation {
            name: name.to_string(),
            index,
            reader,
            fields,
            payload,
            columns: ColumnCache::default(),
            lookalikes: LookalikeCache::default(),
        })
    }

    pub fn is_current_schema(&self) -> bool {
        self.payload.schema == SCHEMA_VERSION && self.fields.is_some()
    }
}

/// The search folder and the generation in use.
pub struct IndexSet {
    root: PathBuf,
    current: RwLock<Option<Arc<Generation>>>,
    /// Held (locked) while this process owns the folder.
    _lock: std::fs::File,
}

impl IndexSet {
    /// Takes the folder (one process at a time: [`IndexError::Busy`] otherwise) and opens the
    /// generation `CURRENT` names, if it opens; a missing or corrupt one is logged and left
    /// for a rebuild.
    pub fn open(root: PathBuf) -> Result<IndexSet, IndexError> {
        std::fs::create_dir_all(&root)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("LOCK"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(IndexError::Busy),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let set = IndexSet {
            root,
            current: RwLock::new(None),
            _lock: lock,
        };
        if let Some(name) = set.current_name() {
            match Generation::open(&set.root, &name) {
                Ok(generation) => set.install(Arc::new(generation)),
                Err(e) => {
                    tracing::warn!(index = %name, error = %e, "search: the index does not open; it will be rebuilt")
                }
            }
        }
        Ok(set)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generation `CURRENT` names on disk now.
    pub fn current_name(&self) -> Option<String> {
        std::fs::read_to_string(self.root.join(CURRENT))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    pub fn current(&self) -> Option<Arc<Generation>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn install(&self, generation: Arc<Generation>) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(generation);
    }

    /// A new, empty generation directory with this version's schema.
    pub fn create(&self) -> Result<(String, Index, Fields), IndexError> {
        let name = format!("index-{}", generation_name());
        let path = self.root.join(&name);
        std::fs::create_dir_all(&path)?;
        let (schema, fields) = schema::build();
        let dir = MmapDirectory::open(&path).map_err(|e| IndexError::Directory(e.to_string()))?;
        let settings = tantivy::IndexSettings {
            // Most played first: a query matching a great many entries ranks the most played.
            sort_by_field: Some(tantivy::IndexSortByField {
                field: "plays".into(),
                order: tantivy::Order::Desc,
            }),
            ..tantivy::IndexSettings::default()
        };
        let index = Index::create(dir, schema, settings)?;
        register_analyzer(&index);
        Ok((name, index, fields))
    }

    /// Makes `name` the generation in use (on disk and in this process) and deletes the others.
    pub fn switch_to(&self, name: &str) -> Result<Arc<Generation>, IndexError> {
        let generation = Arc::new(Generation::open(&self.root, name)?);
        let tmp = self.root.join(format!("{CURRENT}.tmp"));
        std::fs::write(&tmp, name)?;
        std::fs::rename(&tmp, self.root.join(CURRENT))?;
        self.install(generation.clone());
        self.remove_others(name);
        Ok(generation)
    }

    fn remove_others(&self, keep: &str) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("index-") && name != keep {
                if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                    tracing::warn!(index = %name, error = %e, "search: could not delete an old index");
                }
            }
        }
    }
}

/// A name that sorts by creation time and does not collide.
fn generation_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:013}-{:09}", now.as_millis(), now.subsec_nanos())
}
