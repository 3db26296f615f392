//! The web UI's files: served without a token, with a strict
//! Content-Security-Policy; the token check the page uses before storing a
//! pasted token.

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_modules_are_served_without_a_token_under_a_strict_csp() {
    let mut t = TestServer::start().await;
    let addr = t.addr();
    let page = http_get(addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page
        .body
        .contains(r#"<script type="module" src="js/app.js">"#));
    assert!(!page.body.contains(TOKEN));
    let csp = page.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));

    let module = http_get(addr, "/js/rpc.js", &[]).await;
    assert_eq!(module.status, 200);
    assert_eq!(
        module.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(module.body.contains("tinyvex.token."));
    let etag = module.header("etag").unwrap().to_string();
    let again = http_get(addr, "/js/rpc.js", &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, "");

    assert_eq!(
        http_get(addr, "/app.css", &[]).await.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(http_get(addr, "/nope.js", &[]).await.status, 404);
    assert_eq!(http_get(addr, "/tests/e2e.test.mjs", &[]).await.status, 404);
    assert_eq!(http_get(addr, "/../Cargo.toml", &[]).await.status, 404);
    assert_eq!(http_get(addr, "/healthz", &[]).await.body, "ok");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_check_answers_204_for_the_token_in_the_header_only() {
    let mut t = TestServer::start().await;
    let addr = t.addr();
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        http_get(addr, "/auth/check", &[("Authorization", &bearer)])
            .await
            .status,
        204
    );
    assert_eq!(http_get(addr, "/auth/check", &[]).await.status, 401);
    assert_eq!(
        http_get(addr, "/auth/check", &[("Authorization", "Bearer nope")])
            .await
            .status,
        401
    );
    // A page of another origin cannot use it to test tokens.
    let foreign = http_get(
        addr,
        "/auth/check",
        &[
            ("Authorization", &bearer),
            ("Origin", "https://evil.example"),
        ],
    )
    .await;
    assert_eq!(foreign.status, 403);
    t.stop().await;
}
