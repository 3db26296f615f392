//! The query set of `compare-search`, drawn from the corpus itself so that it is reproducible
//! for a given store and seed: single words of varied document frequency (read from the FTS5
//! vocabulary), 2–3 word AND combinations and phrases taken from random items, prefix queries,
//! filtered queries, code identifiers (`snake_case`) and paths (`src/foo/bar.rs`); and the
//! known-item set (one distinctive identifier, path or 3-word phrase per random item).

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};

use crate::rng::Rng;

/// What the user typed, in engine-neutral form; each engine translates it to its own syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// All of these words, anywhere in the item (implicit AND).
    Terms(Vec<String>),
    /// This exact sequence of words (an identifier or path is a phrase in both engines).
    Phrase(String),
    /// Words starting with this prefix (`foo*`).
    Prefix(String),
}

/// One benchmark query.
#[derive(Debug, Clone)]
pub struct Query {
    /// rare, medium, common, and2, and3, phrase, prefix, filter, ident, path, known-item.
    pub category: &'static str,
    pub shape: Shape,
    /// Restrict to threads of this provider.
    pub provider: Option<String>,
    /// Restrict to items of this kind.
    pub kind: Option<String>,
}

impl Query {
    fn new(category: &'static str, shape: Shape) -> Self {
        Query {
            category,
            shape,
            provider: None,
            kind: None,
        }
    }

    /// Human-readable form, as a user would type it.
    pub fn label(&self) -> String {
        let mut s = match &self.shape {
            Shape::Terms(w) => w.join(" "),
            Shape::Phrase(p) => format!("\"{p}\""),
            Shape::Prefix(p) => format!("{p}*"),
        };
        if let Some(p) = &self.provider {
            s = format!("[provider={p}] {s}");
        }
        if let Some(k) = &self.kind {
            s = format!("[kind={k}] {s}");
        }
        s
    }
}

/// Splits like FTS5's `unicode61 tokenchars '_'` (minus diacritic folding): runs of
/// alphanumerics and `_`, lowercased.
pub fn fts_tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Path-like words of `s` (`src/foo/bar.rs`): contain `/`, end in `.ext`, only `[A-Za-z0-9/._-]`.
pub fn path_tokens(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "'\"`,()[]{}:;<>".contains(c)))
        .filter(|w| {
            let ok_chars = w
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
            let ext_ok = w.rsplit_once('/').is_some_and(|(dir, file)| {
                !dir.is_empty()
                    && file
                        .rsplit_once('.')
                        .is_some_and(|(b, e)| !b.is_empty() && (1..=5).contains(&e.len()))
            });
            ok_chars && ext_ok && (6..=80).contains(&w.len()) && !w.contains("//")
        })
        .map(str::to_string)
        .collect()
}

fn is_word(t: &str) -> bool {
    (2..=40).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_ident(t: &str) -> bool {
    t.len() <= 40
        && t.contains('_')
        && !t.starts_with('_')
        && !t.ends_with('_')
        && !t.contains("__")
        && t.bytes().any(|b| b.is_ascii_lowercase())
}

/// Document frequencies from `fts5vocab`, with a per-term cache.
pub struct Vocab<'c> {
    conn: &'c Connection,
    cache: HashMap<String, u64>,
}

impl<'c> Vocab<'c> {
    /// Opens an `fts5vocab` table over `table` in `conn`.
    pub fn open(conn: &'c Connection, table: &str) -> Result<Self> {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.vocab; \
             CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, {table}, row);"
        ))?;
        Ok(Vocab {
            conn,
            cache: HashMap::new(),
        })
    }

    /// Number of items containing `term` (an FTS5 token).
    pub fn df(&mut self, term: &str) -> Result<u64> {
        if let Some(&d) = self.cache.get(term) {
            return Ok(d);
        }
        let d: Option<i64> = self
            .conn
            .prepare_cached("SELECT doc FROM temp.vocab WHERE term = ?1")?
            .query_row([term], |r| r.get(0))
            .optional()?;
        let d = d.unwrap_or(0) as u64;
        self.cache.insert(term.to_string(), d);
        Ok(d)
    }

    /// All plain lowercase words (4–14 letters) with their document frequency.
    fn words(&self) -> Result<Vec<(String, u64)>> {
        let mut st = self.conn.prepare("SELECT term, doc FROM temp.vocab")?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let t: String = r.get(0)?;
            if (4..=14).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase()) {
                out.push((t, r.get::<_, i64>(1)? as u64));
            }
        }
        Ok(out)
    }
}

