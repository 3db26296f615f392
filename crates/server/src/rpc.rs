//! JSON-RPC dispatch: one text message in, at most one response out.
//! Every failure becomes a JSON-RPC error; none closes the connection.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tinyvex_model::{ProviderKind, Revision};
use tinyvex_protocol::{
    codes, method, AliasRemoveParams, AliasSetParams, BackfillParams, Hello, Id, ItemGet,
    ItemParams, ItemsList, ItemsListParams, JobStarted, ProviderControlParams, Request,
    ResnapshotReason, Response, RpcError, SearchParams, SearchResult, SubscribeParams, ThreadGet,
    ThreadParams, ThreadsList, ThreadsListParams, TwoWayParams, UnsubscribeParams, Written,
};
use tinyvex_store::{ControlWrite, ItemQuery, Reader, ThreadPageCursor, ThreadQuery};

use crate::state::{provider_setting, AppState, TWO_WAY_SETTING};
use crate::subscription::{self, not_found_thread, parse_provider, Subscription, Target};

/// Largest request accepted, in bytes. Larger text messages get a
/// `REQUEST_TOO_LARGE` error (the transport itself closes the connection
/// on messages over [`crate::MAX_MESSAGE_BYTES`]).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Live queries one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 64;

/// A connection's subscriptions by id.
pub(crate) type Subscriptions = BTreeMap<u64, Subscription>;

/// Rows of JSON per message before a delivery is split into parts.
pub(crate) const DELIVERY_BUDGET: usize = 512 << 10;

/// Handle one text message: the response (none for a notification, which
/// has no id), then any further parts of a large subscription snapshot.
pub(crate) async fn handle(
    state: &Arc<AppState>,
    subs: &mut Subscriptions,
    text: &str,
) -> Vec<String> {
    let mut then = Vec::new();
    let response = match parse(text) {
        Err(response) => *response,
        // Every method answers; without an id nobody could read the answer
        // (or unsubscribe), so a notification is not executed at all.
        Ok(request) if request.id.is_none() => return Vec::new(),
        Ok(request) => {
            let id = request.id.clone();
            let result = if request.method == method::SUBSCRIBE {
                match params(&request) {
                    Ok(p) => subscribe(state, subs, p, &mut then).await,
                    Err(e) => Err(e),
                }
            } else {
                dispatch(state, subs, request).await
            };
            match result {
                Ok(value) => Response::ok(id, value),
                Err(error) => Response::err(id, error),
            }
        }
    };
    let mut out = vec![serde_json::to_string(&response).expect("responses serialize")];
    out.extend(then.iter().map(|d| {
        serde_json::to_string(&tinyvex_protocol::Notification::new(method::CHANGES, d))
            .expect("deliveries serialize")
    }));
    out
}

fn parse(text: &str) -> Result<Request, Box<Response>> {
    if text.len() > MAX_REQUEST_BYTES {
        return Err(Box::new(Response::err(
            None,
            RpcError::new(
                codes::REQUEST_TOO_LARGE,
                format!(
                    "request of {} bytes is over the {MAX_REQUEST_BYTES} byte limit",
                    text.len()
                ),
            ),
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Box::new(Response::err(
            None,
            RpcError::new(codes::PARSE_ERROR, format!("not JSON: {e}")),
        ))
    })?;
    // Echo the id when there is a usable one, even if the rest is wrong.
    let id = value
        .get("id")
        .and_then(|v| serde_json::from_value::<Id>(v.clone()).ok());
    let invalid = |message: String| {
        Box::new(Response::err(
            id.clone(),
            RpcError::new(codes::INVALID_REQUEST, message),
        ))
    };
    if !value.is_object() {
        return Err(invalid(
            "a request must be one JSON object (batches are not supported)".into(),
        ));
    }
    let request: Request = serde_json::from_value(value)
        .map_err(|e| invalid(format!("not a JSON-RPC 2.0 request object: {e}")))?;
    if request.jsonrpc != "2.0" {
        return Err(invalid("`jsonrpc` must be \"2.0\"".into()));
    }
    Ok(request)
}

fn params<T: DeserializeOwned>(request: &Request) -> Result<T, RpcError> {
    let raw = request.params.as_ref().map_or("{}", |p| p.get());
    serde_json::from_str(raw).map_err(|e| {
        RpcError::new(
            codes::INVALID_PARAMS,
            format!("invalid params for `{}`: {e}", request.method),
        )
    })
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))
}

