//! Live queries: snapshot, changes as the file grows, resume after a
//! disconnect, fan-out to many clients, shutdown.

use serde_json::json;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_append_receive_then_resume_with_exactly_the_missed_changes() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let snap = c
        .call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}}),
        )
        .await;
    assert_eq!(snap["snapshot"], true);
    assert_eq!(item_texts(&snap), ["first"]);
    let store_id = snap["store_id"].as_str().unwrap().to_string();

    t.append(&["second"]);
    let (texts, rev) = c.collect_texts(1).await;
    assert_eq!(texts, ["second"]);
    drop(c);

    // Missed while disconnected.
    t.append(&["third", "fourth", "fifth"]);
    let mut c = Client::connect(t.addr(), Some(TOKEN)).await.unwrap();
    // Wait until the server has them (the watcher runs on its own).
    loop {
        let items = c.call("items.list", json!({"thread": THREAD})).await;
        if items["items"].as_array().unwrap().len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let resumed = c
        .call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}, "since": rev, "store_id": store_id}),
        )
        .await;
    assert_eq!(resumed["snapshot"], false);
    assert_eq!(
        item_texts(&resumed),
        ["third", "fourth", "fifth"],
        "exactly the missed items, once"
    );
    let resumed_rev = resumed["revision"].as_u64().unwrap();
    assert!(resumed_rev > rev);
    // Live again after the resume, with nothing repeated.
    t.append(&["sixth"]);
    let (texts, _) = c.collect_texts(1).await;
    assert_eq!(texts, ["sixth"]);

    // Resuming from the current revision yields nothing; from another store, a flagged snapshot.
    let same = c
        .call("subscribe", json!({"query": {"type": "thread", "thread": THREAD}, "since": resumed_rev + 1, "store_id": store_id}))
        .await;
    assert_eq!(same["snapshot"], false);
    assert_eq!(item_texts(&same), Vec::<String>::new());
    let other = c
        .call("subscribe", json!({"query": {"type": "thread", "thread": THREAD}, "since": 2, "store_id": "0".repeat(32)}))
        .await;
    assert_eq!(other["snapshot"], true);
    assert_eq!(other["reason"], "store_changed");
    assert_eq!(item_texts(&other).len(), 6);
    let future = c
        .call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}, "since": 1_000_000}),
        )
        .await;
    assert_eq!(
        (future["snapshot"].clone(), future["reason"].clone()),
        (json!(true), json!("store_changed"))
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_list_subscription_sees_new_threads() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let snap = c
        .call(
            "subscribe",
            json!({"query": {"type": "threads", "provider": "codex"}}),
        )
        .await;
    assert_eq!(snap["threads"].as_array().unwrap().len(), 1);
    let other = "01a20040-17cf-78f2-80e0-000000000002";
    let path = t
        .session_file
        .with_file_name(format!("rollout-2026-01-01T00-00-01-{other}.jsonl"));
    let meta = json!({"timestamp":"2026-01-01T00:00:00.000Z","type":"session_meta",
        "payload":{"id":other,"timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"test","cli_version":"0.1"}});
    std::fs::write(&path, format!("{meta}\n{}\n", user_line("new thread"))).unwrap();
    let d = c.changes().await;
    assert_eq!(d["snapshot"], false);
    let ids: Vec<&str> = d["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&format!("codex-{other}").as_str()), "{d}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_subscribed_clients_all_receive_a_change() {
    let mut t = TestServer::start().await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        let mut c = Client::connect(t.addr(), Some(TOKEN)).await.unwrap();
        if clients.is_empty() {
            c.wait_for_thread(THREAD).await;
        }
        c.call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}}),
        )
        .await;
        clients.push(c);
    }
    t.append(&["broadcast"]);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut c| tokio::spawn(async move { c.collect_texts(1).await.0 }))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), ["broadcast"]);
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_clients_with_a_reason_and_restart_resumes() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let snap = c
        .call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}}),
        )
        .await;
    let rev = snap["revision"].as_u64().unwrap();
    let store_id = snap["store_id"].clone();
    let stopping = tokio::spawn(async move {
        t.stop().await;
        t
    });
    let close = c.recv_close().await;
    assert_eq!(close, Some((1001, "server shutting down".to_string())));
    let mut t = stopping.await.unwrap();
    // Written while the server was down.
    t.append(&["offline"]);
    t.restart().await;
    let mut c = t.client().await;
    let resumed = c
        .call("subscribe", json!({"query": {"type": "thread", "thread": THREAD}, "since": rev, "store_id": store_id}))
        .await;
    if item_texts(&resumed).is_empty() {
        // The first pass may not have read it yet: it arrives as a change.
        assert_eq!(c.collect_texts(1).await.0, ["offline"]);
    } else {
        assert_eq!(item_texts(&resumed), ["offline"]);
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_subscription_and_backfill_progress() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let snap = c
        .call("subscribe", json!({"query": {"type": "status"}}))
        .await;
    assert!(snap["status"]["providers"].is_array());
    let job = c
        .call("control.backfill", json!({"provider": "codex"}))
        .await;
    let job_id = job["job_id"].clone();
    loop {
        let n = c.notification().await;
        if n["method"] == "job" && n["params"]["job_id"] == job_id {
            assert_eq!(n["params"]["kind"], "backfill");
            if n["params"]["state"] == "done" {
                assert_eq!(n["params"]["files_done"], n["params"]["files_total"]);
                break;
            }
            assert_eq!(n["params"]["state"], "running");
        }
    }
    // A status delivery follows the job.
    loop {
        let d = c.changes().await;
        if d["status"].is_object() {
            let jobs = d["status"]["jobs"].as_array().unwrap();
            if jobs
                .iter()
                .any(|j| j["job_id"] == job_id && j["state"] == "done")
            {
                break;
            }
        }
    }
    t.stop().await;
}

