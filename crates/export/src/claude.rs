//! Claude Code transcript lines (`docs/export.md`, "To Claude Code").
//!
//! Conversation lines form a chain through `uuid` / `parentUuid`. An
//! assistant API message is written as Claude Code writes it: one line per
//! content block, all sharing `message.id`. Every `tool_use` ends its
//! message, and its `tool_result` follows at once in a `user` line, as the
//! Messages API requires.

use std::path::PathBuf;

use serde_json::{json, Value};
use tinyvex_model::{format_ms, TimestampMs};

use crate::conv::{Call, Clock, Entry, Notes, Plan, Shape};
use crate::ids::{self, CallIds};
use crate::{claude_project_dir, Ctx, Marker, Target, CLAUDE_FORMAT_VERSION};

/// The first line: a record type Claude Code does not know (and skips)
/// that names the source thread.
pub(crate) fn header(ctx: &Ctx<'_>, marker: &Marker) -> String {
    json!({
        "type": "tinyvex-export",
        "sessionId": ctx.session_id,
        "timestamp": format_ms(ctx.created),
        "tinyvex_export": marker,
    })
    .to_string()
}

/// Renders the lines after the header.
pub(crate) fn render(
    ctx: &Ctx<'_>,
    entries: &[Entry<'_>],
    notes: &mut Notes,
) -> (PathBuf, String, Vec<String>) {
    let dir = PathBuf::from("projects").join(claude_project_dir(&ctx.cwd));
    let name = format!("{}.jsonl", ctx.session_id);
    let mut r = Renderer {
        ctx,
        ns: ids::uuid_bytes(&ctx.session_id),
        ids: CallIds::default(),
        out: Vec::new(),
        parent: None,
        pending: Vec::new(),
        clock: Clock(ctx.created),
        same_agent: ctx.thread.provider == "claude",
    };
    for entry in entries {
        match entry {
            Entry::User(t) => {
                r.flush("end_turn");
                let ts = r.clock.at(t.ts);
                let uuid = r.uuid(&t.item.id, "user");
                r.user_line(uuid, ts, json!(t.text), None);
            }
            Entry::Assistant(t) => {
                let ts = r.clock.at(t.ts);
                let block = json!({"type": "text", "text": t.text});
                r.pending.push(Block {
                    key: t.item.id.clone(),
                    ts,
                    block,
                });
            }
            Entry::Reasoning(_) => notes.add(
                "reasoning items",
                "Claude Code only replays thinking blocks signed by Anthropic; \
                 none can be made for this text (and Tinyvex does not keep signatures)",
            ),
            Entry::Plan(_) => notes.add(
                "plan items",
                "Claude Code has no record for a plan that no tool call made",
            ),
            Entry::Tool(c) => r.tool(c, notes),
        }
    }
    r.flush("end_turn");
    (dir, name, r.out)
}

/// An assistant content block waiting for its message to close.
struct Block {
    key: String,
    ts: TimestampMs,
    block: Value,
}

struct Renderer<'a> {
    ctx: &'a Ctx<'a>,
    /// Namespace of the line uuids: the session id.
    ns: [u8; 16],
    ids: CallIds,
    out: Vec<String>,
    /// `uuid` of the last conversation line.
    parent: Option<String>,
    /// Blocks of the open assistant message.
    pending: Vec<Block>,
    clock: Clock,
    /// The thread comes from Claude Code: tools are written as they were.
    same_agent: bool,
}

impl Renderer<'_> {
    fn uuid(&self, item_id: &str, part: &str) -> String {
        ids::uuid_v5(&self.ns, &format!("{item_id}#{part}"))
    }

    /// Fields every conversation line has.
    fn common(&self, kind: &str, uuid: &str, ts: TimestampMs) -> Value {
        json!({
            "parentUuid": self.parent,
            "isSidechain": false,
            "userType": "external",
            "cwd": self.ctx.cwd,
            "sessionId": self.ctx.session_id,
            "version": CLAUDE_FORMAT_VERSION,
            "gitBranch": self.ctx.thread.git_branch.as_deref().unwrap_or(""),
            "type": kind,
            "uuid": uuid,
            "timestamp": format_ms(ts),
        })
    }

    fn user_line(&mut self, uuid: String, ts: TimestampMs, content: Value, source: Option<&str>) {
        let mut line = self.common("user", &uuid, ts);
        line["message"] = json!({"role": "user", "content": content});
        if let Some(source) = source {
            line["sourceToolAssistantUUID"] = json!(source);
        }
        self.out.push(line.to_string());
        self.parent = Some(uuid);
    }

    /// Writes the open assistant message, one line per block.
    fn flush(&mut self, stop_reason: &str) {
        let blocks = std::mem::take(&mut self.pending);
        let Some(first) = blocks.first() else { return };
        let message_id = format!(
            "msg_tvx_{}",
            &ids::sha1_hex(format!("{}#{}", self.ctx.session_id, first.key).as_bytes())[..24]
        );
        for (i, b) in blocks.into_iter().enumerate() {
            let uuid = self.uuid(&b.key, &format!("a{i}"));
            let mut line = self.common("assistant", &uuid, b.ts);
            line["message"] = json!({
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": self.ctx.model.unwrap_or("unknown"),
                "content": [b.block],
                "stop_reason": stop_reason,
                "stop_sequence": null,
            });
            self.out.push(line.to_string());
            self.parent = Some(uuid);
        }
    }

    fn tool(&mut self, c: &Call<'_>, notes: &mut Notes) {
        let ts = self.clock.at(c.ts);
        let id = self
            .ids
            .get(Target::Claude, &c.item.id, c.item.call_id.as_deref());
        let (name, input) = match &c.shape {
            _ if self.same_agent => (c.name.to_string(), c.input_object()),
            Shape::Shell(cmd) => ("Bash".to_string(), json!({ "command": cmd })),
            Shape::Plan(plan) => ("TodoWrite".to_string(), todos(plan)),
            Shape::Other => (tool_name(c.name), c.input_object()),
        };
        if name != c.name && matches!(c.shape, Shape::Other) {
            notes.add(
                "tool names",
                "renamed: the Messages API accepts only letters, digits, `_` and `-`",
            );
        }
        self.pending.push(Block {
            key: c.item.id.clone(),
            ts,
            block: json!({"type": "tool_use", "id": id, "name": name, "input": input}),
        });
        self.flush("tool_use");
        let tool_use_line = self.parent.clone();
        let (content, is_error) = match c.output {
            Some(out) => (out, c.failed),
            None => {
                notes.add(
                    "tool outputs",
                    "the call never got one; its result is written as `aborted`, \
                     since the Messages API needs a result after every tool_use",
                );
                ("aborted", true)
            }
        };
        let result = json!([{
            "type": "tool_result",
            "tool_use_id": id,
            "content": content,
            "is_error": is_error,
        }]);
        let uuid = self.uuid(&c.item.id, "result");
        let out_ts = c.ended.unwrap_or(ts);
        self.clock.at(Some(out_ts));
        self.user_line(uuid, out_ts, result, tool_use_line.as_deref());
    }
}

/// A tool name the Messages API accepts (`^[a-zA-Z0-9_-]{1,64}$`).
fn tool_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() {
        s.push_str("tool");
    }
    s
}

/// `TodoWrite` input for a plan.
fn todos(plan: &Plan) -> Value {
    let todos: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"content": s.text, "status": s.status, "activeForm": s.text}))
        .collect();
    json!({ "todos": todos })
}
