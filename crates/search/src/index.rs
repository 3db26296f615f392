//! The tantivy index of items, kept beside the store and brought up to date
//! by revision: every commit records, as its payload, the [`Cursor`] up to
//! which the store's items are in it (and the store's id, so an index is
//! never used with another database). The index holds only what search
//! needs to find and rank: the words of `text`, `command` and `output`,
//! and the item's row id, thread row id, kind, time and revision for
//! filters. Rows, titles and snippets come from the store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tantivy::directory::error::LockError;
use tantivy::index::IndexSettings;
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analyzer::{analyzer, ANALYZER};
use crate::{Error, Result};

/// Where the store's items are indexed up to: every item whose
/// `(revision, rowid)` is at or before this is in the index as of that
/// revision; later ones are not (or may be).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor {
    /// Store revision.
    pub revision: u64,
    /// Item rowid within that revision.
    pub rowid: i64,
}

/// The commit payload.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    store_id: String,
    #[serde(flatten)]
    cursor: Cursor,
}

/// One item as the index sees it.
#[derive(Clone, Copy, Debug)]
pub struct IndexedItem<'a> {
    /// The item's rowid in the store.
    pub rowid: i64,
    /// Its thread's rowid.
    pub thread: i64,
    /// Item kind (`user`, `tool_call`, ...).
    pub kind: &'a str,
    /// Item time (ms since the epoch).
    pub ts: Option<i64>,
    /// Revision of its last change.
    pub revision: u64,
    /// Message, reasoning or plan text.
    pub text: Option<&'a str>,
    /// Tool command.
    pub command: Option<&'a str>,
    /// Tool output.
    pub output: Option<&'a str>,
}

impl IndexedItem<'_> {
    /// Whether there is any text to index.
    pub fn has_text(&self) -> bool {
        self.text.is_some() || self.command.is_some() || self.output.is_some()
    }
}

/// The index's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    /// `text`, `command`, `output`, in [`crate::FIELD_WEIGHTS`] order.
    pub text: [Field; 3],
    pub rowid: Field,
    pub thread: Field,
    pub kind: Field,
    pub ts: Field,
    pub revision: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let num = || NumericOptions::default().set_indexed().set_fast();
    let f = Fields {
        text: [
            b.add_text_field("text", words.clone()),
            b.add_text_field("command", words.clone()),
            b.add_text_field("output", words),
        ],
        rowid: b.add_i64_field("rowid", num()),
        thread: b.add_i64_field("thread", num()),
        kind: b.add_text_field("kind", STRING),
        ts: b.add_i64_field("ts", num()),
        revision: b.add_u64_field("revision", num()),
    };
    (b.build(), f)
}

/// A searcher and the cursor it is current to, taken together.
#[derive(Clone)]
pub struct View {
    pub(crate) searcher: Searcher,
    pub(crate) fields: Fields,
    /// Items after this are not in [`View::searcher`].
    pub cursor: Cursor,
}

struct Inner {
    dir: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    store_id: String,
    view: Mutex<View>,
}

/// The search index of one store. Cheap to clone.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

impl SearchIndex {
    /// Open (creating if needed) the index in `dir` for the store with id
    /// `store_id`. An index of another store, of an older layout, or that
    /// cannot be read is thrown away and rebuilt from the store: it holds
    /// nothing the store does not.
    pub fn open(dir: &Path, store_id: &str) -> Result<SearchIndex> {
        match Self::try_open(dir, store_id) {
            Ok(Some(index)) => Ok(index),
            Ok(None) => {
                tracing::warn!(dir = %dir.display(), "search index belongs to another store or an older layout: rebuilding it");
                Self::recreate(dir, store_id)
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "search index unreadable: rebuilding it");
                Self::recreate(dir, store_id)
            }
        }
    }

    fn recreate(dir: &Path, store_id: &str) -> Result<SearchIndex> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Self::try_open(dir, store_id)?
            .ok_or_else(|| Error::Corrupt(format!("{}: fresh index unusable", dir.display())))
    }

    /// `None` when the index exists but is not one to keep.
    fn try_open(dir: &Path, store_id: &str) -> Result<Option<SearchIndex>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, fields) = schema();
        let index = if dir.join("meta.json").exists() {
            let index = Index::open_in_dir(dir)?;
            if index.schema() != schema {
                return Ok(None);
            }
            index
        } else {
            Index::builder()
                .schema(schema)
                .settings(IndexSettings::default())
                .create_in_dir(dir)?
        };
        index.tokenizers().register(ANALYZER, analyzer());
        // The payload first, then the reader: if another process commits
        // in between, the reader is newer than the cursor, which only
        // makes a search re-check a few items (never miss any).
        let cursor = match index.load_metas()?.payload {
            None => Cursor::default(),
            Some(p) => match serde_json::from_str::<Payload>(&p) {
                Ok(p) if p.store_id == store_id => p.cursor,
                _ => return Ok(None),
            },
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let view = View {
            searcher: reader.searcher(),
            fields,
            cursor,
        };
        Ok(Some(SearchIndex {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                index,
                fields,
                reader,
                store_id: store_id.to_string(),
                view: Mutex::new(view),
            }),
        }))
    }

    /// The current searcher and its cursor.
    pub fn view(&self) -> View {
        self.inner
            .view
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Take the index's writer lock, or `None` when another process (a
    /// running `tinyvex serve`, say) holds it and keeps the index current.
    pub fn writer(&self, heap_bytes: usize) -> Result<Option<IndexUpdater>> {
        match self.inner.index.writer_with_num_threads(1, heap_bytes) {
            Ok(writer) => Ok(Some(IndexUpdater {
                index: self.clone(),
                writer,
                cursor: self.view().cursor,
                pending: 0,
            })),
            Err(tantivy::TantivyError::LockFailure(LockError::LockBusy, _)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Holds the writer lock and applies item changes; see
/// [`SearchIndex::writer`].
pub struct IndexUpdater {
    index: SearchIndex,
    writer: IndexWriter,
    cursor: Cursor,
    pending: usize,
}

impl IndexUpdater {
    /// The cursor of the last commit.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Changes applied since the last commit.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Put the current version of an item in the index, replacing any
    /// older one (so applying a change twice is harmless).
    pub fn upsert(&mut self, item: &IndexedItem<'_>) -> Result<()> {
        let f = self.index.inner.fields;
        self.writer
            .delete_term(Term::from_field_i64(f.rowid, item.rowid));
        self.pending += 1;
        if !item.has_text() {
            return Ok(());
        }
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.rowid, item.rowid);
        doc.add_i64(f.thread, item.thread);
        doc.add_text(f.kind, item.kind);
        if let Some(ts) = item.ts {
            doc.add_i64(f.ts, ts);
        }
        doc.add_u64(f.revision, item.revision);
        for (field, value) in f.text.iter().zip([item.text, item.command, item.output]) {
            if let Some(v) = value {
                doc.add_text(*field, v);
            }
        }
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Make everything applied so far durable and searchable, recording
    /// that the index is current up to `cursor`.
    pub fn commit(&mut self, cursor: Cursor) -> Result<()> {
        let inner = &self.index.inner;
        let payload = serde_json::to_string(&Payload {
            store_id: inner.store_id.clone(),
            cursor,
        })
        .expect("payload serializes");
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        inner.reader.reload()?;
        let searcher = inner.reader.searcher();
        *inner.view.lock().unwrap_or_else(|e| e.into_inner()) = View {
            searcher,
            fields: inner.fields,
            cursor,
        };
        self.cursor = cursor;
        self.pending = 0;
        Ok(())
    }

    /// Wait for background merges (before the process exits).
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}
