//! The change feed: one task turns each commit of the writer into a
//! [`ChangeSet`] ("every row changed since the previous one"), read once
//! and shared by every connection through a broadcast channel.
//!
//! Reading once per commit, not once per client, is what keeps fan-out
//! cheap: 500 subscribed clients cost one indexed query per commit plus
//! an in-memory filter each. A connection that falls more than the
//! channel's capacity behind catches up by querying from its own revision
//! (see `connection.rs`), so no change is ever lost to a slow reader.

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use tinyvex_model::Revision;
use tokio::sync::watch;

use crate::state::AppState;

/// Changed items carried in one changeset; past this, subscribers query
/// the items of their own thread instead (an initial backfill can change
/// millions of items in a few commits).
pub(crate) const FEED_ITEM_LIMIT: usize = 2_000;

/// Start the bridge thread (writer's commit channel → watch channel) and
/// the feed task, which reads changes after `from` on every new revision.
pub(crate) fn start(state: Arc<AppState>, commits: Receiver<Revision>, from: u64) {
    let (tx, rx) = watch::channel(from);
    // The writer notifies on a std channel from its own thread; a watch
    // channel coalesces bursts so the feed reads once per burst.
    std::thread::Builder::new()
        .name("tinyvex-commits".into())
        .spawn(move || {
            while let Ok(rev) = commits.recv() {
                if tx.send(rev.0).is_err() {
                    break;
                }
            }
        })
        .expect("spawn commit bridge thread");
    tokio::spawn(run(state, rx, from));
}

async fn run(state: Arc<AppState>, mut revisions: watch::Receiver<u64>, mut last: u64) {
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            changed = revisions.changed() => if changed.is_err() { break },
            _ = shutdown.changed() => break,
        }
        let newest = *revisions.borrow_and_update();
        if newest <= last {
            continue;
        }
        let store = state.store.clone();
        let since = last;
        let read = tokio::task::spawn_blocking(move || {
            store
                .read()
                .and_then(|r| r.changes_since(Revision(since), FEED_ITEM_LIMIT))
        })
        .await;
        match read {
            Ok(Ok(changes)) => {
                last = changes.to.0;
                tracing::trace!(
                    from = since,
                    to = last,
                    threads = changes.threads.len(),
                    "change feed"
                );
                // No receivers is fine: nobody is subscribed.
                let _ = state.changes.send(Arc::new(changes));
            }
            Ok(Err(e)) => {
                tracing::error!("change feed could not read the store: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                // Try again even without a new commit.
                revisions.mark_changed();
            }
            Err(e) => {
                tracing::error!("change feed task failed: {e}");
                revisions.mark_changed();
            }
        }
    }
}
