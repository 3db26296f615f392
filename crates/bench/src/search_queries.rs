//! The query set of `tinyvex-bench search`, drawn from the store being measured.
//!
//! The store is read with the `sqlite3` command-line shell (`-readonly -json`): the bench does
//! not link SQLite, and the shell has FTS5, `fts5vocab` and `dbstat`. Words come from a
//! vocabulary built once beside the store (`<store>-vocab.sqlite3`, a contentless FTS5 table of
//! the items' text, whose `fts5vocab` gives each term's document count; the product's own index
//! is tantivy, which the shell cannot read), so
//! rare, medium and very common words are chosen by how many items hold them; multi-word
//! queries, phrases and prefixes come from the text of sampled items, so they match something.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::rng::Rng;

/// Runs `sql` on `db` with `sqlite3 -readonly -json` and returns the rows (objects).
pub fn sqlite_json(db: &Path, sql: &str) -> Result<Vec<Value>> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg("-json")
        .arg(db)
        .arg(sql)
        .output()
        .context("running the sqlite3 shell (apt-get install sqlite3)")?;
    if !out.status.success() {
        bail!(
            "sqlite3 failed on `{sql}`: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let s = String::from_utf8_lossy(&out.stdout);
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(s.trim()).context("parsing sqlite3 -json output")?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

/// Whether the `sqlite3` shell can be run.
pub fn have_sqlite3() -> bool {
    Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Bytes per table and index (`dbstat`), largest first; `None` when dbstat is unavailable.
pub fn table_sizes(db: &Path) -> Option<Vec<(String, u64)>> {
    let rows = sqlite_json(
        db,
        "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC",
    )
    .ok()?;
    Some(
        rows.iter()
            .filter_map(|r| Some((r["name"].as_str()?.to_string(), r["bytes"].as_u64()?)))
            .collect(),
    )
}

/// One query of the set.
#[derive(Debug, Clone)]
pub struct BenchQuery {
    /// The query text, as a user would type it.
    pub text: String,
    /// `1 word`, `2 words`, `3 words`, `filtered`, `prefix`, `phrase`.
    pub class: &'static str,
    /// For one-word queries: `rare`, `medium` or `common`; else empty.
    pub band: &'static str,
    /// Items holding each word (FTS5 document counts; prefixes and phrases: none).
    pub word_docs: Vec<u64>,
    /// The FTS5 expression without filters, to count matches with the shell.
    pub fts: String,
}

impl BenchQuery {
    fn new(text: String, class: &'static str, band: &'static str, fts: String) -> BenchQuery {
        BenchQuery {
            text,
            class,
            band,
            word_docs: Vec::new(),
            fts,
        }
    }

    /// As JSON, for results.json.
    pub fn to_json(&self) -> Value {
        json!({"query": self.text, "class": self.class, "band": self.band,
               "word_docs": self.word_docs, "fts": self.fts})
    }
}

/// The words of an item's text as the index sees them (ASCII text: runs of letters, digits
/// and `_`, lowercased), keeping only plain words of 3 to 20 letters for queries.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

fn plain(w: &str) -> bool {
    (3..=20).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_lowercase())
}

fn quote(w: &str) -> String {
    format!("\"{w}\"")
}

/// What the set is drawn from.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// Term → number of items holding it.
    pub docs: HashMap<String, u64>,
    /// Items in the index.
    pub items: u64,
    /// Sampled items: (kind, text).
    pub samples: Vec<(String, String)>,
    /// The most common thread folders.
    pub cwds: Vec<String>,
    /// Item times (ms) at the 50th and 90th percentile.
    pub ts_p50: Option<i64>,
    /// See `ts_p50`.
    pub ts_p90: Option<i64>,
}

/// The side vocabulary file of a store.
pub fn vocab_db(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-vocab.sqlite3");
    name.into()
}

/// Builds [`vocab_db`] unless it exists (about a minute per million items).
fn ensure_vocab(db: &Path) -> Result<std::path::PathBuf> {
    let vocab = vocab_db(db);
    if vocab.exists() {
        return Ok(vocab);
    }
    let tmp = vocab.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let store = db.display().to_string().replace('\'', "''");
    let out = Command::new("sqlite3")
        .arg(&tmp)
        .arg(format!(
            "ATTACH '{store}' AS s;
             CREATE VIRTUAL TABLE items_fts USING fts5(text, command, output, content = '',
                 tokenize = \"unicode61 remove_diacritics 2 tokenchars '_'\");
             INSERT INTO items_fts(rowid, text, command, output)
                 SELECT rowid, text, command, output FROM s.items
                 WHERE coalesce(text, command, output) IS NOT NULL;"
        ))
        .output()
        .context("running the sqlite3 shell (apt-get install sqlite3)")?;
    if !out.status.success() {
        bail!(
            "building the vocabulary failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::fs::rename(&tmp, &vocab)?;
    Ok(vocab)
}

impl Vocabulary {
    /// Reads the vocabulary, a sample of items, folders and times from `db`.
    pub fn read(db: &Path) -> Result<Vocabulary> {
        let mut v = Vocabulary::default();
        let rows = sqlite_json(
            &ensure_vocab(db)?,
            "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, items_fts, 'row');
             SELECT term, doc FROM temp.vocab WHERE length(term) BETWEEN 3 AND 20
               AND term NOT GLOB '*[^a-z]*'",
        )?;
        for r in rows {
            if let (Some(t), Some(d)) = (r["term"].as_str(), r["doc"].as_u64()) {
                v.docs.insert(t.to_string(), d);
            }
        }
        let n = sqlite_json(db, "SELECT count(*) AS n FROM items")?;
        v.items = n.first().and_then(|r| r["n"].as_u64()).unwrap_or(0);
        // About 600 items spread over the table, numbered in content order
        // (thread id, then position in the thread), not by rowid: rowids
        // depend on the order parallel readers committed, so sampling by
        // them drew another query set from every fresh ingest of the same
        // corpus.
        let step = (v.items / 600).max(1);
        let rows = sqlite_json(
            db,
            &format!(
                "SELECT kind, t FROM (
                   SELECT i.kind, coalesce(i.text, i.command) AS t,
                          row_number() OVER (ORDER BY th.id, i.seq) AS n
                   FROM items i JOIN threads th ON th.rowid = i.thread)
                 WHERE n % {step} = 0 AND t IS NOT NULL AND length(t) BETWEEN 20 AND 4000"
            ),
        )?;
        for r in rows {
            if let (Some(k), Some(t)) = (r["kind"].as_str(), r["t"].as_str()) {
                v.samples.push((k.to_string(), t.to_string()));
            }
        }
        let rows = sqlite_json(
            db,
            "SELECT cwd, count(*) AS n FROM threads WHERE cwd IS NOT NULL
             GROUP BY cwd ORDER BY n DESC LIMIT 5",
        )?;
        v.cwds = rows
            .iter()
            .filter_map(|r| r["cwd"].as_str().map(String::from))
            .collect();
        let ts = |p: f64| -> Result<Option<i64>> {
            let off = (v.items as f64 * p) as u64;
            let rows = sqlite_json(
                db,
                &format!(
                    "SELECT ts FROM items WHERE ts IS NOT NULL ORDER BY ts LIMIT 1 OFFSET {off}"
                ),
            )?;
            Ok(rows.first().and_then(|r| r["ts"].as_i64()))
        };
        v.ts_p50 = ts(0.5)?;
        v.ts_p90 = ts(0.9)?;
        Ok(v)
    }

    fn band(&self, lo: u64, hi: u64) -> Vec<&str> {
        let mut w: Vec<&str> = self
            .docs
            .iter()
            .filter(|(_, &d)| d >= lo && d <= hi)
            .map(|(t, _)| t.as_str())
            .collect();
        w.sort_unstable();
        w
    }

    /// Plain words of sampled items of these kinds (all kinds when empty), in order.
    fn sample_words(&self, rng: &mut Rng, kinds: &[&str]) -> Vec<String> {
        let pool: Vec<&(String, String)> = self
            .samples
            .iter()
            .filter(|(k, _)| kinds.is_empty() || kinds.contains(&k.as_str()))
            .collect();
        for _ in 0..50 {
            if pool.is_empty() {
                break;
            }
            let w = words(&rng.pick(&pool).1);
            if w.iter().filter(|w| plain(w)).count() >= 4 {
                return w;
            }
        }
        Vec::new()
    }

    /// `n` distinct plain words of one sampled item (so the query matches at least it).
    fn co_words(&self, rng: &mut Rng, n: usize, kinds: &[&str]) -> Vec<String> {
        let w = self.sample_words(rng, kinds);
        let mut plain_w: Vec<String> = w.into_iter().filter(|w| plain(w)).collect();
        plain_w.sort_unstable();
        plain_w.dedup();
        let mut out = Vec::new();
        while out.len() < n && !plain_w.is_empty() {
            out.push(plain_w.swap_remove(rng.below(plain_w.len())));
        }
        out
    }

    fn docs_of(&self, words: &[String]) -> Vec<u64> {
        words
            .iter()
            .map(|w| self.docs.get(w).copied().unwrap_or(0))
            .collect()
    }

    /// The query set: 18 one-word (6 rare, 6 medium, 6 common), 10 two-word, 10 three-word,
    /// 14 filtered, 8 prefix and 8 phrase queries (68 in all).
    pub fn queries(&self, seed: u64) -> Result<Vec<BenchQuery>> {
        let mut rng = Rng::new(seed);
        let n = self.items.max(1);
        let mut out = Vec::new();
        let bands: [(&'static str, u64, u64); 3] = [
            ("rare", 2, 50),
            ("medium", (n / 2000).max(60), (n / 100).max(100)),
            ("common", (n / 10).max(101), u64::MAX),
        ];
        for (band, lo, hi) in bands {
            let words = self.band(lo, hi);
            if words.is_empty() {
                bail!("no {band} words ({lo}..{hi} items) in the index: is the store empty?");
            }
            for _ in 0..6 {
                let w = rng.pick(&words).to_string();
                let mut q = BenchQuery::new(w.clone(), "1 word", band, quote(&w));
                q.word_docs = self.docs_of(&[w]);
                out.push(q);
            }
        }
        for (count, class) in [(2, "2 words"), (3, "3 words")] {
            for _ in 0..10 {
                let w = self.co_words(&mut rng, count, &[]);
                let fts = w.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
                let mut q = BenchQuery::new(w.join(" "), class, "", fts);
                q.word_docs = self.docs_of(&w);
                out.push(q);
            }
        }
        out.extend(self.filtered(&mut rng));
        let mut prefixes = 0;
        for _ in 0..200 {
            if prefixes == 8 {
                break;
            }
            let w = self.co_words(&mut rng, 1, &[]);
            let Some(w) = w.first().filter(|w| w.len() >= 5) else {
                continue;
            };
            // Two 3-letter prefixes (many terms to expand), six of 4 letters.
            let p = &w[..if prefixes < 2 { 3 } else { 4 }];
            out.push(BenchQuery::new(
                format!("{p}*"),
                "prefix",
                "",
                format!("\"{p}\"*"),
            ));
            prefixes += 1;
        }
        for i in 0..8 {
            let w: Vec<String> = self.sample_words(&mut rng, &[]);
            let len = if i % 2 == 0 { 2 } else { 3 };
            let starts: Vec<usize> = (0..w.len().saturating_sub(len))
                .filter(|&s| w[s..s + len].iter().all(|x| plain(x)))
                .collect();
            if starts.is_empty() {
                continue;
            }
            let s = *rng.pick(&starts);
            let phrase = w[s..s + len].join(" ");
            let mut q = BenchQuery::new(
                format!("\"{phrase}\""),
                "phrase",
                "",
                format!("\"{phrase}\""),
            );
            q.word_docs = self.docs_of(&w[s..s + len]);
            out.push(q);
        }
        Ok(out)
    }

    /// Words with filters: kinds, provider, folder, dates, and combinations; two of them put
    /// a very common word behind a selective filter (the filter runs after FTS5 ranks).
    fn filtered(&self, rng: &mut Rng) -> Vec<BenchQuery> {
        let date = |ms: Option<i64>| ms.map(|m| crate::clock::date(m.max(0) as u64));
        let mut specs: Vec<(String, Vec<&str>, usize)> = vec![
            ("kind:user".into(), vec!["user"], 1),
            ("kind:user".into(), vec!["user"], 2),
            ("kind:tool".into(), vec!["tool_call"], 1),
            ("kind:tool".into(), vec!["tool_call"], 2),
            ("kind:assistant".into(), vec!["assistant"], 1),
            ("kind:reasoning".into(), vec!["reasoning"], 2),
            ("provider:codex".into(), vec![], 1),
            ("provider:codex".into(), vec![], 2),
        ];
        if let Some(d) = date(self.ts_p50) {
            specs.push((format!("after:{d}"), vec![], 1));
            specs.push((format!("before:{d}"), vec![], 2));
        }
        if let Some(d) = date(self.ts_p90) {
            specs.push((format!("kind:tool after:{d}"), vec!["tool_call"], 1));
        }
        if let Some(c) = self.cwds.first() {
            specs.push((format!("cwd:{c}"), vec![], 1));
        }
        let mut out = Vec::new();
        for (filter, kinds, count) in specs {
            let w = self.co_words(rng, count, &kinds);
            if w.is_empty() {
                continue;
            }
            let fts = w.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
            let mut q = BenchQuery::new(format!("{} {filter}", w.join(" ")), "filtered", "", fts);
            q.word_docs = self.docs_of(&w);
            out.push(q);
        }
        let common = self.band((self.items / 5).max(101), u64::MAX);
        for filter in ["kind:user", "provider:codex kind:tool"] {
            if common.is_empty() {
                break;
            }
            let w = rng.pick(&common).to_string();
            let mut q = BenchQuery::new(format!("{w} {filter}"), "filtered", "common", quote(&w));
            q.word_docs = self.docs_of(&[w]);
            out.push(q);
        }
        out
    }
}

/// Items matching `fts` (no filters), counted by the shell; `None` if it fails.
pub fn count_matches(db: &Path, fts: &str) -> Option<u64> {
    let lit = fts.replace('\'', "''");
    let rows = sqlite_json(
        &vocab_db(db),
        &format!("SELECT count(*) AS n FROM items_fts WHERE items_fts MATCH '{lit}'"),
    )
    .ok()?;
    rows.first()?["n"].as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_the_tokenizer() {
        assert_eq!(
            words("Fix the snake_case name, then run `cargo test`!"),
            vec![
                "fix",
                "the",
                "snake_case",
                "name",
                "then",
                "run",
                "cargo",
                "test"
            ]
        );
        assert!(plain("cargo"));
        assert!(!plain("snake_case"));
        assert!(!plain("ab"));
    }

    #[test]
    fn query_set_has_every_class() {
        let mut v = Vocabulary {
            items: 10_000,
            ts_p50: Some(1_767_225_600_000),
            ts_p90: Some(1_767_225_600_000),
            cwds: vec!["/w/app".into()],
            ..Vocabulary::default()
        };
        for (w, d) in [
            ("zebra", 3),
            ("apple", 80),
            ("thing", 5000),
            ("value", 9000),
        ] {
            v.docs.insert(w.into(), d);
        }
        for k in ["user", "assistant", "tool_call", "reasoning"] {
            v.samples
                .push((k.into(), "please check the value of this thing now".into()));
        }
        let q = v.queries(1).unwrap();
        for class in [
            "1 word", "2 words", "3 words", "filtered", "prefix", "phrase",
        ] {
            assert!(q.iter().any(|q| q.class == class), "{class}");
        }
        assert!(q.len() >= 60, "{}", q.len());
        assert!(q.iter().any(|q| q.text.contains("after:2026-01-01")));
    }
}
