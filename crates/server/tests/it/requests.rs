//! One-shot methods, controls, and bad requests (which get JSON-RPC errors
//! on a connection that stays up).

use serde_json::{json, Value};

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_queries() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let list = c.call("threads.list", json!({"provider": "codex"})).await;
    assert_eq!(list["threads"][0]["id"], THREAD);
    assert!(list["next_cursor"].is_null());
    assert!(list["revision"].as_u64().unwrap() >= 1);
    let none = c.call("threads.list", json!({"provider": "claude"})).await;
    assert_eq!(none["threads"], json!([]));
    let got = c
        .call("threads.get", json!({"thread": &THREAD[..12]}))
        .await;
    assert_eq!(got["thread"]["id"], THREAD);
    let items = c
        .call("items.list", json!({"thread": THREAD, "tail": 5}))
        .await;
    assert_eq!(items["thread_id"], THREAD);
    assert_eq!(items["items"][0]["text"], "first");
    let id = items["items"][0]["id"].as_str().unwrap().to_string();
    let one = c.call("items.get", json!({"item": id})).await;
    assert_eq!(one["item"]["text"], "first");
    let tools = c.call("tools.list", json!({"thread": THREAD})).await;
    assert_eq!(tools["items"], json!([]));
    let status = c.call("status", json!({})).await;
    let codex = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "codex")
        .unwrap()
        .clone();
    assert_eq!(codex["threads"], 1);
    assert_eq!(codex["items"], 1);
    assert_eq!(codex["watch"]["enabled"], true);
    assert_eq!(status["clients"], 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_page_backwards_with_before_seq() {
    let mut t = TestServer::start().await;
    t.append(&["second", "third", "fourth"]);
    let mut c = t.client().await;
    let texts = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect()
    };
    // Wait until the appended lines are in.
    let start = std::time::Instant::now();
    let tail = loop {
        let tail = c
            .call("items.list", json!({"thread": THREAD, "tail": 2}))
            .await;
        if texts(&tail) == ["third", "fourth"] {
            break tail;
        }
        assert!(
            start.elapsed() < WAIT,
            "appended lines never arrived: {tail}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let first_seq = tail["items"][0]["seq"].as_i64().unwrap();
    let page = c
        .call(
            "items.list",
            json!({"thread": THREAD, "before_seq": first_seq, "limit": 1}),
        )
        .await;
    assert_eq!(texts(&page), ["second"]);
    let seq = page["items"][0]["seq"].as_i64().unwrap();
    let page = c
        .call(
            "items.list",
            json!({"thread": THREAD, "before_seq": seq, "limit": 5}),
        )
        .await;
    assert_eq!(
        texts(&page),
        ["first"],
        "a short page: the start is reached"
    );
    let both = c
        .call_raw(
            "items.list",
            json!({"thread": THREAD, "before_seq": seq, "from_seq": 0}),
        )
        .await;
    assert_eq!(error_code(&both), -32602);
    t.stop().await;
}

fn error_code(response: &Value) -> i64 {
    response["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error: {response}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_errors_and_the_connection_stays_up() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    c.send_text("{not json".into()).await;
    let r = c.response().await;
    assert_eq!(error_code(&r), -32700);
    assert!(r["id"].is_null());
    c.send_text(r#"{"jsonrpc":"2.0","id":5}"#.into()).await;
    let r = c.response().await;
    assert_eq!((error_code(&r), r["id"].clone()), (-32600, json!(5)));
    c.send_text(r#"{"jsonrpc":"1.0","id":6,"method":"hello"}"#.into())
        .await;
    assert_eq!(error_code(&c.response().await), -32600);
    assert_eq!(
        error_code(&c.call_raw("no.such.method", json!({})).await),
        -32601
    );
    assert_eq!(
        error_code(&c.call_raw("threads.get", json!({"wrong": 1})).await),
        -32602
    );
    assert_eq!(
        error_code(
            &c.call_raw("threads.get", json!({"thread": "nothing-like-it"}))
                .await
        ),
        -32001
    );
    assert_eq!(
        error_code(&c.call_raw("threads.list", json!({"provider": "vim"})).await),
        -32602
    );
    assert_eq!(
        error_code(
            &c.call_raw(
                "items.list",
                json!({"thread": THREAD, "tail": 1, "since": 1})
            )
            .await
        ),
        -32602
    );
    assert_eq!(
        error_code(
            &c.call_raw("unsubscribe", json!({"subscription": 999}))
                .await
        ),
        -32001
    );
    // Over the request limit but under the transport limit: an error.
    let big = json!({"jsonrpc":"2.0","id":9,"method":"hello","params":{"pad":"x".repeat(2 << 20)}});
    c.send_text(big.to_string()).await;
    assert_eq!(error_code(&c.response().await), -32004);
    // A batch (array) is refused.
    c.send_text(r#"[{"jsonrpc":"2.0","id":10,"method":"hello"}]"#.into())
        .await;
    assert_eq!(error_code(&c.response().await), -32600);
    c.send_text(r#"["2.0", 8, "hello"]"#.into()).await;
    assert_eq!(error_code(&c.response().await), -32600);
    // A notification (no id) gets no answer; the next call still works.
    c.send_text(r#"{"jsonrpc":"2.0","method":"hello"}"#.into())
        .await;
    let hello = c.call("hello", json!({})).await;
    assert_eq!(hello["server"], "tinyvex");
    // Over the transport limit: the connection is closed with 1009.
    // (The server may reset the socket before the client has finished
    // sending, so the close frame is checked only when it arrives.)
    c.try_send_text("x".repeat(9 << 20)).await;
    if let Some((code, reason)) = c.recv_close().await {
        assert_eq!((code, reason.as_str()), (1009, "message too big"));
    }
    // Other connections are unaffected.
    let mut d = t.client().await;
    d.call("hello", json!({})).await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controls_and_aliases_persist_across_restarts() {
    let mut t = TestServer::start().await;
    let mut c = t.client().await;
    let before = c.call("hello", json!({})).await["revision"]
        .as_u64()
        .unwrap();
    let w = c
        .call(
            "aliases.set",
            json!({"alias": "my-chat-1", "thread": THREAD}),
        )
        .await;
    assert!(w["revision"].as_u64().unwrap() > before);
    let w2 = c
        .call(
            "aliases.set",
            json!({"alias": "my-chat-1", "thread": THREAD}),
        )
        .await;
    assert_eq!(
        w2["revision"], w["revision"],
        "setting the same alias again changes nothing"
    );
    c.call(
        "control.provider",
        json!({"provider": "codex", "enabled": false}),
    )
    .await;
    c.call("control.two_way", json!({"enabled": true})).await;
    drop(c);
    t.stop().await;

    t.restart().await;
    let mut c = Client::connect(t.addr(), Some(TOKEN)).await.unwrap();
    let got = c.call("threads.get", json!({"thread": "my-chat-1"})).await;
    assert_eq!(got["thread"]["id"], THREAD);
    assert_eq!(got["aliases"], json!(["my-chat-1"]));
    let items = c.call("items.list", json!({"thread": "my-chat-1"})).await;
    assert_eq!(items["thread_id"], THREAD);
    let status = c.call("status", json!({})).await;
    assert_eq!(status["settings"]["two_way"], "true");
    assert_eq!(status["settings"]["provider.codex.enabled"], "false");
    let codex = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "codex")
        .unwrap()
        .clone();
    assert_eq!(codex["watch"]["enabled"], false);
    // Disabled: an append is not ingested...
    t.append(&["while disabled"]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let items = c.call("items.list", json!({"thread": THREAD})).await;
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    // ...until the provider is enabled again.
    c.call(
        "control.provider",
        json!({"provider": "codex", "enabled": true}),
    )
    .await;
    let start = std::time::Instant::now();
    loop {
        let items = c.call("items.list", json!({"thread": THREAD})).await;
        if items["items"].as_array().unwrap().len() == 2 {
            break;
        }
        assert!(start.elapsed() < WAIT, "re-enabled provider was not read");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    c.call("aliases.remove", json!({"alias": "my-chat-1"}))
        .await;
    let r = c
        .call_raw("threads.get", json!({"thread": "my-chat-1"}))
        .await;
    assert_eq!(r["error"]["code"], -32001);
    let job = c.call("control.rescan", json!({})).await;
    assert!(job["job_id"].as_u64().is_some());
    t.stop().await;
}
