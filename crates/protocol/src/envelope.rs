//! JSON-RPC 2.0 envelopes.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A request id: a number or a string (JSON-RPC allows both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// A numeric id.
    Num(i64),
    /// A string id.
    Str(String),
}

/// A request from the client. Without an `id` it is a notification and gets
/// no response (the server accepts none today, so it is ignored).
#[derive(Debug, Deserialize)]
pub struct Request {
    /// Must be `"2.0"`.
    pub jsonrpc: String,
    /// Echoed in the response.
    #[serde(default)]
    pub id: Option<Id>,
    /// Method name, see [`crate::method`].
    pub method: String,
    /// Method parameters: an object (or absent).
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
}

/// A response to one request: exactly one of `result` and `error`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// The request's id; `null` when the request could not be read.
    pub id: Option<Id>,
    /// The result on success.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub result: Option<serde_json::Value>,
    /// The error on failure.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<RpcError>,
}

impl Response {
    /// A success.
    pub fn ok(id: Option<Id>, result: serde_json::Value) -> Response {
        Response {
            jsonrpc: "2.0".into(),
            id,
            result: Some(result),
            error: None,
        }
    }

    /// A failure.
    pub fn err(id: Option<Id>, error: RpcError) -> Response {
        Response {
            jsonrpc: "2.0".into(),
            id,
            result: None,
            error: Some(error),
        }
    }
}

/// A server-to-client message without an id.
#[derive(Debug, Serialize, Deserialize)]
pub struct Notification<T> {
    /// Always `"2.0"`.
    pub jsonrpc: String,
    /// [`crate::method::CHANGES`] or [`crate::method::JOB`].
    pub method: String,
    /// The payload.
    pub params: T,
}

impl<T> Notification<T> {
    /// A notification of `method`.
    pub fn new(method: &str, params: T) -> Notification<T> {
        Notification {
            jsonrpc: "2.0".into(),
            method: method.into(),
            params,
        }
    }
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// See [`codes`].
    pub code: i32,
    /// What went wrong, and what to do when that is known.
    pub message: String,
    /// Extra detail (for example the candidates of an ambiguous prefix).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<serde_json::Value>,
}

impl RpcError {
    /// An error with a code and a message.
    pub fn new(code: i32, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
}

/// Error codes: the JSON-RPC ones, then Tinyvex's (-32001 and below).
pub mod codes {
    /// The message is not JSON.
    pub const PARSE_ERROR: i32 = -32700;
    /// JSON, but not a valid request object.
    pub const INVALID_REQUEST: i32 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// The params do not fit the method.
    pub const INVALID_PARAMS: i32 = -32602;
    /// A server bug or an unexpected store error.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// The thread, item or subscription does not exist.
    pub const NOT_FOUND: i32 = -32001;
    /// A thread prefix matches several threads (`data.candidates`).
    pub const AMBIGUOUS: i32 = -32002;
    /// The store cannot serve the request now (writer stopped, disk full).
    pub const UNAVAILABLE: i32 = -32003;
    /// The request is larger than the server accepts.
    pub const REQUEST_TOO_LARGE: i32 = -32004;
    /// The connection holds as many subscriptions as allowed.
    pub const TOO_MANY_SUBSCRIPTIONS: i32 = -32005;
}
