//! Acceptance: every Claude Code file in `../shared/fixtures/claude` ingests,
//! and its thread shows exactly the user prompts, assistant texts, thinking,
//! and tool calls (name, command, output, status) the raw file holds, as
//! computed below from the bytes with `serde_json::Value` and the rules of
//! `docs/providers/claude.md` (no code shared with `tinyvex-providers`).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{num, str_field, Env, Mismatches};

/// One test per fixture file (path relative to `<fixtures>/claude`). The name
/// is `claude_fixture_` + that path with every non-alphanumeric character
/// replaced by `_`, runs of `_` collapsed (checked below).
macro_rules! fixture_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_fixture(stringify!($name), $file);
            }
        )*
        /// (test name, fixture file) of every test above.
        const FIXTURE_TESTS: &[(&str, &str)] = &[$((stringify!($name), $file)),*];
    };
}

fixture_tests! {
    claude_fixture_06090cb1_3e64_433a_bc7e_a621c0f596d2_jsonl
        => "06090cb1-3e64-433a-bc7e-a621c0f596d2.jsonl",
    claude_fixture_06381696_0074_49f8_863e_6ad4fac507f9_jsonl
        => "06381696-0074-49f8-863e-6ad4fac507f9.jsonl",
    claude_fixture_5c0375b4_57a5_4f26_b12d_d022ee4e51b7_jsonl
        => "5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
    claude_fixture_agent_test_hash_123_jsonl
        => "agent-test-hash-123.jsonl",
    claude_fixture_fe5e1c67_53e7_4862_81ae_d0e013e3270b_jsonl
        => "fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl",
    claude_fixture_full_session_five_jsonl
        => "full-session-five.jsonl",
    claude_fixture_full_session_four_jsonl
        => "full-session-four.jsonl",
    claude_fixture_projects_home_dev_demo_claude_5ee6c91e_ba62_4bd1_8c46_b51d92651ce3_jsonl
        => "projects/-home-dev-demo-claude/5ee6c91e-ba62-4bd1-8c46-b51d92651ce3.jsonl",
}