/// One item's indexed columns.
pub struct Item {
    pub rowid: i64,
    pub columns: Vec<String>,
}

/// The item at or after a random rowid of the `items` copy.
pub fn random_item(conn: &Connection, rng: &mut Rng, lo: i64, hi: i64) -> Result<Item> {
    let at = lo + (rng.next_u64() % ((hi - lo + 1) as u64)) as i64;
    let mut st = conn.prepare_cached(
        "SELECT rowid, text, command, output FROM items WHERE rowid >= ?1 ORDER BY rowid LIMIT 1",
    )?;
    Ok(st.query_row([at], |r| {
        let mut columns = Vec::new();
        for i in 1..=3 {
            if let Some(s) = r.get::<_, Option<String>>(i)? {
                columns.push(s);
            }
        }
        Ok(Item {
            rowid: r.get(0)?,
            columns,
        })
    })?)
}

/// Range of item rowids in the copy.
pub fn rowid_range(conn: &Connection) -> Result<(i64, i64)> {
    Ok(
        conn.query_row("SELECT min(rowid), max(rowid) FROM items", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?,
    )
}

/// Picks `n` words of `words` (sorted by df) with df in `lo..=hi`, spread evenly.
fn spread(words: &[(String, u64)], lo: u64, hi: u64, n: usize) -> Vec<String> {
    let band: Vec<_> = words.iter().filter(|w| w.1 >= lo && w.1 <= hi).collect();
    if band.is_empty() {
        return Vec::new();
    }
    (0..n.min(band.len()))
        .map(|i| band[i * band.len() / n.min(band.len())].0.clone())
        .collect()
}

/// Builds the latency/overlap query set (≥ 40 queries when the corpus allows).
pub fn query_set(
    conn: &Connection,
    vocab: &mut Vocab,
    seed: u64,
    kinds: &[String],
    providers: &[String],
) -> Result<Vec<Query>> {
    let mut rng = Rng::derive(seed, 1);
    let mut words = vocab.words()?;
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let n_items = conn.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0))? as u64;
    let mut qs = Vec::new();
    let term = |w: &String| Shape::Terms(vec![w.clone()]);
    for w in words.iter().take(8) {
        qs.push(Query::new("common", term(&w.0)));
    }
    let (mlo, mhi) = ((n_items / 1000).max(20), (n_items / 50).max(200));
    for w in spread(&words, mlo, mhi, 8) {
        qs.push(Query::new("medium", term(&w)));
    }
    let rare_hi = (n_items / 100_000).clamp(3, 50);
    for w in spread(&words, 1, rare_hi, 8) {
        qs.push(Query::new("rare", term(&w)));
    }
    // Prefixes of medium and common words.
    for w in spread(&words, mlo, n_items, 5) {
        let p: String = w.chars().take(4.max(w.len() - 3)).collect();
        qs.push(Query::new("prefix", Shape::Prefix(p)));
    }
    // Combinations and phrases from random items, so that they occur at least once.
    let (lo, hi) = rowid_range(conn)?;
    let mut tries = 0;
    let want = [("and2", 6), ("and3", 3), ("phrase", 5)];
    for (cat, n) in want {
        let mut got = 0;
        while got < n && tries < 10_000 {
            tries += 1;
            let item = random_item(conn, &mut rng, lo, hi)?;
            let toks: Vec<String> = fts_tokens(&item.columns.join(" "))
                .into_iter()
                .filter(|t| is_word(t) && t.len() >= 4)
                .collect();
            if toks.len() < 8 {
                continue;
            }
            let k = if cat == "and3" { 3 } else { 2 };
            if cat == "phrase" {
                let k = 2 + rng.below(2);
                // Consecutive words of one column, checked against the FTS5 token stream.
                let col = &item.columns[rng.below(item.columns.len())];
                let all = fts_tokens(col);
                if all.len() < k {
                    continue;
                }
                let at = rng.below(all.len() - k + 1);
                let win = &all[at..at + k];
                if !win.iter().all(|t| is_word(t)) {
                    continue;
                }
                qs.push(Query::new("phrase", Shape::Phrase(win.join(" "))));
            } else {
                let mut pick = Vec::new();
                while pick.len() < k {
                    let t = toks[rng.below(toks.len())].clone();
                    if !pick.contains(&t) {
                        pick.push(t);
                    }
                }
                qs.push(Query::new(cat, Shape::Terms(pick)));
            }
            got += 1;
        }
    }
    // Filters: medium and common words restricted by kind or provider.
    let mut fw = spread(&words, mlo, n_items, 6).into_iter();
    for k in kinds.iter().take(3) {
        if let Some(w) = fw.next() {
            let mut q = Query::new("filter", term(&w));
            q.kind = Some(k.clone());
            qs.push(q);
        }
    }
    for p in providers.iter().cycle().take(2) {
        if let Some(w) = fw.next() {
            let mut q = Query::new("filter", term(&w));
            q.provider = Some(p.clone());
            qs.push(q);
        }
    }
    // Identifiers and paths seen in random items.
    let (mut idents, mut paths) = (HashSet::new(), HashSet::new());
    tries = 0;
    while (idents.len() < 4 || paths.len() < 4) && tries < 20_000 {
        tries += 1;
        let item = random_item(conn, &mut rng, lo, hi)?;
        for c in &item.columns {
            if idents.len() < 4 {
                if let Some(t) = fts_tokens(c).into_iter().find(|t| is_ident(t)) {
                    idents.insert(t);
                }
            }
            if paths.len() < 4 {
                if let Some(p) = path_tokens(c).into_iter().next() {
                    paths.insert(p);
                }
            }
        }
    }
    let mut idents: Vec<_> = idents.into_iter().collect();
    let mut paths: Vec<_> = paths.into_iter().collect();
    idents.sort();
    paths.sort();
    for i in idents {
        qs.push(Query::new("ident", Shape::Phrase(i)));
    }
    for p in paths {
        qs.push(Query::new("path", Shape::Phrase(p)));
    }
    Ok(qs)
}

