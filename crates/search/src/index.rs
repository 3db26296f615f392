//! The tantivy index of items, kept beside the store and brought up to date
//! by revision: every commit records, as its payload, the [`Cursor`] up to
//! which the store's items are in it (and the store's id, so an index is
//! never used with another database). The index holds only what search
//! needs to find and rank: the words of `text`, `command` and `output` in
//! one `body` field (one posting list per word, so a query of several words
//! intersects plain lists and a one-word query is pruned by block-max
//! WAND), and the item's row id, thread row id, provider, kind, time and
//! revision for filters and ranking. Rows, titles and snippets come from
//! the store.

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

/// Threads a search spreads its segments over: the cores, at most 4.
fn search_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// The commit payload.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    store_id: String,
    #[serde(flatten)]
    cursor: Cursor,
    /// The largest item rowid ever indexed: a larger one cannot be in the
    /// index yet, so adding it needs no delete first (deletes are the
    /// costly part of an upsert: each is looked up in every segment at
    /// commit). Unknown in older payloads: then every upsert deletes.
    #[serde(default)]
    max_rowid: Option<i64>,
}

/// One item as the index sees it.
#[derive(Clone, Copy, Debug)]
pub struct IndexedItem<'a> {
    /// The item's rowid in the store.
    pub rowid: i64,
    /// Its thread's rowid.
    pub thread: i64,
    /// Its thread's provider (`codex`, ...).
    pub provider: &'a str,
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

    /// Bytes of text to index.
    pub fn text_bytes(&self) -> usize {
        [self.text, self.command, self.output]
            .into_iter()
            .flatten()
            .map(str::len)
            .sum()
    }
}

