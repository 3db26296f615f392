//! Running a query on a [`View`]: clauses become tantivy queries on the
//! `body` field (BM25), filters become non-scoring clauses, and the top
//! candidates come back as store rowids with their scores, times and
//! revisions (read from fast fields, so ranking needs no row of the store).

use std::ops::Bound;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use crate::index::View;
use crate::query::Clause;
use crate::Result;

/// One candidate from the index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The item's rowid in the store.
    pub rowid: i64,
    /// BM25 score.
    pub score: f32,
    /// Item time.
    pub ts: Option<i64>,
    /// Revision of the indexed version (the item's current one: items
    /// changed since are past the view's cursor).
    pub revision: u64,
}

/// A phrase all of whose words are in more items than this is "broad":
/// checking its positions in every item holding them all costs tens of
/// milliseconds on a million items.
pub const BROAD_PHRASE_DOCS: u64 = 50_000;

/// A broad phrase without a time filter is looked for among the newest
/// this many items first (by rowid, which grows as items are stored); the
/// older ones are searched only when those give too few candidates.
pub const BROAD_PHRASE_WINDOW: i64 = 100_000;

/// Filters, resolved by the caller to what the index holds.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Only items of this provider's threads.
    pub provider: Option<String>,
    /// Only items of these thread rowids (`None`: any thread).
    pub threads: Option<Vec<i64>>,
    /// Only these item kinds (empty: any).
    pub kinds: Vec<&'static str>,
    /// Only items at or after this time.
    pub after: Option<i64>,
    /// Only items before this time.
    pub before: Option<i64>,
    /// Only items last changed after this revision.
    pub revision_after: Option<u64>,
    /// Only items last changed at or before this revision.
    pub revision_max: Option<u64>,
}

/// A prefix starting more words than this is broad whatever their counts.
pub const MAX_PREFIX_SCAN: usize = 4_096;

/// A prefix stands for at most this many words: the ones in the most
/// items. `con*` starts thousands of words, and reading every posting of
/// every one of them took 40 ms on a million items; the commonest 64
/// are nearly all of its matches, ranked by BM25 with block-max WAND.
pub const MAX_PREFIX_WORDS: usize = 64;

/// The words of the index starting with `prefix`, commonest first, at
/// most [`MAX_PREFIX_WORDS`].
fn expand_prefix(view: &View, prefix: &str) -> Result<Vec<String>> {
    let mut counts: std::collections::HashMap<Vec<u8>, u64> = std::collections::HashMap::new();
    let mut upper = prefix.as_bytes().to_vec();
    // No UTF-8 byte is 0xFF: every word starting with `prefix` sorts below.
    upper.push(0xFF);
    for segment in view.searcher.segment_readers() {
        let inverted = segment.inverted_index(view.fields.body)?;
        let mut stream = inverted
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .lt(&upper)
            .into_stream()
            .map_err(|e| crate::Error::Corrupt(e.to_string()))?;
        while stream.advance() {
            *counts.entry(stream.key().to_vec()).or_default() += stream.value().doc_freq as u64;
        }
    }
    let mut words: Vec<(Vec<u8>, u64)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    words.truncate(MAX_PREFIX_WORDS);
    Ok(words
        .into_iter()
        .filter_map(|(w, _)| String::from_utf8(w).ok())
        .collect())
}

/// The query for one clause in one field.
fn field_query(view: &View, field: Field, clause: &Clause) -> Result<Box<dyn Query>> {
    let terms: Vec<Term> = clause
        .words
        .iter()
        .map(|w| Term::from_field_text(field, w))
        .collect();
    Ok(match (terms.len(), clause.prefix) {
        (1, false) => Box::new(TermQuery::new(
            terms.into_iter().next().expect("one term"),
            IndexRecordOption::WithFreqs,
        )),
        (1, true) => {
            let words = expand_prefix(view, &clause.words[0])?;
            let should: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|w| {
                    let term = Term::from_field_text(field, w);
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                    (Occur::Should, q)
                })
                .collect();
            match should.len() {
                0 => Box::new(EmptyQuery),
                _ => Box::new(BooleanQuery::new(should)),
            }
        }
        (_, false) => Box::new(PhraseQuery::new(terms)),
        (_, true) => Box::new(PhrasePrefixQuery::new(terms)),
    })
}

