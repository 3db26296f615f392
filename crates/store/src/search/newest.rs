//! Broad prefixes. `con*` starts thousands of words in a third of all
//! items: enumerating them in the index and ranking every match costs tens
//! of milliseconds, and with that many matches relevance says little. So
//! a query with a broad prefix (see `View::has_broad_prefix`) is answered
//! from the newest items: read from the store newest first, in batches,
//! checked by the matcher (exact: every word with the prefix counts) until
//! enough match. Selective filters can make that scan long; past
//! [`SCAN_LIMIT`] items it gives up and the index answers.

use rusqlite::types::Value;
use tinyvex_search::{Candidate, Matcher, View};

use super::{fields, tail_item, Sql, TailItem, TAIL_COLUMNS};
use crate::{Reader, Result};

/// Items read per batch.
const BATCH: i64 = 500;
/// Items read at most before leaving the query to the index.
const SCAN_LIMIT: usize = 20_000;

impl Reader {
    /// The newest `wanted` matches changed in `(since, revision]`, scored
    /// by the matcher; `None` when [`SCAN_LIMIT`] items held fewer.
    pub(super) fn newest_matches(
        &self,
        q: &tinyvex_search::SearchQuery,
        view: &View,
        since: u64,
        revision: u64,
        wanted: usize,
        matcher: &mut Matcher,
    ) -> Result<Option<Vec<Candidate>>> {
        // NOT INDEXED: walk the table by rowid, newest first; the revision
        // index would read every item and sort them.
        let mut sql = Sql::new(
            &format!(
                "SELECT {TAIL_COLUMNS} FROM items AS i NOT INDEXED
                 JOIN threads t ON t.rowid = i.thread
                 WHERE i.rowid < ?1 AND i.revision > ?2 AND i.revision <= ?3
                   AND coalesce(i.text, i.command, i.output) IS NOT NULL"
            ),
            vec![
                Value::Integer(i64::MAX),
                Value::Integer(since as i64),
                Value::Integer(revision as i64),
            ],
        );
        sql.item_filters(q);
        sql.arg(" ORDER BY i.rowid DESC LIMIT ?", Value::Integer(BATCH));
        let mut stmt = self.connection().prepare_cached(&sql.text)?;
        let (mut found, mut scanned) = (Vec::new(), 0);
        loop {
            let rows = stmt.query_map(rusqlite::params_from_iter(sql.args.iter()), tail_item)?;
            let batch: Vec<TailItem> = rows.collect::<rusqlite::Result<_>>()?;
            let Some(last) = batch.last() else {
                // Every item was read.
                return Ok(Some(found));
            };
            sql.args[0] = Value::Integer(last.candidate.rowid);
            scanned += batch.len();
            for item in &batch {
                if let Some(m) = matcher.matches(fields(&item.text)) {
                    found.push(Candidate {
                        score: matcher.score(&m, view),
                        ..item.candidate
                    });
                }
            }
            if found.len() >= wanted {
                // Newest first: keep the newest `wanted`.
                found.truncate(wanted);
                return Ok(Some(found));
            }
            if scanned >= SCAN_LIMIT {
                return Ok(None);
            }
        }
    }
}
