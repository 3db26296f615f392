//! Serde shapes of the Codex records we read. Only the fields we use are
//! named; everything else is skipped by serde, so new fields never break us.
//! Strings borrow from the line where they can (`Cow`), which keeps the hot
//! path free of copies for records we only glance at.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One line: an envelope (`type` + `payload`) or a legacy record.
#[derive(Deserialize)]
pub(crate) struct Line<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub payload: Option<&'a RawValue>,
    /// Legacy meta: `id` without `type`.
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    /// Legacy `{"record_type":"state"}` lines.
    #[serde(borrow)]
    pub record_type: Option<Cow<'a, str>>,
}

/// Just the `type` tag of a payload.
#[derive(Deserialize)]
pub(crate) struct Tag<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
}

impl<'a> Tag<'a> {
    /// The `type` of a payload object. Codex writes it as the first key of
    /// compact JSON, and then it is read from the first bytes: parsing
    /// `Tag` would scan the whole payload (a tool output can be megabytes)
    /// only to skip every other key, and the payload is parsed again for
    /// its content anyway. Any other shape goes through serde.
    pub fn of(payload: &'a str) -> Option<Cow<'a, str>> {
        if let Some(rest) = payload.strip_prefix(r#"{"type":""#) {
            if let Some(end) = rest.find(['"', '\\']) {
                let after = &rest.as_bytes()[end..];
                if after.starts_with(b"\",") || after.starts_with(b"\"}") {
                    return Some(Cow::Borrowed(&rest[..end]));
                }
            }
        }
        serde_json::from_str::<Tag<'a>>(payload)
            .ok()
            .and_then(|t| t.kind)
    }
}

#[derive(Deserialize)]
pub(crate) struct SessionMeta<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cli_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub forked_from_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub parent_thread_id: Option<Cow<'a, str>>,
    pub source: Option<Value>,
    pub git: Option<Git>,
    /// Written by `tinyvex export`: the thread the rollout was exported from.
    pub tinyvex_export: Option<ExportMarker>,
}

/// `session_meta.tinyvex_export` (see `tinyvex-export`'s `Marker`).
#[derive(Deserialize)]
pub(crate) struct ExportMarker {
    pub source_session: Option<String>,
    /// Lines after the first, as the exporter wrote them.
    pub lines: Option<u64>,
    /// Written by the two-way mirror (not a one-off export).
    #[serde(default)]
    pub mirror: bool,
}

#[derive(Deserialize)]
pub(crate) struct Git {
    pub branch: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TurnContext<'a> {
    #[serde(borrow)]
    pub cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub model: Option<Cow<'a, str>>,
}

/// A content part of a message (`input_text`, `output_text`, `text`, images...).
#[derive(Deserialize)]
pub(crate) struct ContentPart<'a> {
    #[serde(borrow)]
    pub text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow)]
    pub role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub content: Vec<ContentPart<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct Reasoning<'a> {
    #[serde(borrow, default)]
    pub summary: Vec<ContentPart<'a>>,
    #[serde(borrow, default)]
    pub content: Option<Vec<ContentPart<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionCall<'a> {
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub arguments: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub call_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct CustomToolCall<'a> {
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub input: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub call_id: Option<Cow<'a, str>>,
}

/// `function_call_output` / `custom_tool_call_output`: `output` is a string
/// or an array of content parts (and ≤0.4x a JSON string with metadata).
#[derive(Deserialize)]
pub(crate) struct CallOutput<'a> {
    #[serde(borrow)]
    pub call_id: Option<Cow<'a, str>>,
    pub output: Option<Value>,
}

#[derive(Deserialize)]
pub(crate) struct LocalShellCall<'a> {
    #[serde(borrow)]
    pub call_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
    pub action: Option<Value>,
}

#[derive(Deserialize)]
pub(crate) struct WebSearchCall<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
    pub action: Option<Value>,
}

#[derive(Deserialize)]
pub(crate) struct UserMessageEvent<'a> {
    #[serde(borrow)]
    pub message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct ErrorEvent<'a> {
    #[serde(borrow)]
    pub message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct TurnAborted<'a> {
    #[serde(borrow)]
    pub reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct TokenCount {
    pub info: Option<TokenInfo>,
}

#[derive(Deserialize)]
pub(crate) struct TokenInfo {
    pub total_token_usage: Option<Usage>,
    pub model_context_window: Option<i64>,
}

/// Codex token counts. Missing fields are zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub input_tokens: i64,
    #[serde(default)]
    pub cached_input_tokens: i64,
    #[serde(default)]
    pub output_tokens: i64,
    #[serde(default)]
    pub reasoning_output_tokens: i64,
    #[serde(default)]
    pub total_tokens: i64,
}

impl Usage {
    /// `self - earlier`, field by field.
    pub fn minus(&self, earlier: &Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens - earlier.input_tokens,
            cached_input_tokens: self.cached_input_tokens - earlier.cached_input_tokens,
            output_tokens: self.output_tokens - earlier.output_tokens,
            reasoning_output_tokens: self.reasoning_output_tokens - earlier.reasoning_output_tokens,
            total_tokens: self.total_tokens - earlier.total_tokens,
        }
    }
}

/// `event_msg` `item_completed` (paginated history mode).
#[derive(Deserialize)]
pub(crate) struct ItemCompleted {
    pub item: Option<Value>,
}

/// `event_msg` `exec_command_end` (extended persistence mode).
#[derive(Deserialize)]
pub(crate) struct ExecCommandEnd<'a> {
    #[serde(borrow)]
    pub call_id: Option<Cow<'a, str>>,
    pub exit_code: Option<i64>,
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
}

/// Joined text of content parts that carry text.
pub(crate) fn join_text(parts: &[ContentPart<'_>], sep: &str) -> String {
    let mut out = String::new();
    for p in parts {
        if let Some(t) = &p.text {
            if !out.is_empty() {
                out.push_str(sep);
            }
            out.push_str(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde makes of the tag, which the fast path must agree with.
    fn slow(payload: &str) -> Option<String> {
        serde_json::from_str::<Tag<'_>>(payload)
            .ok()
            .and_then(|t| t.kind)
            .map(Cow::into_owned)
    }

    #[test]
    fn payload_tag_is_read_from_the_first_bytes_or_by_serde() {
        for payload in [
            r#"{"type":"function_call","name":"shell","arguments":"{}"}"#,
            r#"{"type":"message"}"#,
            r#"{"type":"","x":1}"#,
            // Not the compact first-key shape: serde decides.
            r#"{ "type": "message", "role": "user" }"#,
            r#"{"role":"user","type":"message"}"#,
            r#"{"type":"a\"b","x":1}"#,
            r#"{"type":"caf\u00e9"}"#,
            r#"{"type":5}"#,
            r#"{"role":"user"}"#,
            r#"{"type":"message"    }"#,
            r#"{"type":"message"]"#,
        ] {
            assert_eq!(
                Tag::of(payload).map(Cow::into_owned),
                slow(payload),
                "{payload}"
            );
        }
        assert_eq!(
            Tag::of(r#"{"type":"reasoning","x":1}"#).as_deref(),
            Some("reasoning")
        );
        assert!(matches!(
            Tag::of(r#"{"type":"reasoning","x":1}"#),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(Tag::of(r#"{"type":"caf\u00e9"}"#).as_deref(), Some("café"));
    }
}
