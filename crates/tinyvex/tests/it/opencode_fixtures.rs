//! Acceptance: the OpenCode fixtures (`../shared/fixtures/opencode`: the
//! 1.1.65 JSON storage tree and the 1.18.33 `opencode.db`) ingest from
//! `$XDG_DATA_HOME/opencode`, and every thread shows exactly the user
//! prompts, assistant texts, reasoning and tool calls (name, input, output,
//! status) of its session, computed below from the raw JSON files and the
//! database rows (via the `sqlite3` command-line tool) with plain
//! `serde_json::Value` code and the rules of `docs/providers/opencode.md`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{copy_dir, num, str_field, Env, Mismatches};

/// Session id → (parent session id, directory).
type Sessions = BTreeMap<String, (Option<String>, String)>;

/// One part as the expectations see it.
struct Part {
    session: String,
    message: String,
    id: String,
    role: String,
    data: Value,
}

#[derive(Clone, Debug, PartialEq)]
struct Tool {
    name: Option<String>,
    input: Option<Value>,
    output: Option<String>,
    status: Option<String>,
}

#[derive(Debug, Default, PartialEq)]
struct Expected {
    users: Vec<String>,
    assistants: Vec<String>,
    reasoning: Vec<String>,
    tools: Vec<Tool>,
}

/// Sessions (id → (parent, directory)) and parts from the JSON tree.
fn read_tree(storage: &Path) -> (Sessions, Vec<Part>) {
    let json = |p: &Path| -> Value { serde_json::from_slice(&fs::read(p).unwrap()).unwrap() };
    let files = |dir: &Path| -> Vec<PathBuf> {
        let mut out = Vec::new();
        for d in fs::read_dir(dir).unwrap() {
            for f in fs::read_dir(d.unwrap().path()).unwrap() {
                out.push(f.unwrap().path());
            }
        }
        out
    };
    let mut sessions = BTreeMap::new();
    for f in files(&storage.join("session")) {
        let v = json(&f);
        sessions.insert(
            v["id"].as_str().unwrap().to_string(),
            (
                v["parentID"].as_str().map(str::to_string),
                v["directory"].as_str().unwrap_or("").to_string(),
            ),
        );
    }
    let mut roles = HashMap::new();
    for f in files(&storage.join("message")) {
        let v = json(&f);
        roles.insert(
            v["id"].as_str().unwrap().to_string(),
            v["role"].as_str().unwrap().to_string(),
        );
    }
    let parts = files(&storage.join("part"))
        .iter()
        .map(|f| {
            let v = json(f);
            let message = v["messageID"].as_str().unwrap().to_string();
            Part {
                session: v["sessionID"].as_str().unwrap().to_string(),
                role: roles[&message].clone(),
                id: v["id"].as_str().unwrap().to_string(),
                message,
                data: v,
            }
        })
        .collect();
    (sessions, parts)
}

/// `sqlite3 -readonly -json <db> <sql>`; `None` when there is no sqlite3.
fn sqlite_json(db: &Path, sql: &str) -> Option<Vec<Value>> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg("-json")
        .arg(db)
        .arg(sql)
        .output()
        .ok()?;
    assert!(out.status.success(), "sqlite3 failed: {out:?}");
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Some(Vec::new());
    }
    Some(serde_json::from_slice(&out.stdout).expect("sqlite3 -json output"))
}

/// Sessions and parts from the database rows (ids re-attached from columns).
fn read_db(db: &Path) -> Option<(Sessions, Vec<Part>)> {
    let mut sessions = BTreeMap::new();
    for r in sqlite_json(db, "SELECT id, parent_id, directory FROM session")? {
        sessions.insert(
            r["id"].as_str().unwrap().to_string(),
            (
                r["parent_id"].as_str().map(str::to_string),
                r["directory"].as_str().unwrap_or("").to_string(),
            ),
        );
    }
    let rows = sqlite_json(
        db,
        "SELECT p.id AS id, p.message_id AS mid, p.session_id AS sid, p.data AS data, m.data AS mdata
         FROM part p JOIN message m ON m.id = p.message_id",
    )?;
    let parts = rows
        .into_iter()
        .map(|r| {
            let mdata: Value = serde_json::from_str(r["mdata"].as_str().unwrap()).unwrap();
            Part {
                session: r["sid"].as_str().unwrap().to_string(),
                message: r["mid"].as_str().unwrap().to_string(),
                id: r["id"].as_str().unwrap().to_string(),
                role: mdata["role"].as_str().unwrap().to_string(),
                data: serde_json::from_str(r["data"].as_str().unwrap()).unwrap(),
            }
        })
        .collect();
    Some((sessions, parts))
}

