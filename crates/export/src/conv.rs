//! What both targets need from a stored thread: its items read as a
//! conversation (prompts, answers, reasoning, tool calls with their shape),
//! plus the notes on what does not go anywhere.

use serde_json::{json, Value};
use tinyvex_model::{parse_rfc3339_ms, TimestampMs};
use tinyvex_store::ItemRow;

use crate::NotCarried;

/// One conversation entry, in the thread's order.
#[derive(Debug)]
pub(crate) enum Entry<'a> {
    /// A prompt the user typed.
    User(Text<'a>),
    /// Text the assistant showed.
    Assistant(Text<'a>),
    /// Readable reasoning.
    Reasoning(Text<'a>),
    /// A tool call with its output.
    Tool(Call<'a>),
    /// A plan that no tool call carries (Codex plan-mode proposals).
    Plan(Text<'a>),
}

/// A text item.
#[derive(Debug)]
pub(crate) struct Text<'a> {
    pub item: &'a ItemRow,
    pub text: &'a str,
    pub ts: Option<TimestampMs>,
}

/// A tool call item.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub item: &'a ItemRow,
    /// Tool name as the source agent called it.
    pub name: &'a str,
    /// What the call is, as far as the targets care.
    pub shape: Shape,
    /// Input as stored (usually JSON text).
    pub input: Option<&'a str>,
    /// The input parsed once for every renderer; `Null` when missing or
    /// not JSON.
    pub args: Value,
    /// Output as stored; `None` while (or when forever) in progress.
    pub output: Option<&'a str>,
    /// Failed or declined.
    pub failed: bool,
    pub ts: Option<TimestampMs>,
    pub ended: Option<TimestampMs>,
}

impl Call<'_> {
    /// The input as a JSON object for a target's tool call: the input when
    /// it is one, else its text wrapped as `{"input": ...}`, else `{}`.
    pub(crate) fn input_object(&self) -> Value {
        match (&self.args, self.input) {
            (Value::Object(_), _) => self.args.clone(),
            (_, Some(text)) => json!({ "input": text }),
            (_, None) => json!({}),
        }
    }

    /// [`Call::input_object`] as JSON text, an object input's own text as
    /// stored (so an export keeps its bytes).
    pub(crate) fn input_object_text(&self) -> String {
        match (&self.args, self.input) {
            (Value::Object(_), Some(text)) => text.to_string(),
            _ => self.input_object().to_string(),
        }
    }
}

/// The kinds of tool call the targets map to their own tools.
#[derive(Debug, PartialEq)]
pub(crate) enum Shape {
    /// Runs this shell command line.
    Shell(String),
    /// Sets this plan / todo list.
    Plan(Plan),
    /// Anything else: carried as a generic call with its input.
    Other,
}

/// A plan: optional explanation and steps.
#[derive(Debug, PartialEq)]
pub(crate) struct Plan {
    pub explanation: Option<String>,
    pub steps: Vec<Step>,
}

/// One plan step.
#[derive(Debug, PartialEq)]
pub(crate) struct Step {
    pub text: String,
    /// `pending`, `in_progress` or `completed` (the statuses both targets know).
    pub status: &'static str,
}

/// Aggregated "not carried over" notes, in the order first met.
#[derive(Debug, Default)]
pub(crate) struct Notes(pub Vec<NotCarried>);

impl Notes {
    /// Counts one more `what` left out for `reason`.
    pub(crate) fn add(&mut self, what: &str, reason: &str) {
        match self
            .0
            .iter_mut()
            .find(|n| n.what == what && n.reason == reason)
        {
            Some(n) => n.count += 1,
            None => self.0.push(NotCarried {
                what: what.to_string(),
                count: 1,
                reason: reason.to_string(),
            }),
        }
    }
}

/// The time of the latest line written: entries without a time of their
/// own get it.
#[derive(Debug)]
pub(crate) struct Clock(pub TimestampMs);

impl Clock {
    /// Moves to `ts` when there is one; the time to write either way.
    pub(crate) fn at(&mut self, ts: Option<TimestampMs>) -> TimestampMs {
        if let Some(ts) = ts {
            self.0 = ts;
        }
        self.0
    }
}

pub(crate) fn ts_of(s: Option<&str>) -> Option<TimestampMs> {
    s.and_then(parse_rfc3339_ms)
}

/// The item key (after `<thread id>/`).
fn key(item: &ItemRow) -> &str {
    item.id
        .strip_prefix(item.thread_id.as_str())
        .and_then(|k| k.strip_prefix('/'))
        .unwrap_or(&item.id)
}

/// Reads the items as a conversation. Usage and error items, and plan items
/// that only repeat a plan tool call, make no entry; the first two are noted.
pub(crate) fn read<'a>(items: &'a [ItemRow], notes: &mut Notes) -> Vec<Entry<'a>> {
    // Plan items made from a tool call are keyed `plan-<x>` beside the call's
    // `call-<x>` (Codex, Claude, Gemini) or `p-<x>` (OpenCode).
    let call_keys: std::collections::HashSet<&str> = items
        .iter()
        .filter(|i| i.kind == "tool_call")
        .map(key)
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let ts = ts_of(item.ts.as_deref());
        let text = item.text.as_deref().filter(|t| !t.trim().is_empty());
        match (item.kind.as_str(), text) {
            ("user", Some(text)) => out.push(Entry::User(Text { item, text, ts })),
            ("assistant", Some(text)) => out.push(Entry::Assistant(Text { item, text, ts })),
            ("reasoning", Some(text)) => out.push(Entry::Reasoning(Text { item, text, ts })),
            ("plan", Some(text)) => {
                let from_call = key(item).strip_prefix("plan-").is_some_and(|x| {
                    call_keys.contains(format!("call-{x}").as_str())
                        || call_keys.contains(format!("p-{x}").as_str())
                });
                if !from_call {
                    out.push(Entry::Plan(Text { item, text, ts }));
                }
            }
            ("tool_call", _) => out.push(Entry::Tool(call(item, ts))),
            ("usage", _) => notes.add(
                "usage items",
                "token counts describe the source agent's requests; the target recounts its own",
            ),
            ("error", _) => notes.add(
                "error items",
                "errors and aborted turns have no record the target would replay",
            ),
            _ => {}
        }
    }
    out
}