fn test_name_for(file: &str) -> String {
    let sanitized: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // Runs of `_` collapse to one, so that names stay snake case.
    let mut name = String::from("claude_fixture_");
    for c in sanitized.chars() {
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    name
}

/// Every `*.jsonl` under `<fixtures>/claude`, relative, `/`-separated, sorted.
fn claude_fixture_names(fixtures: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                let rel = p.strip_prefix(root).unwrap();
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    let root = fixtures.join("claude");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// Where a fixture goes under `$CLAUDE_CONFIG_DIR`: its own
/// `projects/<dir>/...` layout when it has one, else `projects/-fixtures/<file>`.
fn place(config: &Path, file: &str) -> PathBuf {
    if file.starts_with("projects/") {
        config.join(file)
    } else {
        config.join("projects").join("-fixtures").join(file)
    }
}

fn put(config: &Path, fixtures: &Path, file: &str) -> Vec<u8> {
    let src = fixtures.join("claude").join(file);
    let bytes =
        fs::read(&src).unwrap_or_else(|e| panic!("fixture {} is missing: {e}", src.display()));
    let dst = place(config, file);
    fs::create_dir_all(dst.parent().unwrap()).unwrap();
    fs::write(&dst, &bytes).unwrap();
    bytes
}

/// `tinyvex --db <db> <args> ` with `CLAUDE_CONFIG_DIR` set, its JSON output.
fn run_json(env: &Env, config: Option<&Path>, args: &[&str]) -> Value {
    let mut cmd = env.command_with_db(&env.db, args);
    if let Some(c) = config {
        cmd.env("CLAUDE_CONFIG_DIR", c);
    }
    let out = cmd.output().expect("cannot start the tinyvex binary");
    assert!(
        out.status.success(),
        "`tinyvex {}` failed: {}\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "`tinyvex {}` printed no JSON ({e}):\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

// ---- expectations, from the raw bytes -------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
struct Tool {
    name: Option<String>,
    command: Option<String>,
    output: Option<String>,
    status: Option<String>,
}

#[derive(Debug, Default)]
struct Expected {
    session_id: String,
    users: Vec<String>,
    assistants: Vec<String>,
    reasoning: Vec<String>,
    tools: Vec<Tool>,
    title: Option<String>,
    cwd: Option<String>,
    model: Option<String>,
    agent_version: Option<String>,
    parent_session_id: Option<String>,
}

const INJECTED: &[&str] = &[
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "<command-message>",
    "<command-name>",
    "<command-args>",
    "<bash-input>",
    "<bash-stdout>",
    "<bash-stderr>",
    "<user-prompt-submit-hook>",
    "Caveat: The messages below were generated by the user while running local commands",
    "[Request interrupted by user",
];

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(open)?;
    let (inner, _) = rest.split_once(close)?;
    Some(inner.trim())
}

/// The page's prompt rule: drop `<system-reminder>` blocks, trim; slash
/// commands → `/name args` (none without args); injected prefixes → none.
fn prompt(text: &str) -> Option<String> {
    let mut kept = String::new();
    let mut rest = text;
    loop {
        match rest.split_once("<system-reminder>") {
            Some((before, after)) => {
                kept.push_str(before);
                rest = after
                    .split_once("</system-reminder>")
                    .map_or("", |(_, a)| a);
            }
            None => {
                kept.push_str(rest);
                break;
            }
        }
    }
    let t = kept.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(name) = between(t, "<command-name>", "</command-name>") {
        let args = between(t, "<command-args>", "</command-args>").unwrap_or("");
        return (!args.is_empty()).then(|| format!("{name} {args}"));
    }
    if INJECTED.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    Some(t.to_string())
}

/// First non-empty line, whitespace runs collapsed, ≤ 120 chars then `…`.
fn title(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let line = words.join(" ");
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 120 {
        return Some(line);
    }
    let cut: String = chars[..120].iter().collect();
    Some(format!("{}…", cut.trim_end()))
}

fn st(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool) == Some(true)
}

fn result_output(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn expected(bytes: &[u8], file: &str) -> Expected {
    let name = file.rsplit('/').next().unwrap();
    let stem = name.strip_suffix(".jsonl").unwrap();
    let agent_file = stem.starts_with("agent-");
    // A sub-agent file's id is scoped by the folder it sits in (its
    // project's escaped cwd, where `place` puts it): `<folder>-agent-<id>`.
    let session_id = if agent_file {
        let folder = place(Path::new("/c"), file)
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap();
        format!("{folder}-{stem}")
    } else {
        stem.to_string()
    };
    let mut e = Expected {
        session_id,
        ..Expected::default()
    };
    let mut seen_users = HashSet::new();
    let mut seen_blocks = HashSet::new();
    let mut tool_pos: HashMap<String, usize> = HashMap::new();
    let text = std::str::from_utf8(bytes).expect("fixture is UTF-8");
    for (n, line) in text.split('\n').enumerate() {
        let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "user" | "assistant" | "system") {
            continue;
        }
        if flag(&v, "isSidechain") && !agent_file {
            continue;
        }
        if e.cwd.is_none() {
            e.cwd = st(&v, "cwd");
        }
        if let Some(ver) = st(&v, "version") {
            e.agent_version = Some(ver);
        }
        if agent_file && e.parent_session_id.is_none() {
            e.parent_session_id = st(&v, "sessionId").filter(|s| s != stem);
        }
        let uuid = st(&v, "uuid").unwrap_or_else(|| format!("line {n}"));
        let content = v.get("message").and_then(|m| m.get("content"));
        if kind == "user" {
            let mut texts = Vec::new();
            match content {
                Some(Value::String(s)) => texts.push(s.clone()),
                Some(Value::Array(blocks)) => {
                    for b in blocks {
                        match b.get("type").and_then(Value::as_str) {
                            Some("text") => texts
                                .extend(b.get("text").and_then(Value::as_str).map(str::to_string)),
                            Some("tool_result") => {
                                let Some(id) = st(b, "tool_use_id") else {
                                    continue;
                                };
                                let out = result_output(b.get("content"));
                                let status = if flag(b, "is_error") {
                                    "failed"
                                } else {
                                    "completed"
                                };
                                match tool_pos.get(&id) {
                                    Some(&i) => {
                                        e.tools[i].output = Some(out);
                                        e.tools[i].status = Some(status.to_string());
                                    }
                                    None => {
                                        tool_pos.insert(id, e.tools.len());
                                        e.tools.push(Tool {
                                            name: None,
                                            command: None,
                                            output: Some(out),
                                            status: Some(status.to_string()),
                                        });
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            if flag(&v, "isMeta") || flag(&v, "isCompactSummary") {
                continue;
            }
            if let Some(p) = prompt(&texts.join("\n")) {
                if seen_users.insert(uuid) {
                    if e.title.is_none() {
                        e.title = title(&p);
                    }
                    e.users.push(p);
                }
            }
        } else if kind == "assistant" && !flag(&v, "isApiErrorMessage") {
            let msg = &v["message"];
            if let Some(m) = st(msg, "model").filter(|m| m != "<synthetic>") {
                e.model = Some(m);
            }
            let blocks = content
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, b) in blocks.iter().enumerate() {
                if !seen_blocks.insert((uuid.clone(), i)) {
                    continue;
                }
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => e.assistants.extend(st(b, "text")),
                    Some("thinking") => e.reasoning.extend(st(b, "thinking")),
                    Some("tool_use") => {
                        let Some(id) = st(b, "id") else { continue };
                        let name = st(b, "name");
                        let command = if name.as_deref() == Some("Bash") {
                            b.get("input")
                                .and_then(|i| i.get("command"))
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        } else {
                            None
                        };
                        match tool_pos.get(&id) {
                            Some(&i) => {
                                e.tools[i].name = name;
                                e.tools[i].command = command;
                            }
                            None => {
                                tool_pos.insert(id, e.tools.len());
                                e.tools.push(Tool {
                                    name,
                                    command,
                                    output: None,
                                    status: Some("in_progress".to_string()),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    e
}

// ---- comparison ------------------------------------------------------------

fn shown_texts(items: &[Value], kind: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| str_field(i, "kind") == Some(kind))
        .map(|i| str_field(i, "text").unwrap_or("").to_string())
        .collect()
}

fn tool_str(item: &Value, k: &str) -> Option<String> {
    let v = item
        .get(k)
        .filter(|v| !v.is_null())
        .or_else(|| item.get("tool").and_then(|t| t.get(k)));
    v.and_then(Value::as_str).map(str::to_string)
}

fn shown_tools(items: &[Value]) -> Vec<Tool> {
    items
        .iter()
        .filter(|i| str_field(i, "kind") == Some("tool_call"))
        .map(|i| Tool {
            name: tool_str(i, "name"),
            command: tool_str(i, "command"),
            output: tool_str(i, "output"),
            status: tool_str(i, "status"),
        })
        .collect()
}

fn check(m: &mut Mismatches, exp: &Expected, listed: &Value, shown: &Value) {
    let thread = &shown["thread"];
    m.value("provider", Some("claude"), str_field(listed, "provider"));
    m.value(
        "session_id",
        Some(exp.session_id.as_str()),
        str_field(thread, "session_id"),
    );
    m.value("title", exp.title.as_deref(), str_field(thread, "title"));
    m.value("cwd", exp.cwd.as_deref(), str_field(thread, "cwd"));
    m.value("model", exp.model.as_deref(), str_field(thread, "model"));
    m.value(
        "agent_version",
        exp.agent_version.as_deref(),
        str_field(thread, "agent_version"),
    );
    m.value(
        "parent_session_id",
        exp.parent_session_id.as_deref(),
        str_field(thread, "parent_session_id"),
    );
    let items: Vec<Value> = shown["items"].as_array().cloned().unwrap_or_default();
    m.list("user prompts", &exp.users, &shown_texts(&items, "user"));
    m.list(
        "assistant texts",
        &exp.assistants,
        &shown_texts(&items, "assistant"),
    );
    m.list(
        "reasoning",
        &exp.reasoning,
        &shown_texts(&items, "reasoning"),
    );
    m.list("tool calls", &exp.tools, &shown_tools(&items));
}

fn run_fixture(test: &str, file: &str) {
    let fixtures = require_fixtures!(test);
    let env = Env::new();
    let config = env.tmp.path().join("claude-config");
    let bytes = put(&config, &fixtures, file);
    let exp = expected(&bytes, file);
    assert!(
        !exp.users.is_empty() || !exp.assistants.is_empty(),
        "the independent reading found nothing in {file}: the test itself is broken"
    );

    let summary = run_json(&env, Some(&config), &["ingest", "--json"]);
    if let Some(errors) = num(&summary, &["errors"]) {
        assert_eq!(errors, 0, "ingest of {file} reported errors: {summary:#}");
    }
    let threads = match run_json(
        &env,
        Some(&config),
        &["threads", "--json", "--limit", "1000"],
    ) {
        Value::Array(a) => a,
        other => panic!("threads --json must print an array, got {other:#}"),
    };
    let mut m = Mismatches::new(test);
    if threads.len() != 1 {
        m.fail(format!("expected one thread, got {threads:#?}"));
        m.finish();
        return;
    }
    let id = str_field(&threads[0], "id").expect("thread id").to_string();
    m.value(
        "thread id",
        format!("claude-{}", exp.session_id),
        id.clone(),
    );
    let shown = run_json(&env, Some(&config), &["show", &id, "--json"]);
    check(&mut m, &exp, &threads[0], &shown);
    m.finish();

    // Ingesting the same bytes again changes nothing.
    run_json(&env, Some(&config), &["ingest", "--json"]);
    let again = run_json(&env, Some(&config), &["show", &id, "--json"]);
    eqnice!(
        crate::util::without_revisions(&shown),
        crate::util::without_revisions(&again),
        "second ingest of {file} changed the thread"
    );
}

/// Without `CLAUDE_CONFIG_DIR`, `$HOME/.claude` is read; a sub-agent file next
/// to its session is its own thread, linked to the session.
#[test]
fn claude_home_default_and_subagent_link() {
    let fixtures = require_fixtures!("claude_home_default_and_subagent_link");
    let env = Env::new();
    let config = env.home.join(".claude");
    let session = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl";
    put(&config, &fixtures, session);
    put(&config, &fixtures, "agent-test-hash-123.jsonl");
    run_json(&env, None, &["ingest", "--json"]);
    let threads = match run_json(&env, None, &["threads", "--json"]) {
        Value::Array(a) => a,
        other => panic!("not an array: {other:#}"),
    };
    let mut ids: Vec<(String, Option<String>)> = threads
        .iter()
        .map(|t| {
            (
                str_field(t, "id").unwrap_or("").to_string(),
                str_field(t, "parent_session_id").map(str::to_string),
            )
        })
        .collect();
    ids.sort();
    eqnice!(
        vec![
            (
                "claude--fixtures-agent-test-hash-123".to_string(),
                Some("5c0375b4-57a5-4f26-b12d-d022ee4e51b7".to_string())
            ),
            (
                "claude-5c0375b4-57a5-4f26-b12d-d022ee4e51b7".to_string(),
                None
            ),
        ],
        ids
    );
}

/// Adding a fixture without adding its test must fail.
#[test]
fn every_claude_fixture_has_a_test() {
    let fixtures = require_fixtures!("every_claude_fixture_has_a_test");
    let on_disk = claude_fixture_names(&fixtures);
    assert!(
        !on_disk.is_empty(),
        "no fixtures in {}/claude",
        fixtures.display()
    );
    let mut problems = Vec::new();
    for file in &on_disk {
        if !FIXTURE_TESTS.iter().any(|(_, f)| f == file) {
            problems.push(format!(
                "fixture {file} has no test: add `{} => \"{file}\",` to fixture_tests! in tests/it/claude_fixtures.rs",
                test_name_for(file)
            ));
        }
    }
    for (name, file) in FIXTURE_TESTS {
        if !on_disk.iter().any(|f| f == file) {
            problems.push(format!(
                "test {name} names {file}, which is not in the fixtures"
            ));
        }
        if *name != test_name_for(file) {
            problems.push(format!(
                "test {name} should be named {} after its file",
                test_name_for(file)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