/// What each session must show: parts in (message id, part id) order.
fn expected(mut parts: Vec<Part>) -> BTreeMap<String, Expected> {
    parts.sort_by(|a, b| (&a.message, &a.id).cmp(&(&b.message, &b.id)));
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for p in parts {
        let e = out.entry(p.session.clone()).or_default();
        let d = &p.data;
        let text = d["text"].as_str().filter(|t| !t.trim().is_empty());
        match d["type"].as_str() {
            Some("text") if d["synthetic"] != Value::Bool(true) => {
                if let Some(t) = text {
                    if p.role == "user" {
                        e.users.push(t.to_string());
                    } else {
                        e.assistants.push(t.to_string());
                    }
                }
            }
            Some("reasoning") => e.reasoning.extend(text.map(str::to_string)),
            Some("tool") => {
                let st = &d["state"];
                let exit = st["metadata"]["exit"].as_i64();
                let (status, output) = match st["status"].as_str() {
                    Some("completed") if exit.is_some_and(|c| c != 0) => {
                        ("failed", st["output"].as_str())
                    }
                    Some("completed") => ("completed", st["output"].as_str()),
                    Some("error") => ("failed", st["error"].as_str()),
                    _ => ("in_progress", None),
                };
                e.tools.push(Tool {
                    name: d["tool"].as_str().map(str::to_string),
                    input: Some(st["input"].clone()),
                    output: output.map(str::to_string),
                    status: Some(status.to_string()),
                });
            }
            _ => {}
        }
    }
    out
}

fn run_json(env: &Env, data: &Path, args: &[&str]) -> Value {
    let mut cmd = env.command_with_db(&env.db, args);
    cmd.env("XDG_DATA_HOME", data);
    let out = cmd.output().expect("cannot start the tinyvex binary");
    assert!(
        out.status.success(),
        "`tinyvex {}` failed: {}\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e})"))
}