/// Apply `changes` as a client must (snapshot = replace, upsert by `seq`,
/// revision remembered only from the last part) until the client is at
/// `target` and holds `n` big items; returns the big texts in order.
async fn apply_until(c: &mut Client, n: usize, target: u64) -> Vec<String> {
    let mut held: std::collections::BTreeMap<i64, String> = Default::default();
    let mut revision = 0;
    let big = |h: &std::collections::BTreeMap<i64, String>| {
        h.values().filter(|t| t.starts_with("big-")).count()
    };
    while revision < target || big(&held) < n {
        let d = tokio::time::timeout(WAIT / 2, c.changes())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no changes in time: at revision {revision} of {target}, {} of {n} items",
                    big(&held)
                )
            });
        assert_ne!(d["reason"], "store_changed");
        if d["snapshot"] == true {
            held.clear();
        }
        for i in d["items"].as_array().into_iter().flatten() {
            let text = i["text"].as_str().unwrap().to_string();
            held.insert(i["seq"].as_i64().unwrap(), text);
        }
        if d.get("more").is_none() {
            revision = d["revision"].as_u64().unwrap();
        }
    }
    held.into_values()
        .filter(|t| t.starts_with("big-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_caught_up_without_slowing_others() {
    let mut t = TestServer::start().await;
    let mut slow = t.client().await;
    let mut fast = t.client().await;
    for c in [&mut slow, &mut fast] {
        c.call(
            "subscribe",
            json!({"query": {"type": "thread", "thread": THREAD}}),
        )
        .await;
    }
    // 40 MB of large items: more than the socket buffers and the slow
    // connection's queue hold, and the slow client reads nothing meanwhile.
    const N: usize = 400;
    let pad = "x".repeat(100_000);
    let texts: Vec<String> = (0..N).map(|i| format!("big-{i:03}-{pad}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    t.append(&refs);
    // The revision that stored the last item, not the store's revision:
    // a later commit that does not touch this thread (a file's cursor, a
    // rescan) reaches no thread subscriber, so waiting for its revision
    // would wait forever.
    let target = loop {
        let items = fast
            .call("items.list", json!({"thread": THREAD, "tail": 1}))
            .await;
        if items["items"][0]["text"] == texts[N - 1].as_str() {
            break items["items"][0]["revision"].as_u64().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let got = apply_until(&mut fast, N, target).await;
    assert!(
        got == texts,
        "the fast client holds every item in order while the slow one is stuck"
    );
    // Now the slow client reads: it ends with every item, in order.
    let got = apply_until(&mut slow, N, target).await;
    assert!(
        got == texts,
        "the slow client holds every item in order ({} items)",
        got.len()
    );
    let status = fast.call("status", json!({})).await;
    assert!(
        status["slow_catch_ups"].as_u64().unwrap() >= 1,
        "the slow client should have been caught up by query: {}",
        status["slow_catch_ups"]
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_once_and_live() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let r = c.call("search", json!({"query": "first"})).await;
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["thread_id"], THREAD);
    assert_eq!(hits[0]["snippet"], "first");
    assert_eq!(hits[0]["highlights"], json!([[0, 5]]));
    let bad = c
        .call_raw("search", json!({"query": "x provider:vim"}))
        .await;
    assert_eq!(bad["error"]["code"], -32602);

    let snap = c
        .call(
            "subscribe",
            json!({"query": {"type": "search", "query": "webhook provider:codex"}}),
        )
        .await;
    assert_eq!(snap["snapshot"], true);
    assert_eq!(snap["hits"], json!([]));
    t.append(&["unrelated words", "verify the webhook signature"]);
    let d = c.changes().await;
    let hits = d["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{d}");
    assert_eq!(hits[0]["snippet"], "verify the webhook signature");
    assert_eq!(hits[0]["highlights"], json!([[11, 18]]));
    t.stop().await;
}