/// Map a store error to a JSON-RPC error.
pub(crate) fn store_error(e: tinyvex_store::Error) -> RpcError {
    use tinyvex_store::Error as E;
    let message = e.to_string();
    match e {
        E::AmbiguousThread {
            candidates, more, ..
        } => RpcError {
            code: codes::AMBIGUOUS,
            message,
            data: Some(serde_json::json!({ "candidates": candidates, "more": more })),
        },
        E::InvalidControl(_)
        | E::Query(
            tinyvex_store::QueryError::BadFilter { .. } | tinyvex_store::QueryError::Empty,
        ) => RpcError::new(codes::INVALID_PARAMS, message),
        E::Query(tinyvex_store::QueryError::UnknownThread(_)) => {
            RpcError::new(codes::NOT_FOUND, message)
        }
        E::WriterStopped | E::DiskFull(_) | E::Writer(_) => {
            RpcError::new(codes::UNAVAILABLE, message)
        }
        _ => {
            tracing::error!("request failed: {message}");
            RpcError::new(codes::INTERNAL_ERROR, message)
        }
    }
}

/// Run `f` with a pooled reader on the blocking pool.
async fn read<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Reader) -> Result<T, RpcError> + Send + 'static,
) -> Result<T, RpcError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let reader = store.read().map_err(store_error)?;
        f(&reader)
    })
    .await
    .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, format!("request task failed: {e}")))?
}

/// Commit a control write through the writer (blocking until committed).
async fn write(state: &Arc<AppState>, write: ControlWrite) -> Result<Value, RpcError> {
    let writer = state.writer.clone();
    let revision = tokio::task::spawn_blocking(move || writer.control(write))
        .await
        .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?
        .map_err(store_error)?;
    state.invalidate_status();
    to_value(Written {
        revision: revision.0,
    })
}

fn resolve_thread(reader: &Reader, thread: &str) -> Result<tinyvex_store::ThreadRow, RpcError> {
    reader
        .thread(thread)
        .map_err(store_error)?
        .ok_or_else(|| not_found_thread(thread))
}