/// A known-item query: the item it was drawn from, and why this query.
pub struct KnownItem {
    pub rowid: i64,
    /// `ident`, `path` or `phrase3`.
    pub source: &'static str,
    pub query: Query,
}

/// `n` random items with text, each with its most distinctive identifier, path or 3-word
/// window (lowest document frequency, estimated from the FTS5 vocabulary).
pub fn known_items(
    conn: &Connection,
    vocab: &mut Vocab,
    seed: u64,
    n: usize,
) -> Result<Vec<KnownItem>> {
    let mut rng = Rng::derive(seed, 2);
    let (lo, hi) = rowid_range(conn)?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut tries = 0;
    while out.len() < n && tries < 100 * n {
        tries += 1;
        let item = random_item(conn, &mut rng, lo, hi)?;
        if !seen.insert(item.rowid) {
            continue;
        }
        // (estimated df, source, query text)
        let mut best: Option<(u64, &'static str, String)> = None;
        let mut consider = |df: u64, src: &'static str, q: String| {
            if df > 0 && !matches!(&best, Some(b) if b.0 <= df) {
                best = Some((df, src, q));
            }
        };
        for c in &item.columns {
            let toks = fts_tokens(c);
            for w in toks.windows(3) {
                if w.iter().all(|t| is_word(t)) {
                    let mut df = u64::MAX;
                    for t in w {
                        df = df.min(vocab.df(t)?);
                    }
                    consider(df, "phrase3", w.join(" "));
                }
            }
            for t in toks.iter().filter(|t| is_ident(t)) {
                consider(vocab.df(t)?, "ident", t.clone());
            }
            for p in path_tokens(c) {
                let mut df = u64::MAX;
                for t in fts_tokens(&p) {
                    df = df.min(vocab.df(&t)?);
                }
                consider(df, "path", p);
            }
        }
        if let Some((_, source, q)) = best {
            out.push(KnownItem {
                rowid: item.rowid,
                source,
                query: Query::new("known-item", Shape::Phrase(q)),
            });
        }
    }
    Ok(out)
}
