//! Codex rollout lines (`docs/export.md`, "To Codex").
//!
//! The file uses the *legacy* history mode, which every Codex since 0.31
//! reads: each line is `{"timestamp", "type", "payload"}`; the model replays
//! the `response_item`s, the transcript UI and `codex resume`'s listing read
//! the `event_msg`s (`user_message`, `agent_message`, `agent_reasoning`).

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use serde_json::{json, Value};
use tinyvex_model::{format_ms, TimestampMs};

use crate::conv::{Call, Clock, Entry, Notes, Plan, Shape, Text};
use crate::ids::CallIds;
use crate::{Ctx, ExportOptions, Marker, Target, CODEX_FORMAT_VERSION, ORIGINATOR};

/// The `session_meta` line.
pub(crate) fn header(ctx: &Ctx<'_>, options: &ExportOptions, marker: &Marker) -> String {
    let mut payload = json!({
        "id": ctx.session_id,
        "timestamp": format_ms(ctx.created),
        "cwd": ctx.cwd,
        "originator": ORIGINATOR,
        "cli_version": CODEX_FORMAT_VERSION,
        "source": "cli",
        "model_provider": options.codex_model_provider.as_deref().unwrap_or("openai"),
        "tinyvex_export": marker,
    });
    if let Some(branch) = ctx.thread.git_branch.as_deref().filter(|b| !b.is_empty()) {
        payload["git"] = json!({ "branch": branch });
    }
    line(ctx.created, "session_meta", payload)
}

fn line(ts: TimestampMs, kind: &str, payload: Value) -> String {
    json!({ "timestamp": format_ms(ts), "type": kind, "payload": payload }).to_string()
}

/// `sessions/YYYY/MM/DD` and `rollout-YYYY-MM-DDThh-mm-ss-<id>.jsonl`, in
/// local time as Codex names its own files.
fn place(ctx: &Ctx<'_>, options: &ExportOptions) -> (PathBuf, String) {
    let utc = DateTime::<Utc>::from_timestamp_millis(ctx.created).unwrap_or_default();
    let offset = match options.utc_offset_minutes {
        Some(m) => FixedOffset::east_opt(m * 60).unwrap_or(Utc.fix()),
        None => chrono::Local
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix(),
    };
    let local = utc.with_timezone(&offset);
    let dir = PathBuf::from("sessions")
        .join(local.format("%Y").to_string())
        .join(local.format("%m").to_string())
        .join(local.format("%d").to_string());
    let name = format!(
        "rollout-{}-{}.jsonl",
        local.format("%Y-%m-%dT%H-%M-%S"),
        ctx.session_id
    );
    (dir, name)
}

/// Renders the lines after the header.
pub(crate) fn render(
    ctx: &Ctx<'_>,
    entries: &[Entry<'_>],
    options: &ExportOptions,
    notes: &mut Notes,
) -> (PathBuf, String, Vec<String>) {
    let (dir, name) = place(ctx, options);
    let mut r = Renderer {
        ctx,
        ids: CallIds::default(),
        out: Vec::new(),
        clock: Clock(ctx.created),
        turn_open: false,
        same_agent: ctx.thread.provider == "codex",
    };
    for entry in entries {
        r.entry(entry, notes);
    }
    (dir, name, r.out)
}

struct Renderer<'a> {
    ctx: &'a Ctx<'a>,
    ids: CallIds,
    out: Vec<String>,
    /// Time of the latest line (items without a time get it).
    clock: Clock,
    /// A `turn_context` was written.
    turn_open: bool,
    /// The thread comes from Codex: its tool calls are written as they were.
    same_agent: bool,
}

