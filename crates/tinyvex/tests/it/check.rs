//! Compares what the binary shows for a thread with [`expected::Expected`].

use serde_json::Value;

use crate::expected::{Expected, Tool, Usage};
use crate::rules::Figures;
use crate::util::{canonical_json, rfc3339_ms, str_field, Mismatches};

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_utc_millis(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

/// A field of a shown item: flat on the item, or inside a nested `tool` object.
fn field<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    match item.get(name) {
        Some(v) if !v.is_null() => Some(v),
        _ => item
            .get("tool")
            .and_then(|t| t.get(name))
            .filter(|v| !v.is_null()),
    }
}

fn fstr(item: &Value, name: &str) -> Option<String> {
    field(item, name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn kind(item: &Value) -> &str {
    str_field(item, "kind").unwrap_or("?")
}

/// The item key: the part of `id` after `<thread id>/`.
fn key(item: &Value) -> String {
    let id = str_field(item, "id").unwrap_or("");
    id.split_once('/').map_or(id, |(_, k)| k).to_string()
}

fn got_tool(item: &Value, json_input: bool) -> Tool {
    let input = fstr(item, "input").filter(|i| !(json_input && i == "null"));
    let input = match (json_input, input) {
        (true, Some(text)) => Some(
            serde_json::from_str::<Value>(&text)
                .map(|v| canonical_json(&v))
                .unwrap_or(text),
        ),
        (_, other) => other,
    };
    Tool {
        call_id: fstr(item, "call_id"),
        tool_kind: fstr(item, "tool_kind"),
        name: fstr(item, "name"),
        command: fstr(item, "command"),
        input,
        output: fstr(item, "output"),
        exit_code: field(item, "exit_code").and_then(Value::as_i64),
        status: fstr(item, "status"),
    }
}

fn got_figures(v: Option<&Value>) -> Figures {
    let f = |k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_i64)
            .unwrap_or(-1)
    };
    [
        f("input_tokens"),
        f("cached_input_tokens"),
        f("output_tokens"),
        f("reasoning_output_tokens"),
        f("total_tokens"),
    ]
}

