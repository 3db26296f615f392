//! Live queries as plain state, apart from any socket: what a subscription
//! watches, the revision its client has reached, and how a changeset or a
//! catch-up query becomes its next [`Delivery`].
//!
//! Invariant: a subscription's `revision` is the revision of the last
//! delivery its client was sent (or of a changeset that held nothing for
//! it). Every row delivered has a revision above the previous delivery's,
//! so a client never sees a change twice, and every row changed after it
//! is in the next delivery or in a later one, so it never misses one.

use tinyvex_model::{ProviderKind, Revision};
use tinyvex_protocol::{codes, Delivery, Query, ResnapshotReason, RpcError};
use tinyvex_store::{ChangeSet, ItemQuery, Reader, ThreadQuery, ThreadRow};

/// Rows a catch-up sends one by one before it prefers a snapshot.
pub(crate) const CATCH_UP_LIMIT: usize = 5_000;

/// A resolved query: names checked, limits clamped, thread id resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Threads {
        provider: Option<ProviderKind>,
        limit: usize,
    },
    Thread {
        id: String,
        tail: usize,
    },
    Status,
    Search {
        query: String,
        limit: usize,
    },
}

/// One live query of one connection.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub id: u64,
    pub target: Target,
    /// Revision of the last delivery (see the module invariant).
    pub revision: u64,
    /// Its client fell behind; it catches up by query once the connection's
    /// queue drains, instead of from changesets.
    pub stale: bool,
}

/// What a changeset means for one subscription.
#[derive(Debug)]
pub(crate) enum Step {
    /// Nothing for it; it may advance to the changeset's revision.
    Nothing,
    /// Send this; on success the subscription is at `delivery.revision`.
    Deliver(Box<Delivery>),
    /// The changeset does not carry the items; query them.
    CatchUp,
    /// A status subscription: push a fresh status document soon.
    StatusDirty,
}

impl Subscription {
    /// Filter a changeset for this subscription. Pure: the caller moves
    /// `revision` once the delivery is on its way.
    pub(crate) fn step(&self, changes: &ChangeSet) -> Step {
        if changes.to.0 <= self.revision {
            return Step::Nothing;
        }
        let since = self.revision;
        let delivery = |d: Delivery| {
            Step::Deliver(Box::new(Delivery {
                subscription: self.id,
                revision: changes.to.0,
                ..d
            }))
        };
        match &self.target {
            Target::Threads { provider, .. } => {
                let rows: Vec<ThreadRow> = changes
                    .threads
                    .iter()
                    .filter(|t| t.revision > since && provider_matches(*provider, t))
                    .cloned()
                    .collect();
                if rows.is_empty() {
                    return Step::Nothing;
                }
                delivery(Delivery {
                    threads: Some(rows),
                    ..Delivery::default()
                })
            }
            Target::Thread { id, .. } => {
                // A change to any item also stamps its thread, so a thread
                // absent from the changeset had no item change either.
                let Some(row) = changes
                    .threads
                    .iter()
                    .find(|t| t.id == *id && t.revision > since)
                else {
                    return Step::Nothing;
                };
                let Some(all) = &changes.items else {
                    return Step::CatchUp;
                };
                let items = all
                    .iter()
                    .filter(|i| i.thread_id == *id && i.revision > since)
                    .cloned()
                    .collect();
                delivery(Delivery {
                    thread: Some(row.clone()),
                    items: Some(items),
                    ..Delivery::default()
                })
            }
            Target::Status => Step::StatusDirty,
            // Any item change stamps its thread: no thread, no new match.
            Target::Search { .. } if changes.threads.is_empty() => Step::Nothing,
            Target::Search { .. } => Step::CatchUp,
        }
    }
}

fn provider_matches(provider: Option<ProviderKind>, t: &ThreadRow) -> bool {
    provider.is_none_or(|p| t.provider == p.as_str())
}

/// Check a query and resolve its thread (id, alias, session id or prefix).
pub(crate) fn resolve(reader: &Reader, query: &Query) -> Result<Target, RpcError> {
    match query {
        Query::Threads { provider, limit } => Ok(Target::Threads {
            provider: parse_provider(provider.as_deref())?,
            limit: limit.unwrap_or(100).clamp(1, 1000),
        }),
        Query::Thread { thread, tail } => {
            let row = reader.thread(thread).map_err(crate::rpc::store_error)?;
            let row = row.ok_or_else(|| not_found_thread(thread))?;
            Ok(Target::Thread {
                id: row.id,
                tail: tail.unwrap_or(500).clamp(1, 5000),
            })
        }
        Query::Status => Ok(Target::Status),
        Query::Search { query, limit } => {
            let limit = limit
                .unwrap_or(20)
                .clamp(1, tinyvex_store::search::MAX_HITS);
            // Parse now, so a bad query is refused at subscribe.
            tinyvex_store::SearchQuery::parse(query)
                .map_err(|e| crate::rpc::store_error(e.into()))?;
            Ok(Target::Search {
                query: query.clone(),
                limit,
            })
        }
    }
}

/// A provider name from a request.
pub(crate) fn parse_provider(name: Option<&str>) -> Result<Option<ProviderKind>, RpcError> {
    name.map(|p| {
        p.parse::<ProviderKind>()
            .map_err(|e| RpcError::new(codes::INVALID_PARAMS, e.to_string()))
    })
    .transpose()
}