impl Renderer<'_> {
    fn push(&mut self, ts: TimestampMs, kind: &str, payload: Value) {
        self.out.push(line(ts, kind, payload));
    }

    fn turn_context(&mut self, ts: TimestampMs) {
        self.turn_open = true;
        let payload = json!({
            "cwd": self.ctx.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": { "type": "read-only" },
            "model": self.ctx.model.unwrap_or("unknown"),
            "summary": "auto",
        });
        self.push(ts, "turn_context", payload);
    }

    fn entry(&mut self, entry: &Entry<'_>, notes: &mut Notes) {
        match entry {
            Entry::User(t) => {
                let ts = self.clock.at(t.ts);
                self.turn_context(ts);
                self.push(ts, "response_item", message("user", "input_text", t.text));
                self.push(
                    ts,
                    "event_msg",
                    json!({"type": "user_message", "message": t.text, "images": [], "local_images": [], "text_elements": []}),
                );
            }
            Entry::Assistant(t) => {
                let ts = self.start(t.ts);
                self.push(
                    ts,
                    "response_item",
                    message("assistant", "output_text", t.text),
                );
                self.push(
                    ts,
                    "event_msg",
                    json!({"type": "agent_message", "message": t.text}),
                );
            }
            Entry::Reasoning(t) => {
                let ts = self.start(t.ts);
                self.push(
                    ts,
                    "response_item",
                    json!({
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": t.text}],
                        "content": null,
                        "encrypted_content": null,
                    }),
                );
                self.push(
                    ts,
                    "event_msg",
                    json!({"type": "agent_reasoning", "text": t.text}),
                );
            }
            Entry::Plan(t) => self.plan_item(t),
            Entry::Tool(c) => self.tool(c, notes),
        }
    }

    /// Time of a non-user entry; opens a turn if none is (a thread that
    /// starts with the assistant).
    fn start(&mut self, ts: Option<TimestampMs>) -> TimestampMs {
        let ts = self.clock.at(ts);
        if !self.turn_open {
            self.turn_context(ts);
        }
        ts
    }

    /// A plan no tool call carries: the `item_completed` `Plan` event Codex
    /// itself writes for plan-mode proposals.
    fn plan_item(&mut self, t: &Text<'_>) {
        let ts = self.start(t.ts);
        let id = crate::ids::uuid_v5(&crate::ids::uuid_bytes(&self.ctx.session_id), &t.item.id);
        let payload = json!({
            "type": "item_completed",
            "thread_id": self.ctx.session_id,
            "turn_id": "",
            "item": {"type": "Plan", "id": id, "text": t.text},
        });
        self.push(ts, "event_msg", payload);
    }

    fn tool(&mut self, c: &Call<'_>, notes: &mut Notes) {
        let ts = self.start(c.ts);
        let call_id = self
            .ids
            .get(Target::Codex, &c.item.id, c.item.call_id.as_deref());
        let out_ts = c.ended.unwrap_or(ts);
        // Codex's own calls are written back in their own shapes: a hosted
        // web search as `web_search_call` (it has no output item), freeform
        // tools as `custom_tool_call`, the rest as `function_call`.
        if self.same_agent
            && c.name == "web_search"
            && c.item.tool_kind.as_deref() == Some("web_search")
        {
            let action = c.args.clone();
            self.push(
                ts,
                "response_item",
                json!({"type": "web_search_call", "status": "completed", "action": action}),
            );
            return;
        }
        // Freeform tools: Codex's own custom tools, and `apply_patch` when
        // it was one (its input is the patch text, not a JSON object).
        let custom = self.same_agent
            && match c.item.tool_kind.as_deref() {
                Some("custom") => true,
                Some("patch") => c.input.is_some() && !c.args.is_object(),
                _ => false,
            };
        if custom {
            self.push(
                ts,
                "response_item",
                json!({"type": "custom_tool_call", "status": "completed", "call_id": call_id, "name": c.name, "input": c.input.unwrap_or("")}),
            );
            // Codex insists on an output for every custom call.
            let output = c.output.unwrap_or_else(|| {
                notes.add(
                    "tool outputs",
                    "the call never got one; Codex requires one for a freeform call, \
                     so it is written as `aborted`",
                );
                "aborted"
            });
            self.push(
                out_ts,
                "response_item",
                json!({"type": "custom_tool_call_output", "call_id": call_id, "output": output}),
            );
            return;
        }
        let (name, arguments) = match &c.shape {
            _ if self.same_agent && c.name != "local_shell" => {
                (c.name.to_string(), c.input.unwrap_or("{}").to_string())
            }
            Shape::Shell(cmd) => (
                "exec_command".to_string(),
                json!({ "cmd": cmd }).to_string(),
            ),
            Shape::Plan(plan) => ("update_plan".to_string(), update_plan_args(plan)),
            Shape::Other => (c.name.to_string(), c.input_object_text()),
        };
        self.push(
            ts,
            "response_item",
            json!({"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id}),
        );
        // A call without output stays without: Codex answers it "aborted"
        // itself when it builds the next request.
        if let Some(output) = c.output {
            self.push(
                out_ts,
                "response_item",
                json!({"type": "function_call_output", "call_id": call_id, "output": output}),
            );
        }
    }
}

fn message(role: &str, part: &str, text: &str) -> Value {
    json!({"type": "message", "role": role, "content": [{"type": part, "text": text}]})
}

/// `update_plan` arguments (a JSON string, as Codex writes them).
fn update_plan_args(plan: &Plan) -> String {
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"step": s.text, "status": s.status}))
        .collect();
    let mut args = json!({ "plan": steps });
    if let Some(e) = &plan.explanation {
        args["explanation"] = json!(e);
    }
    args.to_string()
}
