//! Authentication before the WebSocket upgrade: a token in the
//! `Authorization` header, a `Sec-WebSocket-Protocol` entry (browsers) or a
//! `token` query parameter; plus an `Origin` check for browsers.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tinyvex_protocol::TOKEN_SUBPROTOCOL_PREFIX;

use crate::state::AppState;

/// Proof that the request carried the right token from an allowed origin.
/// As an extractor placed before `WebSocketUpgrade`, it refuses the request
/// with 401/403 before any upgrade happens.
pub(crate) struct Authorized;

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuthError {
    Missing,
    Wrong,
    Origin(String),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AuthError::Missing => (
                StatusCode::UNAUTHORIZED,
                "missing token: send `Authorization: Bearer <token>` (see `tinyvex token`)"
                    .to_string(),
            ),
            AuthError::Wrong => (StatusCode::UNAUTHORIZED, "wrong token".to_string()),
            AuthError::Origin(origin) => (
                StatusCode::FORBIDDEN,
                format!(
                    "origin {origin} is not allowed; start the server with --allow-origin {origin}"
                ),
            ),
        };
        let mut response = (status, message).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        response
    }
}

impl FromRequestParts<Arc<AppState>> for Authorized {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        check_origin(&parts.headers, &state.config.allow_origins)?;
        let presented = presented_token(&parts.headers, parts.uri.query());
        match presented {
            None => Err(AuthError::Missing),
            Some(t) if state.config.token.matches(&t) => Ok(Authorized),
            Some(_) => {
                tracing::warn!("refused a connection with a wrong token");
                Err(AuthError::Wrong)
            }
        }
    }
}

/// The token a request presents, from the first place that has one.
pub(crate) fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        return Some(token.trim().to_string());
    }
    for value in headers.get_all(header::SEC_WEBSOCKET_PROTOCOL) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            if let Some(token) = entry.trim().strip_prefix(TOKEN_SUBPROTOCOL_PREFIX) {
                return Some(token.to_string());
            }
        }
    }
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.to_string())
}

/// Browsers send `Origin`; other clients do not. A page may connect when it
/// was served by this server (same host) or its origin was allowed with
/// `--allow-origin` (`*` allows any).
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), AuthError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, rest)| Some(rest.trim_end_matches('/')) == host);
    if same_host {
        Ok(())
    } else {
        Err(AuthError::Origin(origin.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn token_from_header_subprotocol_or_query() {
        let h = headers(&[(header::AUTHORIZATION, "Bearer s3cret")]);
        assert_eq!(presented_token(&h, None).as_deref(), Some("s3cret"));
        let h = headers(&[(
            header::SEC_WEBSOCKET_PROTOCOL,
            "tinyvex.v1, tinyvex.token.abc",
        )]);
        assert_eq!(presented_token(&h, None).as_deref(), Some("abc"));
        let h = HeaderMap::new();
        assert_eq!(
            presented_token(&h, Some("a=1&token=xyz")).as_deref(),
            Some("xyz")
        );
        assert_eq!(presented_token(&h, Some("a=1")), None);
        assert_eq!(presented_token(&h, None), None);
    }

    #[test]
    fn origins_same_host_or_allowed() {
        let none = HeaderMap::new();
        assert!(check_origin(&none, &[]).is_ok());
        let same = headers(&[
            (header::ORIGIN, "http://127.0.0.1:8787"),
            (header::HOST, "127.0.0.1:8787"),
        ]);
        assert!(check_origin(&same, &[]).is_ok());
        let other = headers(&[
            (header::ORIGIN, "https://evil.example"),
            (header::HOST, "127.0.0.1:8787"),
        ]);
        assert_eq!(
            check_origin(&other, &[]),
            Err(AuthError::Origin("https://evil.example".into()))
        );
        assert!(check_origin(&other, &["https://evil.example".into()]).is_ok());
        assert!(check_origin(&other, &["*".into()]).is_ok());
    }
}