fn call(item: &ItemRow, ts: Option<TimestampMs>) -> Call<'_> {
    let input = item.input.as_deref();
    let args: Value = input
        .and_then(|i| serde_json::from_str(i).ok())
        .unwrap_or(Value::Null);
    let shape = match (item.tool_kind.as_deref(), item.command.as_deref()) {
        (Some("shell"), Some(cmd)) if !cmd.is_empty() => Shape::Shell(cmd.to_string()),
        (Some("plan"), _) => plan_from_args(&args).map_or(Shape::Other, Shape::Plan),
        _ => Shape::Other,
    };
    Call {
        item,
        name: item.name.as_deref().unwrap_or("tool"),
        shape,
        input,
        args,
        output: item.output.as_deref(),
        failed: matches!(item.status.as_deref(), Some("failed" | "declined")),
        ts: ts_of(item.started_at.as_deref()).or(ts),
        ended: ts_of(item.ended_at.as_deref()),
    }
}

/// Steps of Codex `update_plan` (`plan[].step`), Claude `TodoWrite` and
/// OpenCode `todowrite` (`todos[].content`), Gemini `write_todos`
/// (`todos[].description`).
fn plan_from_args(args: &Value) -> Option<Plan> {
    let list = args.get("plan").or_else(|| args.get("todos"))?.as_array()?;
    let steps = list
        .iter()
        .filter_map(|s| {
            let text = ["step", "content", "description"]
                .iter()
                .find_map(|k| s.get(*k).and_then(Value::as_str))?;
            let (status, text) = match s.get("status").and_then(Value::as_str) {
                Some("completed") => ("completed", text.to_string()),
                Some("in_progress") => ("in_progress", text.to_string()),
                Some("cancelled") => ("completed", format!("{text} (cancelled)")),
                _ => ("pending", text.to_string()),
            };
            Some(Step { text, status })
        })
        .collect();
    Some(Plan {
        explanation: args
            .get("explanation")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plans_from_every_agent() {
        let codex = json!({"explanation": "why", "plan": [{"step": "a", "status": "in_progress"}]});
        let claude = json!({"todos": [{"content": "a", "status": "completed", "activeForm": "A"}]});
        let gemini = json!({"todos": [{"description": "a", "status": "cancelled"}]});
        assert_eq!(
            plan_from_args(&codex).unwrap(),
            Plan {
                explanation: Some("why".into()),
                steps: vec![Step {
                    text: "a".into(),
                    status: "in_progress"
                }]
            }
        );
        assert_eq!(
            plan_from_args(&claude).unwrap().steps[0].status,
            "completed"
        );
        assert_eq!(
            plan_from_args(&gemini).unwrap().steps[0].text,
            "a (cancelled)"
        );
        assert_eq!(plan_from_args(&json!({"x": 1})), None);
    }
}
