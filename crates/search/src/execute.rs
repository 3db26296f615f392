//! Running a query on a [`View`]: clauses become tantivy queries over the
//! three text fields (BM25, each field weighted by
//! [`crate::FIELD_WEIGHTS`]), filters become non-scoring clauses, and the
//! top candidates come back as store rowids with their scores.

use std::ops::Bound;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhrasePrefixQuery, PhraseQuery,
    Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use crate::index::View;
use crate::query::Clause;
use crate::{Result, FIELD_WEIGHTS};

/// Filters, resolved by the caller to what the index holds.
#[derive(Clone, Debug, Default)]
pub struct Filters {
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

/// Regex for words starting with `prefix` (a normalized word: letters,
/// digits and `_`, none of them regex syntax, but escape anyway).
fn prefix_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if !c.is_alphanumeric() && c != '_' {
            p.push('\\');
        }
        p.push(c);
    }
    p.push_str(".*");
    p
}

/// The query for one clause in one field.
fn field_query(field: Field, clause: &Clause) -> Result<Box<dyn Query>> {
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
        (1, true) => Box::new(RegexQuery::from_pattern(
            &prefix_pattern(&clause.words[0]),
            field,
        )?),
        (_, false) => Box::new(PhraseQuery::new(terms)),
        (_, true) => Box::new(PhrasePrefixQuery::new(terms)),
    })
}

/// A clause in any of the text fields, each field weighted.
fn clause_query(view: &View, clause: &Clause) -> Result<Box<dyn Query>> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(3);
    for (field, weight) in view.fields.text.iter().zip(FIELD_WEIGHTS) {
        should.push((
            Occur::Should,
            Box::new(BoostQuery::new(field_query(*field, clause)?, weight)),
        ));
    }
    Ok(Box::new(BooleanQuery::new(should)))
}

/// A filter clause: must match, adds nothing to the score.
fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

/// The whole tantivy query.
fn build(view: &View, clauses: &[Clause], filters: &Filters) -> Result<Box<dyn Query>> {
    let f = &view.fields;
    let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for c in clauses {
        let occur = if c.negated {
            Occur::MustNot
        } else {
            Occur::Must
        };
        all.push((occur, clause_query(view, c)?));
    }
    if let Some(threads) = &filters.threads {
        if threads.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        let terms = threads.iter().map(|t| Term::from_field_i64(f.thread, *t));
        all.push(filter(Box::new(TermSetQuery::new(terms))));
    }
    if !filters.kinds.is_empty() {
        let terms = filters
            .kinds
            .iter()
            .map(|k| Term::from_field_text(f.kind, k));
        all.push(filter(Box::new(TermSetQuery::new(terms))));
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
    Ok(Box::new(BooleanQuery::new(all)))
}

impl View {
    /// The best `limit` matching items as `(rowid, score)`, best first.
    pub fn top(
        &self,
        clauses: &[Clause],
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>> {
        if self.searcher.num_docs() == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        let query = build(self, clauses, filters)?;
        let top = self
            .searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let rowids = self
                .searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .i64("rowid")?;
            if let Some(rowid) = rowids.first(addr.doc_id) {
                out.push((rowid, score));
            }
        }
        Ok(out)
    }

    /// Documents in the index.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// BM25 statistics of `word` in text field `field` (0, 1, 2): its
    /// document frequency, and the field's average length in words.
    pub fn stats(&self, field: usize, word: &str) -> (u64, f32) {
        let f = self.fields.text[field];
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
