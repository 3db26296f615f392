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

use super::{item_conditions, TailItem};
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
        let mut sql = String::from(
            // NOT INDEXED: walk the table by rowid, newest first; the
            // revision index would read every item and sort them.
            "SELECT i.rowid, i.ts, i.revision, i.text, i.command, i.output
             FROM items AS i NOT INDEXED
             JOIN threads t ON t.rowid = i.thread
             WHERE i.rowid < ?1 AND i.revision > ?2 AND i.revision <= ?3
               AND coalesce(i.text, i.command, i.output) IS NOT NULL",
        );
        let mut args = vec![
            Value::Integer(i64::MAX),
            Value::Integer(since as i64),
            Value::Integer(revision as i64),
        ];
        item_conditions(q, &mut sql, &mut args);
        args.push(Value::Integer(BATCH));
        sql.push_str(&format!(" ORDER BY i.rowid DESC LIMIT ?{}", args.len()));
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let (mut found, mut scanned) = (Vec::new(), 0);
        loop {
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(TailItem {
                    candidate: Candidate {
                        rowid: r.get(0)?,
                        score: 0.0,
                        ts: r.get(1)?,
                        revision: r.get::<_, i64>(2)? as u64,
                    },
                    text: [r.get(3)?, r.get(4)?, r.get(5)?],
                })
            })?;
            let batch: Vec<TailItem> = rows.collect::<rusqlite::Result<_>>()?;
            let Some(last) = batch.last() else {
                // Every item was read.
                return Ok(Some(found));
            };
            args[0] = Value::Integer(last.candidate.rowid);
            scanned += batch.len();
            for item in &batch {
                if let Some(m) = matcher.matches(item.fields()) {
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