/// Checks the thread row and every item of `shown` (`show --json`) against `exp`.
/// `listed` is the thread as `threads --json` printed it.
pub fn check_thread(m: &mut Mismatches, exp: &Expected, listed: &Value, shown: &Value) {
    let thread = &shown["thread"];
    let items: Vec<Value> = shown["items"].as_array().cloned().unwrap_or_default();

    // Thread metadata.
    m.value(
        "thread.provider",
        Some("codex"),
        str_field(listed, "provider"),
    );
    m.value(
        "thread.session_id",
        exp.session_id.as_deref(),
        str_field(listed, "session_id"),
    );
    m.value(
        "thread.id (<provider>-<session id>)",
        exp.thread_id().as_deref(),
        str_field(listed, "id"),
    );
    m.value(
        "thread.title",
        exp.title.as_deref(),
        str_field(listed, "title"),
    );
    m.value("thread.cwd", exp.cwd.as_deref(), str_field(listed, "cwd"));
    m.value(
        "thread.created_at (as epoch ms)",
        exp.created_at,
        str_field(listed, "created_at").and_then(rfc3339_ms),
    );
    m.value(
        "thread.item_count == number of items shown",
        Some(items.len() as u64),
        listed.get("item_count").and_then(Value::as_u64),
    );
    // Documented thread fields that the output may or may not carry yet.
    for (name, want) in [
        ("model", &exp.model),
        ("git_branch", &exp.git_branch),
        ("agent_version", &exp.agent_version),
        ("parent_session_id", &exp.parent_session_id),
    ] {
        if listed.get(name).is_some() {
            m.value(
                &format!("thread.{name}"),
                want.as_deref(),
                str_field(listed, name),
            );
        }
    }
    let same_row = |k: &str| listed.get(k) == thread.get(k);
    for k in [
        "id",
        "provider",
        "session_id",
        "title",
        "cwd",
        "item_count",
        "created_at",
        "updated_at",
    ] {
        if !same_row(k) {
            m.fail(format!(
                "`threads` and `show` disagree on `{k}`: {:?} vs {:?}\n",
                listed.get(k),
                thread.get(k)
            ));
        }
    }

    // The four streams the acceptance criterion names, then errors.
    let got_texts = |k: &str| {
        items
            .iter()
            .filter(|i| kind(i) == k)
            .map(|i| fstr(i, "text").unwrap_or_default())
            .collect::<Vec<_>>()
    };
    m.list("user prompts", &exp.texts("user"), &got_texts("user"));
    m.list(
        "assistant texts",
        &exp.texts("assistant"),
        &got_texts("assistant"),
    );
    m.list(
        "reasoning texts",
        &exp.texts("reasoning"),
        &got_texts("reasoning"),
    );
    let exp_tools = exp.tools();
    let json_inputs: Vec<bool> = exp
        .items
        .iter()
        .filter(|i| i.tool.is_some())
        .map(|i| i.json_input)
        .collect();
    let got_tools: Vec<Tool> = items
        .iter()
        .filter(|i| kind(i) == "tool_call")
        .enumerate()
        .map(|(n, i)| {
            let json_input = json_inputs.get(n).copied().unwrap_or(false)
                || matches!(
                    fstr(i, "name").as_deref(),
                    Some("web_search" | "local_shell")
                );
            got_tool(i, json_input)
        })
        .collect();
    m.list(
        "tool calls (call_id, name, command, input, output, exit_code, status)",
        &exp_tools,
        &got_tools,
    );
    m.list("errors", &exp.texts("error"), &got_texts("error"));

    // Plans: key, and text/data where the page defines them (update_plan
    // data; Plan item text). Unspecified parts are masked on both sides.
    let exp_plans: Vec<&crate::expected::Item> =
        exp.items.iter().filter(|i| i.kind == "plan").collect();
    let got_plans: Vec<&Value> = items.iter().filter(|i| kind(i) == "plan").collect();
    let plan_view = |n: usize, g: &Value| {
        let e = exp_plans.get(n);
        let text = e.and_then(|e| e.text.as_ref()).and(fstr(g, "text"));
        let data = e
            .and_then(|e| e.data.as_ref())
            .and(g.get("data").filter(|d| !d.is_null()).map(canonical_json));
        (key(g), text, data)
    };
    let exp_plan_views: Vec<_> = exp_plans
        .iter()
        .map(|e| (e.key.clone(), e.text.clone(), e.data.clone()))
        .collect();
    let got_plan_views: Vec<_> = got_plans
        .iter()
        .enumerate()
        .map(|(n, g)| plan_view(n, g))
        .collect();
    m.list("plans (key, text, data)", &exp_plan_views, &got_plan_views);

    // Times: RFC 3339, UTC, milliseconds, or null (docs/cli.md).
    let mut bad_times = Vec::new();
    let stamps = [listed, thread]
        .into_iter()
        .flat_map(|t| ["created_at", "updated_at"].map(|k| t.get(k)));
    let item_stamps = items
        .iter()
        .flat_map(|i| ["ts", "started_at", "ended_at"].map(|k| i.get(k)));
    for v in stamps.chain(item_stamps).flatten() {
        if !(v.is_null() || v.as_str().is_some_and(is_utc_millis)) {
            bad_times.push(v.clone());
        }
    }
    if !bad_times.is_empty() {
        m.fail(format!(
            "times not in `YYYY-MM-DDTHH:MM:SS.mmmZ` form: {bad_times:?}\n"
        ));
    }

    // Order, keys and seq of everything but usage (whose position the page leaves open).
    let timeline_exp: Vec<(i64, String, &str)> = exp
        .items
        .iter()
        .map(|i| (i.seq, i.key.clone(), i.kind))
        .collect();
    let timeline_got: Vec<(i64, String, &str)> = items
        .iter()
        .filter(|i| kind(i) != "usage")
        .map(|i| {
            (
                i.get("seq").and_then(Value::as_i64).unwrap_or(-1),
                key(i),
                kind(i),
            )
        })
        .collect();
    m.list(
        "timeline (seq = offset*8+n, key, kind) without usage",
        &timeline_exp,
        &timeline_got,
    );

    // Timestamps: each item carries its line's timestamp (envelope files only).
    if !exp.legacy {
        let ts_exp: Vec<(String, Option<i64>)> =
            exp.items.iter().map(|i| (i.key.clone(), i.ts)).collect();
        let ts_got: Vec<(String, Option<i64>)> = items
            .iter()
            .filter(|i| kind(i) != "usage")
            .map(|i| (key(i), str_field(i, "ts").and_then(rfc3339_ms)))
            .collect();
        m.list("item timestamps (key, epoch ms)", &ts_exp, &ts_got);
    }

    // Usage per turn: latest cumulative total minus the total at the turn's start.
    let usage_got: Vec<Usage> = items
        .iter()
        .filter(|i| kind(i) == "usage")
        .map(|i| {
            let data = i.get("data");
            Usage {
                key: key(i),
                turn: got_figures(data),
                thread_total: got_figures(data.and_then(|d| d.get("thread_total"))),
            }
        })
        .collect();
    m.list(
        "usage items (key, turn figures, thread_total)",
        &exp.usage,
        &usage_got,
    );

    // Nothing else: every shown item is one of the expected ones, in seq order.
    let seqs: Vec<i64> = items
        .iter()
        .map(|i| i.get("seq").and_then(Value::as_i64).unwrap_or(-1))
        .collect();
    if seqs.windows(2).any(|w| w[0] >= w[1]) {
        m.fail(format!(
            "items are not in strictly increasing seq order: {seqs:?}\n"
        ));
    }
    let known = [
        "user",
        "assistant",
        "reasoning",
        "tool_call",
        "plan",
        "usage",
        "error",
    ];
    for i in &items {
        if !known.contains(&kind(i)) {
            m.fail(format!("unknown item kind: {i:#}\n"));
        }
    }
}

/// `ingest` + `threads` + `show` for a store holding exactly one Codex file, checked against `exp`.
pub fn check_single_thread_store(env: &crate::util::Env, context: &str, exp: &Expected) {
    let threads = env.threads();
    let mut m = Mismatches::new(context);
    if threads.len() != 1 {
        m.fail(format!(
            "expected exactly one thread, got {}: {:#}\n",
            threads.len(),
            Value::Array(threads.clone())
        ));
        m.finish();
        return;
    }
    let id = str_field(&threads[0], "id")
        .expect("thread has an id")
        .to_string();
    let shown = env.show(&id);
    check_thread(&mut m, exp, &threads[0], &shown);
    m.finish();
}