/// A filter clause: must match, adds nothing to the score.
fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// The whole tantivy query.
fn build(
    view: &View,
    clauses: &[Clause],
    filters: &Filters,
    rowids: Option<(Bound<i64>, Bound<i64>)>,
) -> Result<Box<dyn Query>> {
    let f = &view.fields;
    let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for c in clauses {
        let occur = if c.negated {
            Occur::MustNot
        } else {
            Occur::Must
        };
        all.push((occur, field_query(view, f.body, c)?));
    }
    if let Some((lower, upper)) = rowids {
        let term = |r: i64| Term::from_field_i64(f.rowid, r);
        all.push(filter(Box::new(RangeQuery::new(
            lower.map(term),
            upper.map(term),
        ))));
    }
    if let Some(p) = &filters.provider {
        let term = Term::from_field_text(f.provider, p);
        // A filter every document passes (one provider in the whole
        // index, the common case) would only add a posting list of every
        // document to intersect. Document frequencies count deleted
        // documents too, hence all documents, deleted ones included.
        let all_docs: u64 = view
            .searcher
            .segment_readers()
            .iter()
            .map(|s| u64::from(s.max_doc()))
            .sum();
        if view.searcher.doc_freq(&term)? < all_docs {
            all.push(filter(Box::new(TermQuery::new(
                term,
                IndexRecordOption::Basic,
            ))));
        }
    }
    if let Some(threads) = &filters.threads {
        if threads.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        let terms = threads.iter().map(|t| Term::from_field_i64(f.thread, *t));
        all.push(filter(Box::new(TermSetQuery::new(terms))));
    }
    if !filters.kinds.is_empty() {
        // Posting lists, not a TermSetQuery: that one builds a bitset of
        // every document of the kinds (400k tool calls of 1M items) for
        // each query, where an intersection only seeks into the lists.
        let mut kinds: Vec<(Occur, Box<dyn Query>)> = filters
            .kinds
            .iter()
            .map(|k| {
                let term = Term::from_field_text(f.kind, k);
                let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect();
        let q = match kinds.len() {
            1 => kinds.pop().expect("one kind").1,
            _ => Box::new(BooleanQuery::new(kinds)),
        };
        all.push(filter(q));
    }
    if filters.after.is_some() || filters.before.is_some() {
        let lower = filters.after.map_or(Bound::Unbounded, |t| {
            Bound::Included(Term::from_field_i64(f.ts, t))
        });
        let upper = filters.before.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_i64(f.ts, t))
        });
        all.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    let max = filters.revision_max.filter(|m| *m < view.cursor.revision);
    if filters.revision_after.is_some() || max.is_some() {
        let lower = filters.revision_after.map_or(Bound::Unbounded, |r| {
            Bound::Excluded(Term::from_field_u64(f.revision, r))
        });
        let upper = max.map_or(Bound::Unbounded, |r| {
            Bound::Included(Term::from_field_u64(f.revision, r))
        });
        all.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    // A single positive clause alone runs as itself (block-max WAND).
    if all.len() == 1 && all[0].0 == Occur::Must {
        return Ok(all.pop().expect("one clause").1);
    }
    Ok(Box::new(BooleanQuery::new(all)))
}

impl View {
    /// The best `limit` matching items, best first. A broad phrase looks
    /// among the newest items first and at the older ones only when the
    /// newest hold fewer than `enough` matches (at most `limit`): a caller
    /// that asks for extra candidates to re-rank by recency, which favours
    /// the newest anyway, need not pay for searching every older item.
    pub fn top(
        &self,
        clauses: &[Clause],
        filters: &Filters,
        limit: usize,
        enough: usize,
    ) -> Result<Vec<Candidate>> {
        if self.searcher.num_docs() == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        let time_filtered = filters.after.is_some() || filters.before.is_some();
        let top = if !time_filtered && clauses.iter().any(|c| self.is_broad_phrase(c)) {
            // Newest items first; the rest only if they hold too few.
            let from = self.max_rowid() - BROAD_PHRASE_WINDOW;
            let newest = (Bound::Included(from), Bound::Unbounded);
            let query = build(self, clauses, filters, Some(newest))?;
            let mut top = self
                .searcher
                .search(&query, &TopDocs::with_limit(limit).order_by_score())?;
            if top.len() < enough.min(limit) {
                let older = (Bound::Unbounded, Bound::Excluded(from));
                let query = build(self, clauses, filters, Some(older))?;
                let more = self.searcher.search(
                    &query,
                    &TopDocs::with_limit(limit - top.len()).order_by_score(),
                )?;
                top.extend(more);
            }
            top
        } else {
            let query = build(self, clauses, filters, None)?;
            self.searcher
                .search(&query, &TopDocs::with_limit(limit).order_by_score())?
        };
        let mut out = Vec::with_capacity(top.len());
        // Columns opened once per segment (opening one parses its header).
        let mut columns = std::collections::HashMap::new();
        for (score, addr) in top {
            let cols = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let fast = self.searcher.segment_reader(addr.segment_ord).fast_fields();
                    e.insert((fast.i64("rowid")?, fast.i64("ts")?, fast.u64("revision")?))
                }
            };
            let Some(rowid) = cols.0.first(addr.doc_id) else {
                continue;
            };
            out.push(Candidate {
                rowid,
                score,
                ts: cols.1.first(addr.doc_id),
                revision: cols.2.first(addr.doc_id).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// A positive phrase whose rarest word is in more than
    /// [`BROAD_PHRASE_DOCS`] items.
    fn is_broad_phrase(&self, c: &Clause) -> bool {
        if c.negated || c.words.len() < 2 {
            return false;
        }
        let body = self.fields.body;
        c.words
            .iter()
            .take(if c.prefix {
                c.words.len() - 1
            } else {
                c.words.len()
            })
            .map(|w| {
                self.searcher
                    .doc_freq(&Term::from_field_text(body, w))
                    .unwrap_or(0)
            })
            .min()
            .is_some_and(|df| df > BROAD_PHRASE_DOCS)
    }

    /// Whether a positive one-word prefix clause of `clauses` starts
    /// words that are in more than [`BROAD_PHRASE_DOCS`] items together,
    /// or more than [`MAX_PREFIX_SCAN`] words. Stops counting as soon as
    /// it knows: enumerating all of `con*` takes tens of milliseconds.
    pub fn has_broad_prefix(&self, clauses: &[Clause]) -> bool {
        clauses
            .iter()
            .filter(|c| !c.negated && c.prefix && c.words.len() == 1)
            .any(|c| self.prefix_is_broad(&c.words[0]))
    }

    fn prefix_is_broad(&self, prefix: &str) -> bool {
        let mut upper = prefix.as_bytes().to_vec();
        upper.push(0xFF);
        let (mut docs, mut words) = (0u64, 0usize);
        for segment in self.searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(self.fields.body) else {
                continue;
            };
            let Ok(mut stream) = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()
            else {
                continue;
            };
            while stream.advance() {
                docs += stream.value().doc_freq as u64;
                words += 1;
                if docs > BROAD_PHRASE_DOCS || words > MAX_PREFIX_SCAN {
                    return true;
                }
            }
        }
        false
    }

    /// The largest item rowid in the index (0 when empty).
    fn max_rowid(&self) -> i64 {
        self.searcher
            .segment_readers()
            .iter()
            .filter_map(|s| s.fast_fields().i64("rowid").ok())
            .map(|c| c.max_value())
            .max()
            .unwrap_or(0)
    }

    /// Documents in the index.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// BM25 statistics of `word`: its document frequency, and the average
    /// length of an item's body in words.
    pub fn stats(&self, word: &str) -> (u64, f32) {
        let f = self.fields.body;
        let df = self
            .searcher
            .doc_freq(&Term::from_field_text(f, word))
            .unwrap_or(0);
        let mut tokens = 0u64;
        for s in self.searcher.segment_readers() {
            if let Ok(inv) = s.inverted_index(f) {
                tokens += inv.total_num_tokens();
            }
        }
        let docs = self.searcher.num_docs().max(1);
        (df, (tokens as f32 / docs as f32).max(1.0))
    }
}
