//! Acceptance: every Gemini CLI chat in `../shared/fixtures/gemini` ingests,
//! and its thread shows exactly the user prompts, assistant texts, thoughts
//! and tool calls (name, command, output, status) the raw file holds, as
//! computed below from the bytes with `serde_json::Value` and the rules of
//! `docs/providers/gemini.md` (a plain replay for JSONL; no code shared with
//! `tinyvex-providers`). Also: rewriting a `.json` chat adds exactly the new
//! message, an unchanged file is not read, and a resumed session's second
//! file feeds the same thread without duplicates.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::{num, str_field, Env, Mismatches};

/// One test per fixture (a `*.json` chat, or a whole `gemini-home-*` dir).
macro_rules! fixture_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_fixture(stringify!($name), $file);
            }
        )*
        const FIXTURE_TESTS: &[(&str, &str)] = &[$((stringify!($name), $file)),*];
    };
}

fixture_tests! {
    gemini_fixture_gemini_home_0_61_0 => "gemini-home-0.61.0",
    gemini_fixture_session_2025_10_27t19_55_981c87cb_json
        => "session-2025-10-27T19-55-981c87cb.json",
    gemini_fixture_session_2025_10_29t10_36_9c9a14e1_json
        => "session-2025-10-29T10-36-9c9a14e1.json",
    gemini_fixture_session_2025_10_29t10_36_f96c76b0_json
        => "session-2025-10-29T10-36-f96c76b0.json",
    gemini_fixture_session_2025_10_29t10_39_a63242d9_json
        => "session-2025-10-29T10-39-a63242d9.json",
}