async fn dispatch(
    state: &Arc<AppState>,
    subs: &mut Subscriptions,
    request: Request,
) -> Result<Value, RpcError> {
    match request.method.as_str() {
        method::HELLO => {
            let store_id = state.store_id.clone();
            let revision = state.writer.revision().0;
            to_value(Hello {
                server: "tinyvex".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                protocol: tinyvex_protocol::PROTOCOL_VERSION,
                store_id,
                revision,
            })
        }
        method::THREADS_LIST => {
            let p: ThreadsListParams = params(&request)?;
            let provider = parse_provider(p.provider.as_deref())?;
            let before = p.cursor.as_deref().map(parse_cursor).transpose()?;
            let limit = p.limit.unwrap_or(50).clamp(1, 1000);
            read(state, move |r| {
                r.snapshot(|r| {
                    let revision = r.revision()?.0;
                    let threads = r.threads(&ThreadQuery {
                        provider,
                        limit,
                        before,
                        since: p.since.map(Revision),
                    })?;
                    let next_cursor = (threads.len() == limit)
                        .then(|| threads.last().map(|t| format_cursor(&t.page_cursor())))
                        .flatten();
                    Ok(ThreadsList {
                        revision,
                        threads,
                        next_cursor,
                    })
                })
                .map_err(store_error)
                .and_then(to_value)
            })
            .await
        }
        method::THREADS_GET => {
            let p: ThreadParams = params(&request)?;
            read(state, move |r| {
                r.snapshot(|r| {
                    let revision = r.revision()?.0;
                    let thread = r.thread(&p.thread)?;
                    let aliases = match &thread {
                        Some(t) => r.aliases_of(&t.id)?,
                        None => Vec::new(),
                    };
                    Ok((revision, thread, aliases))
                })
                .map_err(store_error)
                .and_then(|(revision, thread, aliases)| {
                    to_value(ThreadGet {
                        revision,
                        thread: thread.ok_or_else(|| not_found_thread(&p.thread))?,
                        aliases,
                    })
                })
            })
            .await
        }
        method::ITEMS_LIST => {
            let p: ItemsListParams = params(&request)?;
            let query = items_query(&p)?;
            read(state, move |r| {
                let thread = resolve_thread(r, &p.thread)?;
                r.snapshot(|r| {
                    Ok(ItemsList {
                        revision: r.revision()?.0,
                        items: r.items(&thread.id, query)?,
                        thread_id: thread.id.clone(),
                    })
                })
                .map_err(store_error)
                .and_then(to_value)
            })
            .await
        }
        method::TOOLS_LIST => {
            let p: ThreadParams = params(&request)?;
            read(state, move |r| {
                let thread = resolve_thread(r, &p.thread)?;
                r.snapshot(|r| {
                    Ok(ItemsList {
                        revision: r.revision()?.0,
                        items: r.tool_calls(&thread.id)?,
                        thread_id: thread.id.clone(),
                    })
                })
                .map_err(store_error)
                .and_then(to_value)
            })
            .await
        }
        method::ITEMS_GET => {
            let p: ItemParams = params(&request)?;
            read(state, move |r| {
                let revision = r.revision().map_err(store_error)?.0;
                let item = r.item(&p.item).map_err(store_error)?.ok_or_else(|| {
                    RpcError::new(codes::NOT_FOUND, format!("no item `{}`", p.item))
                })?;
                to_value(ItemGet { revision, item })
            })
            .await
        }
        method::SEARCH => {
            let p: SearchParams = params(&request)?;
            let limit = p.limit.unwrap_or(20);
            read(state, move |r| {
                r.snapshot(|r| {
                    Ok(SearchResult {
                        revision: r.revision()?.0,
                        hits: r.search_text(&p.query, limit, None)?,
                    })
                })
                .map_err(store_error)
                .and_then(to_value)
            })
            .await
        }
        method::STATUS => {
            let st = Arc::clone(state);
            let status = tokio::task::spawn_blocking(move || st.status())
                .await
                .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?
                .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?;
            to_value(status)
        }
        method::SUBSCRIBE => unreachable!("handled before dispatch"),
        method::UNSUBSCRIBE => {
            let p: UnsubscribeParams = params(&request)?;
            match subs.remove(&p.subscription) {
                Some(_) => Ok(serde_json::json!({ "unsubscribed": true })),
                None => Err(RpcError::new(
                    codes::NOT_FOUND,
                    format!("no subscription {} on this connection", p.subscription),
                )),
            }
        }
        method::ALIASES_SET => {
            let p: AliasSetParams = params(&request)?;
            let thread_id = read(state, move |r| Ok(resolve_thread(r, &p.thread)?.id)).await?;
            write(
                state,
                ControlWrite::SetAlias {
                    alias: p.alias,
                    thread_id,
                },
            )
            .await
        }
        method::ALIASES_REMOVE => {
            let p: AliasRemoveParams = params(&request)?;
            write(state, ControlWrite::RemoveAlias { alias: p.alias }).await
        }
        method::CONTROL_PROVIDER => {
            let p: ProviderControlParams = params(&request)?;
            let kind: ProviderKind = parse_provider(Some(&p.provider))?.expect("given");
            let written = write(
                state,
                ControlWrite::SetSetting {
                    key: provider_setting(kind),
                    value: p.enabled.to_string(),
                },
            )
            .await?;
            state.watch.set_enabled(kind, p.enabled);
            Ok(written)
        }
        method::CONTROL_TWO_WAY => {
            let p: TwoWayParams = params(&request)?;
            let written = write(
                state,
                ControlWrite::SetSetting {
                    key: TWO_WAY_SETTING.into(),
                    value: p.enabled.to_string(),
                },
            )
            .await?;
            // The mirror reads the setting on every commit, but a write
            // of the value already stored commits nothing.
            state.mirror.wake();
            Ok(written)
        }
        method::CONTROL_RESCAN => to_value(JobStarted {
            job_id: state.watch.rescan(),
        }),
        method::CONTROL_BACKFILL => {
            let p: BackfillParams = params(&request)?;
            let provider = parse_provider(p.provider.as_deref())?;
            to_value(JobStarted {
                job_id: state.watch.backfill(provider),
            })
        }
        other => Err(RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("unknown method `{other}` (see docs/protocol.md)"),
        )),
    }
}

