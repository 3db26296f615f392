//! Connections without the right token are refused before the upgrade.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::util::*;

fn status_of(result: Result<Client, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_token_is_refused_with_401() {
    let mut t = TestServer::start().await;
    assert_eq!(status_of(Client::connect(t.addr(), None).await), 401);
    assert_eq!(
        status_of(Client::connect(t.addr(), Some("wrong")).await),
        401
    );
    assert_eq!(
        status_of(Client::connect(t.addr(), Some(&TOKEN[..TOKEN.len() - 1])).await),
        401
    );
    let mut ok = Client::connect(t.addr(), Some(TOKEN)).await.unwrap();
    let hello = ok.call("hello", serde_json::json!({})).await;
    assert_eq!(hello["server"], "tinyvex");
    assert_eq!(hello["protocol"], 1);
    assert_eq!(hello["store_id"].as_str().unwrap().len(), 32);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_authenticate_with_a_subprotocol_entry_or_query_parameter() {
    let mut t = TestServer::start().await;
    let addr = t.addr();
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("tinyvex.v1, tinyvex.token.{TOKEN}")
            .parse()
            .unwrap(),
    );
    let (_ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "tinyvex.v1",
        "the server selects the protocol entry, never echoes the token"
    );
    let url = format!("ws://{addr}/ws?token={TOKEN}");
    tokio_tungstenite::connect_async(url).await.unwrap();
    let url = format!("ws://{addr}/ws?token=nope");
    match tokio_tungstenite::connect_async(url).await {
        Err(WsError::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_browser_origins_are_refused_with_403() {
    let mut t = TestServer::start().await;
    let addr = t.addr();
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(r)) => assert_eq!(r.status().as_u16(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
        .headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap();
    t.stop().await;
}
