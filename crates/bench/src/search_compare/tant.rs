//! The tantivy side of `compare-search`: an index of the same items (read from the FTS5
//! comparison file's `items` copy) with text/command/output as `TEXT` fields (tantivy's
//! `default` tokenizer: split on non-alphanumerics — `_` included —, drop tokens over 40
//! bytes, lowercase), the item and thread rowids, kind, provider and timestamp; built either
//! with one commit at the end (bulk) or a commit every 10k documents (live ingestion).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use rusqlite::Connection;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query as TQuery, QueryParser, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, FAST, STORED, STRING, TEXT};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::queries::{Query, Shape};
use super::rss;

/// Figures of one tantivy build.
#[derive(Debug, Default)]
pub struct TantivyBuild {
    pub secs: f64,
    pub bytes: u64,
    pub segments: usize,
    pub rss_kib: u64,
    pub commits: u64,
}

/// Schema fields.
#[derive(Clone, Copy)]
struct Fields {
    text: Field,
    command: Field,
    output: Field,
    rowid: Field,
    thread: Field,
    kind: Field,
    provider: Field,
    ts: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        text: b.add_text_field("text", TEXT),
        command: b.add_text_field("command", TEXT),
        output: b.add_text_field("output", TEXT),
        rowid: b.add_u64_field("rowid", FAST | STORED),
        thread: b.add_u64_field("thread", FAST),
        kind: b.add_text_field("kind", STRING),
        provider: b.add_text_field("provider", STRING),
        ts: b.add_i64_field("ts", FAST),
    };
    (b.build(), f)
}

fn fields(index: &Index) -> Result<Fields> {
    let s = index.schema();
    let g = |n: &str| s.get_field(n).with_context(|| n.to_string());
    Ok(Fields {
        text: g("text")?,
        command: g("command")?,
        output: g("output")?,
        rowid: g("rowid")?,
        thread: g("thread")?,
        kind: g("kind")?,
        provider: g("provider")?,
        ts: g("ts")?,
    })
}

/// Total size of the files in `dir`.
pub fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            n += m.len();
        }
    }
    Ok(n)
}

/// Indexes every item of `conn`'s copy into a new index in `dir`, committing every
/// `commit_every` documents (and at the end), then waits for merges.
pub fn build(
    conn: &Connection,
    dir: &Path,
    threads: usize,
    budget: usize,
    commit_every: Option<u64>,
) -> Result<(Index, TantivyBuild)> {
    std::fs::create_dir_all(dir)?;
    let (schema, f) = schema();
    let base = rss::reset_peak();
    let t = Instant::now();
    let index = Index::create_in_dir(dir, schema)?;
    let mut w: IndexWriter = index.writer_with_num_threads(threads, budget)?;
    let mut st = conn.prepare(
        "SELECT i.rowid, i.thread, i.kind, i.ts, i.text, i.command, i.output, th.provider \
         FROM items i JOIN threads th ON th.rowid = i.thread ORDER BY i.rowid",
    )?;
    let mut rows = st.query([])?;
    let (mut n, mut commits) = (0u64, 0u64);
    while let Some(r) = rows.next()? {
        let mut d = TantivyDocument::default();
        d.add_u64(f.rowid, r.get::<_, i64>(0)? as u64);
        d.add_u64(f.thread, r.get::<_, i64>(1)? as u64);
        d.add_text(f.kind, r.get_ref(2)?.as_str()?);
        if let Some(ts) = r.get::<_, Option<i64>>(3)? {
            d.add_i64(f.ts, ts);
        }
        for (i, field) in [(4, f.text), (5, f.command), (6, f.output)] {
            if let Some(s) = r.get_ref(i)?.as_str_or_null()? {
                d.add_text(field, s);
            }
        }
        d.add_text(f.provider, r.get_ref(7)?.as_str()?);
        w.add_document(d)?;
        n += 1;
        if commit_every.is_some_and(|k| n % k == 0) {
            w.commit()?;
            commits += 1;
        }
    }
    w.commit()?;
    commits += 1;
    w.wait_merging_threads()?;
    let secs = t.elapsed().as_secs_f64();
    let rss_kib = rss::peak().saturating_sub(base);
    let segments = index.searchable_segment_ids()?.len();
    Ok((
        index,
        TantivyBuild {
            secs,
            bytes: dir_bytes(dir)?,
            segments,
            rss_kib,
            commits,
        },
    ))
}

/// A searcher over a built index.
pub struct Tantivy {
    reader: IndexReader,
    parser: QueryParser,
    f: Fields,
}

impl Tantivy {
    /// Opens a reader on `index`; the query parser searches text/command/output with AND.
    pub fn open(index: &Index) -> Result<Self> {
        let f = fields(index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut parser = QueryParser::for_index(index, vec![f.text, f.command, f.output]);
        parser.set_conjunction_by_default();
        Ok(Tantivy { reader, parser, f })
    }

    /// The tantivy query for `q`: query-parser syntax for words and phrases (a phrase is
    /// tokenized by the field's tokenizer, so `foo_bar` and `a/b.rs` become phrase queries),
    /// a regex per field for prefixes, and `Must` term clauses for filters.
    pub fn query(&self, q: &Query) -> Result<Box<dyn TQuery>> {
        let main: Box<dyn TQuery> = match &q.shape {
            Shape::Terms(w) => self.parser.parse_query(&w.join(" "))?,
            Shape::Phrase(p) => self
                .parser
                .parse_query(&format!("\"{}\"", p.replace(['"', '\\'], " ")))?,
            Shape::Prefix(p) => {
                let pat = format!("{}.*", p.to_lowercase());
                let mut should: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
                for field in [self.f.text, self.f.command, self.f.output] {
                    should.push((
                        Occur::Should,
                        Box::new(RegexQuery::from_pattern(&pat, field)?),
                    ));
                }
                Box::new(BooleanQuery::new(should))
            }
        };
        if q.provider.is_none() && q.kind.is_none() {
            return Ok(main);
        }
        let mut must: Vec<(Occur, Box<dyn TQuery>)> = vec![(Occur::Must, main)];
        for (field, v) in [(self.f.provider, &q.provider), (self.f.kind, &q.kind)] {
            if let Some(v) = v {
                let t = Term::from_field_text(field, v);
                must.push((
                    Occur::Must,
                    Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                ));
            }
        }
        Ok(Box::new(BooleanQuery::new(must)))
    }

    /// Top `limit` item rowids by BM25 (parse + search + rowid lookup in the fast field).
    pub fn search(&self, q: &Query, limit: usize) -> Result<Vec<i64>> {
        let query = self.query(q)?;
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let col = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("rowid")?;
            out.push(col.first(addr.doc_id).context("rowid")? as i64);
        }
        Ok(out)
    }

    /// Number of matching items.
    pub fn count(&self, q: &Query) -> Result<u64> {
        let query = self.query(q)?;
        Ok(self.reader.searcher().search(&query, &Count)? as u64)
    }
}
