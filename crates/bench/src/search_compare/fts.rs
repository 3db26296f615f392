//! The SQLite FTS5 side of `compare-search`: a fresh database file holding a copy of the
//! store's `items` (indexed columns only) and `threads(rowid, provider)`, with the exact
//! external-content FTS5 table the store ships, built twice — once by `'rebuild'` (how a
//! migration indexes an existing store) and once row by row in 10k-row transactions (how the
//! live writer feeds it through its per-item triggers) — and queried with `bm25`.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection};

use super::queries::{Query, Shape};
use super::rss;

/// The index definition, with `{name}` for the table name.
const CREATE: &str = "CREATE VIRTUAL TABLE {name} USING fts5(text, command, output, \
    content='items', content_rowid='rowid', \
    tokenize=\"unicode61 remove_diacritics 2 tokenchars '_'\")";

/// Figures of the FTS5 builds.
#[derive(Debug, Default)]
pub struct FtsBuild {
    /// Indexed items and the bytes of their text/command/output.
    pub items: u64,
    pub text_bytes: u64,
    pub copy_secs: f64,
    /// `INSERT INTO items_fts(items_fts) VALUES('rebuild')`.
    pub rebuild_secs: f64,
    pub rebuild_bytes: u64,
    pub rebuild_rss_kib: u64,
    /// Row-by-row inserts, 10k rows per transaction, into `items_fts_live`.
    pub live_secs: Option<f64>,
    pub live_bytes: Option<u64>,
    pub live_rss_kib: Option<u64>,
    /// Size of the `items` copy (the content table, which the store has anyway).
    pub content_bytes: u64,
    pub compile_options: Vec<String>,
}

/// Opens `db` (which must not exist) with the store's write-connection pragmas.
fn open(db: &Path) -> Result<Connection> {
    if db.exists() {
        bail!("{} exists", db.display());
    }
    let conn = Connection::open(db)?;
    conn.execute_batch("PRAGMA page_size = 16384")?;
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;",
    )?;
    Ok(conn)
}

/// Sum of `pgsize` over the named tables (needs `SQLITE_ENABLE_DBSTAT_VTAB`).
fn table_bytes(conn: &Connection, names: &[String]) -> Result<u64> {
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    let mut total = 0u64;
    let mut st =
        conn.prepare_cached("SELECT ifnull(sum(pgsize), 0) FROM dbstat WHERE name = ?1")?;
    for n in names {
        total += st.query_row([n], |r| r.get::<_, i64>(0))? as u64;
    }
    Ok(total)
}

/// The shadow tables of an external-content FTS5 table.
fn shadow(name: &str) -> Vec<String> {
    ["data", "idx", "docsize", "config"]
        .iter()
        .map(|s| format!("{name}_{s}"))
        .collect()
}

/// Copies the items with text from `store` into a new `db` and builds the FTS5 index(es).
pub fn build(
    store: &Path,
    db: &Path,
    limit: Option<u64>,
    live: bool,
) -> Result<(Connection, FtsBuild)> {
    let conn = open(db)?;
    let mut b = FtsBuild {
        compile_options: conn
            .prepare("PRAGMA compile_options")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        ..FtsBuild::default()
    };
    for opt in ["ENABLE_FTS5", "ENABLE_DBSTAT_VTAB"] {
        if !b.compile_options.iter().any(|o| o == opt) {
            bail!("the bundled SQLite lacks {opt}");
        }
    }
    let t = Instant::now();
    conn.execute("ATTACH ?1 AS src", [store.to_str().context("store path")?])?;
    conn.execute_batch(&format!(
        "CREATE TABLE threads (rowid INTEGER PRIMARY KEY, provider TEXT NOT NULL);
         CREATE TABLE items (rowid INTEGER PRIMARY KEY, thread INTEGER NOT NULL,
             kind TEXT NOT NULL, ts INTEGER, text TEXT, command TEXT, output TEXT);
         BEGIN;
         INSERT INTO threads SELECT rowid, provider FROM src.threads;
         INSERT INTO items SELECT rowid, thread, kind, ts, text, command, output FROM src.items
             WHERE text IS NOT NULL OR command IS NOT NULL OR output IS NOT NULL
             ORDER BY rowid LIMIT {};
         COMMIT;
         DETACH src;",
        limit.map_or(-1, |l| l as i64)
    ))?;
    b.copy_secs = t.elapsed().as_secs_f64();
    (b.items, b.text_bytes) = conn.query_row(
        "SELECT count(*), sum(ifnull(length(CAST(text AS BLOB)), 0)
             + ifnull(length(CAST(command AS BLOB)), 0) + ifnull(length(CAST(output AS BLOB)), 0))
         FROM items",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?;
    b.content_bytes = table_bytes(&conn, &["items".to_string()])?;

    let base = rss::reset_peak();
    let t = Instant::now();
    conn.execute_batch(&CREATE.replace("{name}", "items_fts"))?;
    conn.execute_batch("INSERT INTO items_fts(items_fts) VALUES('rebuild')")?;
    b.rebuild_secs = t.elapsed().as_secs_f64();
    b.rebuild_rss_kib = rss::peak().saturating_sub(base);
    b.rebuild_bytes = table_bytes(&conn, &shadow("items_fts"))?;

    if live {
        let base = rss::reset_peak();
        let t = Instant::now();
        conn.execute_batch(&CREATE.replace("{name}", "items_fts_live"))?;
        insert_rows(&conn, "items_fts_live", 10_000)?;
        b.live_secs = Some(t.elapsed().as_secs_f64());
        b.live_rss_kib = Some(rss::peak().saturating_sub(base));
        b.live_bytes = Some(table_bytes(&conn, &shadow("items_fts_live"))?);
    }
    Ok((conn, b))
}

