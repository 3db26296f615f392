//! The web UI: static files embedded in the binary (`crates/server/web/`,
//! plain ES modules, no build step) and served with a strict
//! Content-Security-Policy. The page holds no data and needs no token; it
//! reads the token from the URL fragment or a sign-in form and presents it
//! on the WebSocket as a subprotocol entry (`docs/web-ui.md`).

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    /// Path under the server root, with its leading `/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! assets {
    ($($path:literal => $type:expr),* $(,)?) => {
        &[$(Asset {
            path: concat!("/", $path),
            content_type: $type,
            body: include_str!(concat!("../web/", $path)),
        }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the page loads. A unit test checks that each file under
/// `web/` (but `web/tests/`) is listed here.
static ASSETS: &[Asset] = assets! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "js/app.js" => JS,
    "js/auth.js" => JS,
    "js/dom.js" => JS,
    "js/highlight.js" => JS,
    "js/itemwindow.js" => JS,
    "js/markdown.js" => JS,
    "js/rpc.js" => JS,
    "js/threadlist.js" => JS,
    "js/vlist.js" => JS,
    "js/views/item.js" => JS,
    "js/views/search.js" => JS,
    "js/views/status.js" => JS,
    "js/views/thread.js" => JS,
    "js/views/threads.js" => JS,
};

/// The policy for every page and file: scripts and styles only from this
/// server (no inline script, no `eval`), no plugins, no framing, network
/// access only back to this server (`'self'` covers its `ws:` origin).
/// Together with the page building every piece of session text as DOM text
/// nodes, it is the defence against script in session content.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Serve an embedded file: `/` is `index.html`; anything else not listed is 404.
pub(crate) async fn serve(method: Method, uri: Uri, request_headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = match uri.path() {
        "/" | "/index.html" => "/index.html",
        other => other,
    };
    let Some((asset, etag)) = find(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    // Every value is 'static: no header is parsed or copied per request.
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, asset.content_type),
        // Always revalidate: a new binary must never run against old modules.
        (header::CACHE_CONTROL, "no-cache"),
        (header::ETAG, etag),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The asset at `path` and its entity tag (a hash of its bytes).
fn find(path: &str) -> Option<(&'static Asset, &'static str)> {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    let etags = ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{:016x}\"", fnv1a(a.body.as_bytes())))
            .collect()
    });
    let i = ASSETS.iter().position(|a| a.path == path)?;
    Some((&ASSETS[i], etags[i].as_str()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_web_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name().unwrap() != "tests" {
                        stack.push(path);
                    }
                } else {
                    let rel = path.strip_prefix(&root).unwrap();
                    on_disk.push(format!("/{}", rel.to_str().unwrap().replace('\\', "/")));
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "web/ and the ASSETS table differ");
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let (index, _) = find("/index.html").unwrap();
        assert_eq!(
            index.body.matches("<script").count(),
            index.body.matches(r#"<script type="module" src=""#).count(),
            "inline script in index.html"
        );
        assert!(!index.body.contains("style="), "inline style in index.html");
        assert!(!index.body.contains("<style"), "inline style in index.html");
        assert!(index
            .body
            .contains(r#"<script type="module" src="js/app.js">"#));
    }

    #[test]
    fn etags_differ_per_file() {
        let (_, a) = find("/js/app.js").unwrap();
        let (_, b) = find("/js/rpc.js").unwrap();
        assert_ne!(a, b);
        assert!(find("/nope.js").is_none());
        assert!(find("/tests/e2e.test.mjs").is_none());
    }
}
