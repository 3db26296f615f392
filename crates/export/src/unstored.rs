//! Notes on what a source session held that Tinyvex keeps only in its raw
//! event log, not as items (images, attached files), so an export cannot
//! carry it. Read from the raw records of the thread's source files.

use serde_json::Value;
use tinyvex_model::RawRecord;

use crate::conv::Notes;
use crate::NotCarried;

const NOT_STORED: &str = "Tinyvex keeps the text of a session, not images or attached files";

fn count_blocks(content: Option<&Value>, pred: &dyn Fn(&Value) -> bool) -> usize {
    let Some(Value::Array(blocks)) = content else {
        return 0;
    };
    blocks
        .iter()
        .map(|b| {
            let nested = count_blocks(b.get("content"), pred);
            nested + usize::from(pred(b))
        })
        .sum()
}

fn array_len(v: Option<&Value>) -> usize {
    v.and_then(Value::as_array).map_or(0, Vec::len)
}

/// What `records` (raw records of the thread's source files, any provider)
/// held that no export carries. `session_id` picks the thread's records out
/// of files shared by several sessions (OpenCode's database). Best effort:
/// the raw log has a size cap, and pruned records are not counted.
pub fn unstored_notes(provider: &str, session_id: &str, records: &[RawRecord]) -> Vec<NotCarried> {
    let mut notes = Notes::default();
    let mut add = |what: &str, n: usize| {
        for _ in 0..n {
            notes.add(what, NOT_STORED);
        }
    };
    for r in records {
        let interesting = match provider {
            "codex" => matches!(
                r.kind.as_str(),
                "event_msg:user_message" | "response_item:image_generation_call"
            ),
            "claude" => r.kind == "user",
            "opencode" => r.kind == "part:file",
            "gemini" => r.kind == "message:user",
            _ => false,
        };
        if !interesting {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&r.text) else {
            continue;
        };
        match (provider, r.kind.as_str()) {
            ("codex", "event_msg:user_message") => {
                let p = v.get("payload");
                add(
                    "images",
                    array_len(p.and_then(|p| p.get("images")))
                        + array_len(p.and_then(|p| p.get("local_images"))),
                );
            }
            ("codex", _) => add("generated images", 1),
            ("claude", _) => add(
                "images",
                count_blocks(v.get("message").and_then(|m| m.get("content")), &|b| {
                    b.get("type").and_then(Value::as_str) == Some("image")
                }),
            ),
            ("opencode", _) => {
                // A part file has `sessionID`; a database row `session_id`
                // and its `data`.
                let session = v
                    .get("sessionID")
                    .or_else(|| v.get("session_id"))
                    .and_then(Value::as_str);
                if session == Some(session_id) {
                    add("file attachments", 1);
                }
            }
            _ => add(
                "images",
                count_blocks(v.get("content"), &|b| {
                    b.get("inlineData").is_some() || b.get("fileData").is_some()
                }),
            ),
        }
    }
    notes.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: &str, text: serde_json::Value) -> RawRecord {
        RawRecord {
            offset: 0,
            kind: kind.into(),
            text: text.to_string(),
        }
    }

    #[test]
    fn counts_what_only_the_raw_log_holds() {
        let codex = [rec(
            "event_msg:user_message",
            serde_json::json!({"payload": {"message": "see", "images": ["data:x"], "local_images": ["/a.png"]}}),
        )];
        let n = unstored_notes("codex", "s", &codex);
        assert_eq!((n[0].what.as_str(), n[0].count), ("images", 2));
        let claude = [rec(
            "user",
            serde_json::json!({"message": {"content": [{"type": "image"}, {"type": "tool_result", "content": [{"type": "image"}]}]}}),
        )];
        assert_eq!(unstored_notes("claude", "s", &claude)[0].count, 2);
        let opencode = [
            rec(
                "part:file",
                serde_json::json!({"sessionID": "ses_1", "mime": "image/png"}),
            ),
            rec("part:file", serde_json::json!({"session_id": "ses_2"})),
        ];
        let n = unstored_notes("opencode", "ses_1", &opencode);
        assert_eq!((n[0].what.as_str(), n[0].count), ("file attachments", 1));
        let gemini = [rec(
            "message:user",
            serde_json::json!({"content": [{"text": "x"}, {"inlineData": {}}]}),
        )];
        assert_eq!(unstored_notes("gemini", "s", &gemini)[0].what, "images");
        assert!(unstored_notes(
            "claude",
            "s",
            &[rec(
                "user",
                serde_json::json!({"message": {"content": "hi"}})
            )]
        )
        .is_empty());
    }
}