fn test_name_for(file: &str) -> String {
    let mut name = String::from("gemini_fixture_");
    for c in file.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    name
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            fs::write(&to, fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

/// Every chat file (`*.json`, `*.jsonl`) under `dir`, sorted.
fn chat_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.parent().and_then(Path::file_name) == Some("chats".as_ref())
                && p.extension().is_some_and(|x| x == "json" || x == "jsonl")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Puts a fixture under `<gemini dir>` (`$HOME/.gemini`): a home dir is
/// copied as it is; a `.json` chat goes to `tmp/<its projectHash>/chats/`
/// (the ≤ 0.28 hash layout). Returns the placed chat files.
fn put(gemini_dir: &Path, fixtures: &Path, file: &str) -> Vec<PathBuf> {
    let src = fixtures.join("gemini").join(file);
    if src.is_dir() {
        copy_tree(&src, gemini_dir);
        return chat_files(&gemini_dir.join("tmp"));
    }
    let bytes = fs::read(&src).unwrap_or_else(|e| panic!("fixture {} missing: {e}", src.display()));
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let hash = doc["projectHash"].as_str().unwrap_or("nohash");
    let dst = gemini_dir.join("tmp").join(hash).join("chats").join(file);
    fs::create_dir_all(dst.parent().unwrap()).unwrap();
    fs::write(&dst, &bytes).unwrap();
    vec![dst]
}

fn run_json(env: &Env, gemini_home: Option<&Path>, args: &[&str]) -> Value {
    let mut cmd = env.command_with_db(&env.db, args);
    if let Some(h) = gemini_home {
        cmd.env("GEMINI_CLI_HOME", h);
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

fn gemini_entry(summary: &Value) -> Value {
    summary["providers"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| str_field(p, "provider") == Some("gemini"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no gemini entry in {summary:#}"))
}

fn threads(env: &Env) -> Vec<Value> {
    match run_json(env, None, &["threads", "--json", "--limit", "1000"]) {
        Value::Array(a) => a,
        other => panic!("threads --json must print an array, got {other:#}"),
    }
}

// ---- expectations, from the raw bytes -------------------------------------

/// Replays a chat file: `(sessionId, messages)`. JSONL: message lines add or
/// replace by `id`; `$set.messages` entries merge their fields into the
/// message with the same `id` or are added; nothing is ever removed
/// (`$rewindTo` included), as `docs/providers/gemini.md` says.
fn replay(bytes: &[u8], jsonl: bool) -> (Option<String>, Vec<Value>) {
    if !jsonl {
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        let msgs = doc["messages"].as_array().cloned().unwrap_or_default();
        return (doc["sessionId"].as_str().map(str::to_string), msgs);
    }
    let mut session = None;
    let mut msgs: Vec<Value> = Vec::new();
    for line in std::str::from_utf8(bytes).unwrap().lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v.get("$rewindTo").is_some() {
            continue;
        } else if v.get("id").is_some_and(Value::is_string) {
            match msgs.iter().position(|m| m["id"] == v["id"]) {
                Some(i) => msgs[i] = v,
                None => msgs.push(v),
            }
        } else if let Some(set) = v.get("$set") {
            for m in set
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match msgs.iter_mut().find(|x| x["id"] == m["id"]) {
                    Some(Value::Object(old)) => {
                        for (k, v) in m.as_object().unwrap() {
                            old.insert(k.clone(), v.clone());
                        }
                    }
                    _ => msgs.push(m.clone()),
                }
            }
            if let Some(s) = set.get("sessionId").and_then(Value::as_str) {
                session = Some(s.to_string());
            }
        } else if let Some(s) = v.get("sessionId").and_then(Value::as_str) {
            session = Some(s.to_string());
        }
    }
    (session, msgs)
}

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
    model: Option<String>,
}

/// Concatenated `text` parts (or the string itself); `None` without any.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let t: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("thought") != Some(&Value::Bool(true)))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!t.is_empty()).then(|| t.concat())
        }
        _ => None,
    }
}

fn title(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 120 {
        return Some(line);
    }
    Some(format!(
        "{}…",
        chars[..120].iter().collect::<String>().trim_end()
    ))
}

fn expected(messages: &[Value], session_id: &str) -> Expected {
    let mut e = Expected {
        session_id: session_id.to_string(),
        ..Expected::default()
    };
    for m in messages {
        match m["type"].as_str() {
            Some("user") => {
                let text = text_of(m.get("displayContent"))
                    .filter(|t| !t.trim().is_empty())
                    .or_else(|| text_of(m.get("content")));
                let Some(text) = text else { continue };
                let t = text.trim();
                if t.is_empty()
                    || t.starts_with("<session_context>")
                    || t.starts_with("This is the Gemini CLI. We are setting up the context")
                {
                    continue;
                }
                if e.title.is_none() {
                    e.title = title(t);
                }
                e.users.push(t.to_string());
            }
            Some("gemini") => {
                if let Some(model) = m["model"].as_str().filter(|s| !s.is_empty()) {
                    e.model = Some(model.to_string());
                }
                for t in m["thoughts"].as_array().into_iter().flatten() {
                    let s = t["subject"].as_str().unwrap_or("").trim();
                    let d = t["description"].as_str().unwrap_or("").trim();
                    let text = [s, d]
                        .into_iter()
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n");
                    if !text.is_empty() {
                        e.reasoning.push(text);
                    }
                }
                if let Some(t) = text_of(m.get("content")).filter(|t| !t.trim().is_empty()) {
                    e.assistants.push(t);
                }
                for c in m["toolCalls"].as_array().into_iter().flatten() {
                    let name = c["name"].as_str().map(str::to_string);
                    let command = if name.as_deref() == Some("run_shell_command") {
                        c["args"]["command"].as_str().map(str::to_string)
                    } else {
                        None
                    };
                    let outputs: Vec<String> = c["result"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| {
                            let r = &p["functionResponse"]["response"];
                            if !r.is_null() {
                                r["output"]
                                    .as_str()
                                    .or(r["error"].as_str())
                                    .map(str::to_string)
                                    .or_else(|| Some(r.to_string()))
                            } else {
                                p["text"].as_str().map(str::to_string)
                            }
                        })
                        .collect();
                    // A shell command whose output says `Exit Code: N` with
                    // N != 0 failed, even though the tool call succeeded.
                    let nonzero_exit = command.is_some()
                        && outputs.iter().any(|o| {
                            o.lines().any(|l| {
                                l.strip_prefix("Exit Code: ")
                                    .and_then(|n| n.trim().parse::<i64>().ok())
                                    .is_some_and(|n| n != 0)
                            })
                        });
                    let status = match c["status"].as_str() {
                        Some("success") if nonzero_exit => "failed",
                        Some("success") => "completed",
                        Some("error") => "failed",
                        Some("cancelled") => "declined",
                        _ => "in_progress",
                    };
                    e.tools.push(Tool {
                        name,
                        command,
                        output: (!outputs.is_empty()).then(|| outputs.join("\n")),
                        status: Some(status.to_string()),
                    });
                }
            }
            _ => {}
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

fn check(m: &mut Mismatches, exp: &Expected, cwd: Option<&str>, shown: &Value) {
    let thread = &shown["thread"];
    m.value("provider", Some("gemini"), str_field(thread, "provider"));
    m.value(
        "session_id",
        Some(exp.session_id.as_str()),
        str_field(thread, "session_id"),
    );
    m.value("title", exp.title.as_deref(), str_field(thread, "title"));
    m.value("cwd", cwd, str_field(thread, "cwd"));
    m.value("model", exp.model.as_deref(), str_field(thread, "model"));
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
    let ids: Vec<&str> = items.iter().filter_map(|i| str_field(i, "id")).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    m.value("distinct item ids", ids.len(), unique.len());
}

fn run_fixture(test: &str, file: &str) {
    let fixtures = require_fixtures!(test);
    let env = Env::new();
    let gemini_dir = env.home.join(".gemini");
    let placed = put(&gemini_dir, &fixtures, file);
    assert_eq!(placed.len(), 1, "one chat file per fixture: {placed:?}");
    let bytes = fs::read(&placed[0]).unwrap();
    let jsonl = placed[0].extension().is_some_and(|x| x == "jsonl");
    let (session, messages) = replay(&bytes, jsonl);
    let session = session.expect("fixture has a sessionId");
    let exp = expected(&messages, &session);
    assert!(
        !exp.users.is_empty() && (!exp.assistants.is_empty() || !exp.tools.is_empty()),
        "the independent reading found nothing in {file}: the test itself is broken"
    );
    // The slug layout names its project in projects.json; hash dirs cannot be decoded.
    let cwd: Option<String> = fs::read_to_string(gemini_dir.join("projects.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            let slug = placed[0]
                .parent()?
                .parent()?
                .file_name()?
                .to_str()?
                .to_string();
            v["projects"]
                .as_object()?
                .iter()
                .find(|(_, s)| s.as_str() == Some(slug.as_str()))
                .map(|(p, _)| p.clone())
        });
    if file.starts_with("gemini-home") {
        assert!(cwd.is_some(), "the home fixture maps its project");
    }

    let summary = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(num(&summary, &["errors"]), Some(0), "{summary:#}");
    assert_eq!(num(&gemini_entry(&summary), &["files_read"]), Some(1));
    let listed = threads(&env);
    let mut m = Mismatches::new(test);
    if listed.len() != 1 {
        m.fail(format!("expected one thread, got {listed:#?}"));
        m.finish();
        return;
    }
    let id = str_field(&listed[0], "id").unwrap().to_string();
    m.value("thread id", format!("gemini-{session}"), id.clone());
    let shown = run_json(&env, None, &["show", &id, "--json"]);
    check(&mut m, &exp, cwd.as_deref(), &shown);
    m.finish();

    // Unchanged: nothing is read, nothing changes.
    let again = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(
        num(&gemini_entry(&again), &["files_read"]),
        Some(0),
        "{again:#}"
    );
    let shown2 = run_json(&env, None, &["show", &id, "--json"]);
    eqnice!(shown, shown2, "second ingest of {file} changed the thread");
}

fn put_chat(env: &Env, name: &str, doc: &Value) -> PathBuf {
    let dir = env.home.join(".gemini/tmp/abc123/chats");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    path
}

fn item_ids(shown: &Value) -> Vec<String> {
    shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| str_field(i, "id").unwrap().to_string())
        .collect()
}

/// A `.json` chat rewritten with one more message gains exactly one item;
/// an unchanged one is not read again.
#[test]
fn gemini_rewritten_json_chat_adds_one_item() {
    let fixtures = require_fixtures!("gemini_rewritten_json_chat_adds_one_item");
    let env = Env::new();
    let src = fixtures
        .join("gemini")
        .join("session-2025-10-29T10-36-9c9a14e1.json");
    let mut doc: Value = serde_json::from_slice(&fs::read(src).unwrap()).unwrap();
    let path = put_chat(&env, "session-2025-10-29T10-36-9c9a14e1.json", &doc);
    run_json(&env, None, &["ingest", "--json"]);
    let id = format!("gemini-{}", doc["sessionId"].as_str().unwrap());
    let before = item_ids(&run_json(&env, None, &["show", &id, "--json"]));

    let unchanged = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(num(&gemini_entry(&unchanged), &["files_read"]), Some(0));

    doc["messages"].as_array_mut().unwrap().push(json!({
        "id": "added-message-1",
        "timestamp": "2025-10-29T10:40:00.000Z",
        "type": "user",
        "content": "one more question"
    }));
    fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let summary = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(num(&gemini_entry(&summary), &["files_read"]), Some(1));
    assert_eq!(num(&summary, &["errors"]), Some(0));
    let shown = run_json(&env, None, &["show", &id, "--json"]);
    let after = item_ids(&shown);
    assert_eq!(after.len(), before.len() + 1, "{before:#?}\n{after:#?}");
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "old items keep their place"
    );
    assert_eq!(
        shown["items"].as_array().unwrap().last().unwrap()["text"],
        "one more question"
    );
    assert_eq!(threads(&env).len(), 1);
}

/// A resumed session may leave a second file with the same `sessionId` and a
/// copy of the messages: one thread, no duplicated items, both files listed.
#[test]
fn gemini_two_files_of_one_session_make_one_thread() {
    let fixtures = require_fixtures!("gemini_two_files_of_one_session_make_one_thread");
    let env = Env::new();
    let name = "session-2025-10-29T10-36-f96c76b0.json";
    let doc: Value =
        serde_json::from_slice(&fs::read(fixtures.join("gemini").join(name)).unwrap()).unwrap();
    put_chat(&env, name, &doc);
    run_json(&env, None, &["ingest", "--json"]);
    let id = format!("gemini-{}", doc["sessionId"].as_str().unwrap());
    let first = item_ids(&run_json(&env, None, &["show", &id, "--json"]));

    // The ≥ 0.39 migration: a `.jsonl` next to it, header + the same messages + one more.
    let mut lines = vec![json!({
        "sessionId": doc["sessionId"], "projectHash": doc["projectHash"],
        "startTime": doc["startTime"], "lastUpdated": doc["lastUpdated"]
    })];
    lines.extend(doc["messages"].as_array().unwrap().iter().cloned());
    lines.push(json!({"$set": {"sessionId": doc["sessionId"]}}));
    lines.push(
        json!({"id": "resumed-1", "timestamp": "2025-10-29T11:00:00.000Z",
                      "type": "user", "content": [{"text": "after resume"}]}),
    );
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let dir = env.home.join(".gemini/tmp/abc123/chats");
    fs::write(dir.join(name.replace(".json", ".jsonl")), text).unwrap();
    let summary = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(num(&summary, &["errors"]), Some(0));
    let listed = threads(&env);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["source_files"].as_array().unwrap().len(), 2);
    let shown = run_json(&env, None, &["show", &id, "--json"]);
    let after = item_ids(&shown);
    assert_eq!(after.len(), first.len() + 1, "{first:#?}\n{after:#?}");
    let unique: HashSet<&String> = after.iter().collect();
    assert_eq!(unique.len(), after.len());
    assert_eq!(
        shown_texts(shown["items"].as_array().unwrap(), "user")
            .last()
            .unwrap(),
        "after resume"
    );
}

/// `GEMINI_CLI_HOME` replaces the home directory Gemini CLI keeps `.gemini` in.
#[test]
fn gemini_cli_home_is_honoured() {
    let fixtures = require_fixtures!("gemini_cli_home_is_honoured");
    let env = Env::new();
    let other = env.tmp.path().join("gemini-profile");
    put(&other.join(".gemini"), &fixtures, "gemini-home-0.61.0");
    let none = run_json(&env, None, &["ingest", "--json"]);
    assert_eq!(num(&gemini_entry(&none), &["files_seen"]), Some(0));
    let summary = run_json(&env, Some(&other), &["ingest", "--json"]);
    assert_eq!(num(&gemini_entry(&summary), &["files_read"]), Some(1));
    let listed = threads(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(str_field(&listed[0], "cwd"), Some("/home/dev/demo-gemini"));
}

/// Adding a fixture without adding its test must fail.
#[test]
fn every_gemini_fixture_has_a_test() {
    let fixtures = require_fixtures!("every_gemini_fixture_has_a_test");
    let mut on_disk: Vec<String> = fs::read_dir(fixtures.join("gemini"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") || n.starts_with("gemini-home"))
        .collect();
    on_disk.sort();
    let mut problems = Vec::new();
    for file in &on_disk {
        if !FIXTURE_TESTS.iter().any(|(_, f)| f == file) {
            problems.push(format!(
                "fixture {file} has no test: add `{} => \"{file}\",`",
                test_name_for(file)
            ));
        }
    }
    for (name, file) in FIXTURE_TESTS {
        if !on_disk.iter().any(|f| f == file) {
            problems.push(format!("test {name} names {file}, not in the fixtures"));
        }
        if *name != test_name_for(file) {
            problems.push(format!(
                "test {name} should be named {}",
                test_name_for(file)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}