/// The index's fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    /// The words of `text`, `command` and `output` (three values).
    pub body: Field,
    pub rowid: Field,
    pub provider: Field,
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
    let fast = || NumericOptions::default().set_fast();
    let f = Fields {
        body: b.add_text_field("body", words),
        rowid: b.add_i64_field("rowid", num()),
        provider: b.add_text_field("provider", STRING),
        thread: b.add_i64_field("thread", num()),
        kind: b.add_text_field("kind", STRING),
        ts: b.add_i64_field("ts", fast()),
        revision: b.add_u64_field("revision", fast()),
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
    /// As committed; see [`Payload::max_rowid`].
    max_rowid: Mutex<Option<i64>>,
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
        let mut index = if dir.join("meta.json").exists() {
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
        // Segments are searched in parallel: a bulk ingest leaves several,
        // and a query of common words spends its time intersecting their
        // posting lists one segment after another.
        index.set_multithread_executor(search_threads())?;
        // The payload first, then the reader: if another process commits
        // in between, the reader is newer than the cursor, which only
        // makes a search re-check a few items (never miss any).
        let (cursor, max_rowid) = match index.load_metas()?.payload {
            None => (Cursor::default(), Some(0)),
            Some(p) => match serde_json::from_str::<Payload>(&p) {
                Ok(p) if p.store_id == store_id => (p.cursor, p.max_rowid),
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
                max_rowid: Mutex::new(max_rowid),
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
    /// `threads` index in parallel, sharing `heap_bytes` of buffers.
    pub fn writer(&self, threads: usize, heap_bytes: usize) -> Result<Option<IndexUpdater>> {
        match self
            .inner
            .index
            .writer_with_num_threads(threads.max(1), heap_bytes)
        {
            Ok(writer) => Ok(Some(IndexUpdater {
                index: self.clone(),
                writer,
                cursor: self.view().cursor,
                max_rowid: *self
                    .inner
                    .max_rowid
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
                pending: 0,
            })),
            Err(tantivy::TantivyError::LockFailure(LockError::LockBusy, _)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// An item as the index will hold it, built by [`IndexUpdater::prepare`]
/// from borrowed text: a caller reading items from SQLite can build it
/// straight from the row, without owning a copy of the text first.
pub struct PreparedItem {
    rowid: i64,
    /// `None` when the item has no text (only its old version goes).
    doc: Option<TantivyDocument>,
}

/// Holds the writer lock and applies item changes; see
/// [`SearchIndex::writer`].
pub struct IndexUpdater {
    index: SearchIndex,
    writer: IndexWriter,
    cursor: Cursor,
    max_rowid: Option<i64>,
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

    /// The document of `item` (its text copied in), for
    /// [`IndexUpdater::upsert_prepared`].
    pub fn prepare(&self, item: &IndexedItem<'_>) -> PreparedItem {
        if !item.has_text() {
            return PreparedItem {
                rowid: item.rowid,
                doc: None,
            };
        }
        let f = self.index.inner.fields;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.rowid, item.rowid);
        doc.add_i64(f.thread, item.thread);
        doc.add_text(f.provider, item.provider);
        doc.add_text(f.kind, item.kind);
        if let Some(ts) = item.ts {
            doc.add_i64(f.ts, ts);
        }
        doc.add_u64(f.revision, item.revision);
        for v in [item.text, item.command, item.output].into_iter().flatten() {
            doc.add_text(f.body, v);
        }
        PreparedItem {
            rowid: item.rowid,
            doc: Some(doc),
        }
    }

    /// Put the current version of an item in the index, replacing any
    /// older one (so applying a change twice is harmless).
    pub fn upsert(&mut self, item: &IndexedItem<'_>) -> Result<()> {
        let prepared = self.prepare(item);
        self.upsert_prepared(prepared)
    }

    /// [`IndexUpdater::upsert`] of an item made ready by
    /// [`IndexUpdater::prepare`].
    pub fn upsert_prepared(&mut self, item: PreparedItem) -> Result<()> {
        let f = self.index.inner.fields;
        match self.max_rowid {
            Some(max) if item.rowid > max => self.max_rowid = Some(item.rowid),
            _ => {
                self.writer
                    .delete_term(Term::from_field_i64(f.rowid, item.rowid));
            }
        }
        self.pending += 1;
        if let Some(doc) = item.doc {
            self.writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Make everything applied so far durable and searchable, recording
    /// that the index is current up to `cursor`.
    pub fn commit(&mut self, cursor: Cursor) -> Result<()> {
        let inner = &self.index.inner;
        let payload = serde_json::to_string(&Payload {
            store_id: inner.store_id.clone(),
            cursor,
            max_rowid: self.max_rowid,
        })
        .expect("payload serializes");
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        inner.reader.reload()?;
        let searcher = inner.reader.searcher();
        *inner.max_rowid.lock().unwrap_or_else(|e| e.into_inner()) = self.max_rowid;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Filters, SearchQuery};

    fn item(rowid: i64, revision: u64, text: &str) -> IndexedItem<'_> {
        IndexedItem {
            rowid,
            thread: 1,
            provider: "codex",
            kind: "user",
            ts: Some(1),
            revision,
            text: Some(text),
            command: None,
            output: None,
        }
    }

    fn found(index: &SearchIndex, q: &str) -> Vec<i64> {
        let q = SearchQuery::parse(q).unwrap();
        let view = index.view();
        let mut rows: Vec<i64> = view
            .top(&q.clauses, &Filters::default(), 10, 10)
            .unwrap()
            .iter()
            .map(|c| c.rowid)
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn upserts_replace_and_the_cursor_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idx");
        let index = SearchIndex::open(&path, "store-a").unwrap();
        let mut w = index.writer(1, 15 << 20).unwrap().unwrap();
        w.upsert(&item(1, 1, "old words")).unwrap();
        w.upsert(&item(2, 1, "other words")).unwrap();
        w.commit(Cursor {
            revision: 1,
            rowid: 2,
        })
        .unwrap();
        // Row 1 changes (a merged tool output, say): the old version goes.
        w.upsert(&item(1, 2, "new words")).unwrap();
        w.upsert(&item(3, 2, "third words")).unwrap();
        w.commit(Cursor {
            revision: 2,
            rowid: 3,
        })
        .unwrap();
        // Applying the same change again changes nothing.
        w.upsert(&item(1, 2, "new words")).unwrap();
        w.commit(Cursor {
            revision: 2,
            rowid: 3,
        })
        .unwrap();
        assert_eq!(index.view().num_docs(), 3);
        assert_eq!(found(&index, "old"), Vec::<i64>::new());
        assert_eq!(found(&index, "new"), vec![1]);
        assert_eq!(found(&index, "words"), vec![1, 2, 3]);
        w.finish().unwrap();
        drop(index);
        let again = SearchIndex::open(&path, "store-a").unwrap();
        assert_eq!(
            again.view().cursor,
            Cursor {
                revision: 2,
                rowid: 3
            }
        );
        assert_eq!(found(&again, "words"), vec![1, 2, 3]);
        // Another store's index is not reused.
        drop(again);
        let other = SearchIndex::open(&path, "store-b").unwrap();
        assert_eq!(other.view().cursor, Cursor::default());
        assert_eq!(other.view().num_docs(), 0);
    }
}