fn opencode_line(summary: &Value) -> Value {
    summary["providers"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|p| str_field(p, "provider") == Some("opencode"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no opencode provider in {summary:#}"))
}

fn threads(env: &Env, data: &Path) -> Vec<Value> {
    match run_json(env, data, &["threads", "--json", "--limit", "1000"]) {
        Value::Array(a) => a,
        other => panic!("threads --json must print an array, got {other:#}"),
    }
}

fn field(item: &Value, k: &str) -> Option<String> {
    item.get(k)
        .filter(|v| !v.is_null())
        .or_else(|| item.get("tool").and_then(|t| t.get(k)))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn shown(items: &[Value]) -> Expected {
    let texts = |kind: &str| -> Vec<String> {
        items
            .iter()
            .filter(|i| str_field(i, "kind") == Some(kind))
            .map(|i| str_field(i, "text").unwrap_or("").to_string())
            .collect()
    };
    Expected {
        users: texts("user"),
        assistants: texts("assistant"),
        reasoning: texts("reasoning"),
        tools: items
            .iter()
            .filter(|i| str_field(i, "kind") == Some("tool_call"))
            .map(|i| Tool {
                name: field(i, "name"),
                input: field(i, "input")
                    .map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
                output: field(i, "output"),
                status: field(i, "status"),
            })
            .collect(),
    }
}

/// Ingest `data`, then compare every thread with the expectations.
fn check_all(
    test: &str,
    env: &Env,
    data: &Path,
    sessions: &Sessions,
    exp: &BTreeMap<String, Expected>,
) {
    let summary = run_json(env, data, &["ingest", "--json"]);
    assert_eq!(num(&summary, &["errors"]), Some(0), "{summary:#}");
    let listed = threads(env, data);
    let mut m = Mismatches::new(test);
    let mut ids: Vec<String> = listed
        .iter()
        .filter_map(|t| str_field(t, "id").map(str::to_string))
        .collect();
    ids.sort();
    let want: Vec<String> = sessions.keys().map(|s| format!("opencode-{s}")).collect();
    m.list("thread ids", &want, &ids);
    for (sid, (parent, dir)) in sessions {
        let id = format!("opencode-{sid}");
        let show = run_json(env, data, &["show", &id, "--json"]);
        let t = &show["thread"];
        m.value(
            &format!("{id} parent"),
            parent.clone(),
            str_field(t, "parent_session_id").map(str::to_string),
        );
        m.value(
            &format!("{id} cwd"),
            Some(dir.clone()),
            str_field(t, "cwd").map(str::to_string),
        );
        let items = show["items"].as_array().cloned().unwrap_or_default();
        let got = shown(&items);
        let e = exp.get(sid).map_or_else(Expected::default, |e| Expected {
            users: e.users.clone(),
            assistants: e.assistants.clone(),
            reasoning: e.reasoning.clone(),
            tools: e.tools.clone(),
        });
        m.list(&format!("{id} user prompts"), &e.users, &got.users);
        m.list(
            &format!("{id} assistant texts"),
            &e.assistants,
            &got.assistants,
        );
        m.list(&format!("{id} reasoning"), &e.reasoning, &got.reasoning);
        m.list(&format!("{id} tool calls"), &e.tools, &got.tools);
        // Title: the first user prompt's first non-empty line.
        let title = e
            .users
            .first()
            .and_then(|u| u.lines().map(str::trim).find(|l| !l.is_empty()));
        m.value(
            &format!("{id} title"),
            title.map(str::to_string),
            str_field(t, "title").map(str::to_string),
        );
    }
    m.finish();
    // Unchanged sources: nothing is read again.
    let again = run_json(env, data, &["ingest", "--json"]);
    assert_eq!(
        num(&opencode_line(&again), &["files_read"]),
        Some(0),
        "{again:#}"
    );
}

#[test]
fn opencode_fixture_storage_1_1_65() {
    let fixtures = require_fixtures!("opencode_fixture_storage_1_1_65");
    let env = Env::new();
    let data = env.tmp.path().join("data");
    let storage = data.join("opencode").join("storage");
    copy_dir(&fixtures.join("opencode/storage-1.1.65/storage"), &storage);
    let (sessions, parts) = read_tree(&storage);
    let exp = expected(parts);
    assert!(
        exp.values().all(|e| !e.users.is_empty()),
        "the test itself is broken"
    );
    check_all(
        "opencode_fixture_storage_1_1_65",
        &env,
        &data,
        &sessions,
        &exp,
    );
}

#[test]
fn opencode_fixture_db_1_18_33() {
    let fixtures = require_fixtures!("opencode_fixture_db_1_18_33");
    let env = Env::new();
    let data = env.tmp.path().join("data");
    let db = data.join("opencode").join("opencode.db");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    fs::copy(fixtures.join("opencode/opencode-1.18.33.db"), &db).unwrap();
    let Some((sessions, parts)) = read_db(&db) else {
        eprintln!("SKIPPED opencode_fixture_db_1_18_33: no sqlite3 command");
        return;
    };
    let exp = expected(parts);
    assert_eq!(exp.len(), 3, "the test itself is broken");
    check_all("opencode_fixture_db_1_18_33", &env, &data, &sessions, &exp);
}

/// Both layouts at once (1.2+ migrates the tree into the database and keeps
/// the files): each session is one thread, items merged by key.
#[test]
fn opencode_tree_and_db_together() {
    let fixtures = require_fixtures!("opencode_tree_and_db_together");
    let env = Env::new();
    let data = env.tmp.path().join("data");
    let storage = data.join("opencode").join("storage");
    copy_dir(&fixtures.join("opencode/storage-1.1.65/storage"), &storage);
    fs::copy(
        fixtures.join("opencode/opencode-1.18.33.db"),
        data.join("opencode/opencode.db"),
    )
    .unwrap();
    let (mut sessions, mut parts) = read_tree(&storage);
    let Some((s2, p2)) = read_db(&data.join("opencode/opencode.db")) else {
        eprintln!("SKIPPED opencode_tree_and_db_together: no sqlite3 command");
        return;
    };
    sessions.extend(s2);
    parts.extend(p2);
    check_all(
        "opencode_tree_and_db_together",
        &env,
        &data,
        &sessions,
        &expected(parts),
    );
}

/// A new part file and a rewritten one (a tool call that completes) update
/// their items in place; nothing is duplicated.
#[test]
fn opencode_part_files_added_and_rewritten() {
    let fixtures = require_fixtures!("opencode_part_files_added_and_rewritten");
    let env = Env::new();
    let data = env.tmp.path().join("data");
    let storage = data.join("opencode").join("storage");
    copy_dir(&fixtures.join("opencode/storage-1.1.65/storage"), &storage);
    run_json(&env, &data, &["ingest", "--json"]);
    let sid = "ses_dffbe5252fferu11IJKICdf9mK";
    let mid = "msg_20041da29001LXue2Qfq9VL2wM";
    let id = format!("opencode-{sid}");
    let before = run_json(&env, &data, &["show", &id, "--json"])["items"]
        .as_array()
        .unwrap()
        .len();

    let text_part = storage.join(format!("part/{mid}/prt_20041da70001zzzzzzzzzzzzzz.json"));
    fs::write(
        &text_part,
        format!(r#"{{"id":"prt_20041da70001zzzzzzzzzzzzzz","sessionID":"{sid}","messageID":"{mid}","type":"text","text":"one more thing","time":{{"start":1795300645600}}}}"#),
    )
    .unwrap();
    let tool_part = storage.join(format!("part/{mid}/prt_20041da71001zzzzzzzzzzzzzz.json"));
    let tool = |state: &str| {
        format!(
            r#"{{"id":"prt_20041da71001zzzzzzzzzzzzzz","sessionID":"{sid}","messageID":"{mid}","type":"tool","callID":"call_x","tool":"bash","state":{state}}}"#
        )
    };
    fs::write(
        &tool_part,
        tool(
            r#"{"status":"running","input":{"command":"sleep 1"},"time":{"start":1795300645601}}"#,
        ),
    )
    .unwrap();
    let s = run_json(&env, &data, &["ingest", "--json"]);
    assert_eq!(num(&opencode_line(&s), &["files_read"]), Some(2), "{s:#}");
    let items = run_json(&env, &data, &["show", &id, "--json"])["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), before + 2);
    let got = shown(&items);
    assert_eq!(
        got.assistants.last().map(String::as_str),
        Some("one more thing")
    );
    let last = got.tools.last().unwrap();
    assert_eq!(last.status.as_deref(), Some("in_progress"));
    assert_eq!(last.output, None);
    // The new items sort after the message's earlier parts.
    let pos = |key: &str| {
        items
            .iter()
            .position(|i| str_field(i, "id").is_some_and(|s| s.ends_with(key)))
            .unwrap()
    };
    assert!(pos("p-prt_20041da69001mLP00aanyHCRk3") < pos("p-prt_20041da70001zzzzzzzzzzzzzz"));
    assert!(pos("p-prt_20041da70001zzzzzzzzzzzzzz") < pos("p-prt_20041da71001zzzzzzzzzzzzzz"));

    fs::write(&tool_part, tool(r#"{"status":"completed","input":{"command":"sleep 1"},"output":"done\n","title":"sleep","metadata":{"exit":0},"time":{"start":1795300645601,"end":1795300646601}}"#)).unwrap();
    let s = run_json(&env, &data, &["ingest", "--json"]);
    assert_eq!(num(&opencode_line(&s), &["files_read"]), Some(1), "{s:#}");
    let items = run_json(&env, &data, &["show", &id, "--json"])["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), before + 2, "no duplicates");
    let last = shown(&items).tools.last().cloned().unwrap();
    assert_eq!(last.status.as_deref(), Some("completed"));
    assert_eq!(last.output.as_deref(), Some("done\n"));
    let s = run_json(&env, &data, &["ingest", "--json"]);
    assert_eq!(num(&opencode_line(&s), &["files_read"]), Some(0), "{s:#}");
}