/// Feeds `table` one `INSERT` per item, `batch` items per transaction, as the store's
/// `AFTER INSERT ON items` trigger does (the items rows themselves already exist here, so only
/// the index maintenance is timed).
fn insert_rows(conn: &Connection, table: &str, batch: usize) -> Result<()> {
    type Row = (i64, Option<String>, Option<String>, Option<String>);
    let mut last = i64::MIN;
    loop {
        let rows: Vec<Row> = conn
            .prepare_cached(
                "SELECT rowid, text, command, output FROM items WHERE rowid > ?1 \
                 ORDER BY rowid LIMIT ?2",
            )?
            .query_map(params![last, batch as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let Some(end) = rows.last() else { break };
        last = end.0;
        conn.execute_batch("BEGIN")?;
        {
            let mut ins = conn.prepare_cached(&format!(
                "INSERT INTO {table}(rowid, text, command, output) VALUES (?1, ?2, ?3, ?4)"
            ))?;
            for (id, t, c, o) in &rows {
                ins.execute(params![id, t, c, o])?;
            }
        }
        conn.execute_batch("COMMIT")?;
    }
    Ok(())
}

/// Escapes a string for an FTS5 double-quoted string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The FTS5 `MATCH` expression for `q` (what the store's query parser would produce).
pub fn match_expr(q: &Query) -> String {
    match &q.shape {
        Shape::Terms(w) => w.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "),
        Shape::Phrase(p) => quote(p),
        Shape::Prefix(p) => format!("{}*", quote(p)),
    }
}

/// Queries one FTS5 table of the comparison file.
pub struct Fts<'c> {
    pub conn: &'c Connection,
    pub table: &'static str,
}

impl Fts<'_> {
    fn sql(&self, q: &Query, select: &str, tail: &str) -> String {
        let t = self.table;
        if q.provider.is_none() && q.kind.is_none() {
            return format!("SELECT {select} FROM {t} WHERE {t} MATCH ?1 {tail}");
        }
        format!(
            "SELECT {select} FROM {t} JOIN items i ON i.rowid = {t}.rowid \
             JOIN threads th ON th.rowid = i.thread \
             WHERE {t} MATCH ?1 AND (?2 IS NULL OR th.provider = ?2) AND (?3 IS NULL OR i.kind = ?3) {tail}"
        )
    }

    /// Top `limit` rowids by BM25 (`ORDER BY rank`).
    pub fn search(&self, q: &Query, limit: usize) -> Result<Vec<i64>> {
        let t = self.table;
        let sql = self.sql(
            q,
            &format!("{t}.rowid, bm25({t})"),
            &format!("ORDER BY {t}.rank LIMIT {limit}"),
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let m = match_expr(q);
        let rows = if q.provider.is_none() && q.kind.is_none() {
            st.query_map([&m], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        } else {
            st.query_map(params![m, q.provider, q.kind], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        Ok(rows)
    }

    /// Number of items matching a raw `MATCH` expression.
    pub fn count_raw(&self, expr: &str) -> Result<u64> {
        let t = self.table;
        let sql = format!("SELECT count(*) FROM {t} WHERE {t} MATCH ?1");
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row([expr], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Number of matching items.
    pub fn count(&self, q: &Query) -> Result<u64> {
        let sql = self.sql(q, "count(*)", "");
        let mut st = self.conn.prepare_cached(&sql)?;
        let m = match_expr(q);
        let n: i64 = if q.provider.is_none() && q.kind.is_none() {
            st.query_row([&m], |r| r.get(0))?
        } else {
            st.query_row(params![m, q.provider, q.kind], |r| r.get(0))?
        };
        Ok(n as u64)
    }
}

/// The indexed columns of an item, joined (for content comparison and excerpts).
pub fn item_text(conn: &Connection, rowid: i64) -> Result<String> {
    Ok(conn
        .prepare_cached(
            "SELECT concat_ws(' | ', text, command, output) FROM items WHERE rowid = ?1",
        )?
        .query_row([rowid], |r| r.get(0))?)
}

/// Values with their item counts, most frequent first.
pub type Counts = Vec<(String, u64)>;

/// Distinct kinds and providers of the copy, with their item counts.
pub fn kinds_providers(conn: &Connection) -> Result<(Counts, Counts)> {
    let collect = |sql: &str| -> Result<Counts> {
        Ok(conn
            .prepare(sql)?
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?)
    };
    Ok((
        collect("SELECT kind, count(*) FROM items GROUP BY kind ORDER BY 2 DESC")?,
        collect(
            "SELECT th.provider, count(*) FROM items i JOIN threads th ON th.rowid = i.thread \
             GROUP BY 1 ORDER BY 2 DESC",
        )?,
    ))
}