/// The error for a thread that does not exist.
pub(crate) fn not_found_thread(thread: &str) -> RpcError {
    RpcError::new(codes::NOT_FOUND, format!("no thread matches `{thread}`"))
}

/// A full snapshot of what `sub` watches, read in one transaction and
/// tagged with that transaction's revision. Not for status subscriptions.
pub(crate) fn snapshot(
    reader: &Reader,
    sub: &Subscription,
    reason: Option<ResnapshotReason>,
) -> tinyvex_store::Result<Delivery> {
    reader.snapshot(|r| {
        let revision = r.revision()?.0;
        let mut d = Delivery {
            subscription: sub.id,
            revision,
            snapshot: true,
            reason,
            ..Delivery::default()
        };
        match &sub.target {
            Target::Threads { provider, limit } => {
                d.threads = Some(r.threads(&ThreadQuery {
                    provider: *provider,
                    limit: *limit,
                    ..ThreadQuery::default()
                })?);
            }
            Target::Thread { id, tail } => {
                d.thread = r.thread(id)?;
                d.items = Some(r.items(id, ItemQuery::Tail(*tail))?);
            }
            Target::Search { query, limit } => {
                d.hits = Some(r.search_text(query, *limit, None)?);
            }
            Target::Status => {}
        }
        Ok(d)
    })
}

/// Exactly the changes after `sub.revision`, read in one transaction; a
/// snapshot flagged `too_many_changes` (or `fallback` when given) when more
/// than [`CATCH_UP_LIMIT`] rows changed.
pub(crate) fn catch_up(
    reader: &Reader,
    sub: &Subscription,
    fallback: ResnapshotReason,
) -> tinyvex_store::Result<Delivery> {
    let since = Revision(sub.revision);
    let changes = reader.snapshot(|r| {
        let revision = r.revision()?.0;
        let mut d = Delivery {
            subscription: sub.id,
            revision,
            ..Delivery::default()
        };
        match &sub.target {
            Target::Threads { provider, .. } => {
                let rows = r.threads(&ThreadQuery {
                    provider: *provider,
                    limit: CATCH_UP_LIMIT + 1,
                    since: Some(since),
                    ..ThreadQuery::default()
                })?;
                if rows.len() > CATCH_UP_LIMIT {
                    return Ok(None);
                }
                d.threads = Some(rows);
            }
            Target::Thread { id, .. } => {
                let row = r.thread(id)?;
                let Some(items) = r.items_since(id, since, CATCH_UP_LIMIT)? else {
                    return Ok(None);
                };
                d.thread = row.filter(|t| t.revision > since.0);
                d.items = Some(items);
            }
            Target::Search { query, .. } => {
                // New matches among what changed; bounded by the hit limit.
                let hits = r.search_text(query, tinyvex_store::search::MAX_HITS, Some(since))?;
                d.hits = Some(hits);
            }
            Target::Status => {}
        }
        Ok(Some(d))
    })?;
    match changes {
        Some(d) => Ok(d),
        None => snapshot(reader, sub, Some(fallback)),
    }
}

/// Split a delivery whose rows add up to more than `budget` bytes of JSON
/// into parts of about `budget` each (a single larger row goes alone). The
/// first part keeps the snapshot flag, reason, thread row and status; every
/// part but the last has `more` set; all carry the same revision.
pub(crate) fn split(delivery: Delivery, budget: usize) -> Vec<Delivery> {
    let threads = delivery.threads.clone().unwrap_or_default();
    let items = delivery.items.clone().unwrap_or_default();
    let sizes_t: Vec<usize> = threads.iter().map(json_len).collect();
    let sizes_i: Vec<usize> = items.iter().map(json_len).collect();
    if sizes_t.iter().chain(&sizes_i).sum::<usize>() <= budget {
        return vec![delivery];
    }
    let mut parts = vec![Delivery {
        threads: None,
        items: None,
        ..delivery.clone()
    }];
    let mut used = 0;
    let mut room = |parts: &mut Vec<Delivery>, len: usize| {
        let last = parts.last().expect("one part at least");
        let empty = last.threads.is_none() && last.items.is_none();
        if used + len > budget && !empty {
            parts.push(Delivery {
                subscription: delivery.subscription,
                revision: delivery.revision,
                ..Delivery::default()
            });
            used = 0;
        }
        used += len;
    };
    for (thread, len) in threads.into_iter().zip(sizes_t) {
        room(&mut parts, len);
        let part = parts.last_mut().expect("one part at least");
        part.threads.get_or_insert_with(Vec::new).push(thread);
    }
    for (item, len) in items.into_iter().zip(sizes_i) {
        room(&mut parts, len);
        let part = parts.last_mut().expect("one part at least");
        part.items.get_or_insert_with(Vec::new).push(item);
    }
    let n = parts.len();
    for (i, part) in parts.iter_mut().enumerate() {
        part.more = i + 1 < n;
    }
    parts
}

/// Serialized size of a row, for splitting.
fn json_len<T: serde::Serialize>(row: &T) -> usize {
    serde_json::to_vec(row).map_or(0, |v| v.len())
}

#[cfg(test)]
#[path = "subscription_tests.rs"]
mod tests;