fn items_query(p: &ItemsListParams) -> Result<ItemQuery, RpcError> {
    let given = [
        p.tail.is_some(),
        p.from_seq.is_some(),
        p.before_seq.is_some(),
        p.since.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(RpcError::new(
            codes::INVALID_PARAMS,
            "give at most one of `tail`, `from_seq`, `before_seq` and `since`",
        ));
    }
    let limit = p.limit.unwrap_or(200).clamp(1, 5000);
    Ok(if let Some(from_seq) = p.from_seq {
        ItemQuery::Range { from_seq, limit }
    } else if let Some(before_seq) = p.before_seq {
        ItemQuery::Before { before_seq, limit }
    } else if let Some(since) = p.since {
        ItemQuery::Since(Revision(since))
    } else {
        ItemQuery::Tail(p.tail.unwrap_or(200).clamp(1, 5000))
    })
}

/// Page cursors are `<updated_at ms>:<thread id>`, opaque to clients.
fn format_cursor(c: &ThreadPageCursor) -> String {
    format!("{}:{}", c.updated_at, c.id)
}

fn parse_cursor(s: &str) -> Result<ThreadPageCursor, RpcError> {
    s.split_once(':')
        .and_then(|(t, id)| {
            Some(ThreadPageCursor {
                updated_at: t.parse().ok()?,
                id: id.to_string(),
            })
        })
        .ok_or_else(|| RpcError::new(codes::INVALID_PARAMS, "invalid `cursor`"))
}

/// Start a subscription; the result is the first part of its first
/// delivery, further parts go to `then`.
async fn subscribe(
    state: &Arc<AppState>,
    subs: &mut Subscriptions,
    p: SubscribeParams,
    then: &mut Vec<tinyvex_protocol::Delivery>,
) -> Result<Value, RpcError> {
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(RpcError::new(
            codes::TOO_MANY_SUBSCRIPTIONS,
            format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection; unsubscribe some"),
        ));
    }
    let id = state
        .next_subscription
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let store_id = state.store_id.clone();
    let query = p.query.clone();
    let (sub, delivery) = read(state, move |r| {
        let target = subscription::resolve(r, &query)?;
        let mut sub = Subscription {
            id,
            target,
            revision: 0,
            stale: false,
        };
        if sub.target == Target::Status {
            return Ok((sub, None));
        }
        let current = r.revision().map_err(store_error)?.0;
        let min = r.min_resume_revision().map_err(store_error)?.0;
        let reason = match p.since {
            None => None,
            Some(_) if p.store_id.as_deref().is_some_and(|s| s != store_id) => {
                Some(ResnapshotReason::StoreChanged)
            }
            Some(since) if since > current => Some(ResnapshotReason::StoreChanged),
            Some(since) if since < min => Some(ResnapshotReason::SinceTooOld),
            Some(since) => {
                sub.revision = since;
                let d = subscription::catch_up(r, &sub, ResnapshotReason::TooManyChanges)
                    .map_err(store_error)?;
                return Ok((sub, Some(d)));
            }
        };
        let d = subscription::snapshot(r, &sub, reason).map_err(store_error)?;
        Ok((sub, Some(d)))
    })
    .await?;
    let mut sub = sub;
    let mut delivery = match delivery {
        Some(d) => d,
        None => {
            let st = Arc::clone(state);
            let status = tokio::task::spawn_blocking(move || st.status())
                .await
                .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?
                .map_err(|e| RpcError::new(codes::INTERNAL_ERROR, e.to_string()))?;
            tinyvex_protocol::Delivery {
                subscription: id,
                revision: status.revision,
                snapshot: true,
                status: Some(status),
                ..Default::default()
            }
        }
    };
    sub.revision = delivery.revision;
    delivery.store_id = Some(state.store_id.clone());
    subs.insert(id, sub);
    let mut parts = subscription::split(delivery, DELIVERY_BUDGET).into_iter();
    let first = parts.next().expect("a split has one part at least");
    then.extend(parts);
    to_value(first)
}
