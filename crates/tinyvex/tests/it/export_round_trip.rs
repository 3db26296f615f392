//! Round trip of `tinyvex export` on every fixture of every provider:
//! ingest → export (to Codex, and to Claude Code) → ingest the exports
//! into a fresh store → the same prompts, answers and tool calls (command
//! or name, output), in the same order.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{copy_dir, Env, Mismatches};

/// Every fixture where its provider looks, under `env`'s home.
fn place_fixtures(env: &Env, fixtures: &Path) {
    // Codex: $CODEX_HOME/sessions/…
    let day = env.day_dir(1);
    for e in fs::read_dir(fixtures.join("codex")).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, day.join(p.file_name().unwrap())).unwrap();
    }
    // Claude Code: ~/.claude/projects/<dir>/…, loose files in one folder.
    let projects = env.home.join(".claude/projects");
    copy_dir(&fixtures.join("claude/projects"), &projects);
    for e in fs::read_dir(fixtures.join("claude")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jsonl") {
            let dst = projects.join("-fixtures").join(p.file_name().unwrap());
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::copy(&p, dst).unwrap();
        }
    }
    // OpenCode: ~/.local/share/opencode/{storage,opencode.db}.
    let opencode = env.home.join(".local/share/opencode");
    copy_dir(
        &fixtures.join("opencode/storage-1.1.65/storage"),
        &opencode.join("storage"),
    );
    fs::copy(
        fixtures.join("opencode/opencode-1.18.33.db"),
        opencode.join("opencode.db"),
    )
    .unwrap();
    // Gemini CLI: ~/.gemini (a whole home, and loose ≤ 0.28 chats by hash).
    let gemini = env.home.join(".gemini");
    for e in fs::read_dir(fixtures.join("gemini")).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_dir(&p, &gemini);
        } else {
            let doc: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
            let hash = doc["projectHash"].as_str().unwrap_or("nohash");
            let dst = gemini.join("tmp").join(hash).join("chats");
            fs::create_dir_all(&dst).unwrap();
            fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// `tinyvex --db <db> <args>` with `HOME`, `CODEX_HOME` and
/// `CLAUDE_CONFIG_DIR` as given; stdout as JSON, or the failure's stderr.
fn run(
    env: &Env,
    db: &Path,
    home: &Path,
    roots: (&Path, &Path),
    args: &[&str],
) -> Result<Value, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_tinyvex"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("CODEX_HOME", roots.0)
        .env("CLAUDE_CONFIG_DIR", roots.1)
        .current_dir(env.tmp.path())
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run tinyvex");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`tinyvex {}` printed no JSON: {e}", args.join(" ")))
}

/// A tool name as the Claude Code export writes it.
fn claude_tool_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// True when a plan call's input lists steps (`plan` or `todos` array).
fn plan_steps(input: Option<&str>) -> bool {
    let v: Value = input
        .and_then(|i| serde_json::from_str(i).ok())
        .unwrap_or(Value::Null);
    v.get("plan")
        .or_else(|| v.get("todos"))
        .is_some_and(Value::is_array)
}

/// The comparable transcript of a shown thread: prompts, answers,
/// (Codex only) reasoning, and tool calls as `shell: <command>`,
/// `plan` or `<name>`, each with its output when the source has one.
fn transcript(items: &[Value], target: &str, source: Option<&[Value]>) -> Vec<String> {
    let mut out = Vec::new();
    let mut source_tools = source.map(|s| {
        s.iter()
            .filter(|i| i["kind"] == "tool_call")
            .collect::<Vec<_>>()
            .into_iter()
    });
    for i in items {
        let text = |i: &Value| i["text"].as_str().unwrap_or("").trim().to_string();
        match i["kind"].as_str().unwrap() {
            "user" => out.push(format!("user: {}", text(i))),
            "assistant" => out.push(format!("assistant: {}", text(i))),
            "reasoning" if target == "codex" => out.push(format!("reasoning: {}", text(i))),
            "tool_call" => {
                // The output is compared only where the source had one (a
                // call without output is written as "aborted" where the
                // target needs a result).
                let had_output = match source_tools.as_mut() {
                    Some(it) => it.next().is_some_and(|s| s["output"].is_string()),
                    None => i["output"].is_string(),
                };
                let what = match (i["tool_kind"].as_str(), i["command"].as_str()) {
                    (Some("shell"), Some(cmd)) if !cmd.is_empty() => format!("shell: {cmd}"),
                    // A plan call is mapped to the target's plan tool when its
                    // input holds the steps (the redacted fixtures' may not).
                    (Some("plan"), _) if plan_steps(i["input"].as_str()) => "plan".to_string(),
                    _ => {
                        let name = i["name"].as_str().unwrap_or("tool");
                        if target == "claude" {
                            claude_tool_name(name)
                        } else {
                            name.to_string()
                        }
                    }
                };
                let output = if had_output {
                    format!(" → {}", i["output"].as_str().unwrap_or("<none>"))
                } else {
                    String::new()
                };
                out.push(format!("tool {what}{output}"));
            }
            _ => {}
        }
    }
    out
}

fn round_trip(target: &str) {
    let test = format!("export_round_trip_to_{target}");
    let fixtures = require_fixtures!(test);
    let env = Env::new();
    place_fixtures(&env, &fixtures);
    let claude_home = env.home.join(".claude");
    let source_roots = (env.codex_home.as_path(), claude_home.as_path());
    let summary = run(
        &env,
        &env.db,
        &env.home,
        source_roots,
        &["ingest", "--json"],
    )
    .unwrap();
    let threads = run(
        &env,
        &env.db,
        &env.home,
        source_roots,
        &["threads", "--json", "--limit", "100000"],
    )
    .unwrap();
    let threads = threads.as_array().unwrap();

    // Exports go to their own roots; the original files must stay as they were.
    let export_codex: PathBuf = env.tmp.path().join("export/codex");
    let export_claude: PathBuf = env.tmp.path().join("export/claude");
    let export_roots = (export_codex.as_path(), export_claude.as_path());
    let mut m = Mismatches::new(test.clone());
    let mut exported = Vec::new();
    let mut per_provider = std::collections::BTreeMap::<String, usize>::new();
    for t in threads {
        let id = t["id"].as_str().unwrap();
        let mut args = vec!["export", id, "--to", target, "--json"];
        if t["cwd"].as_str().is_none_or(|c| !c.starts_with('/')) {
            args.extend(["--cwd", "/fixtures/unknown-cwd"]);
        }
        match run(&env, &env.db, &env.home, export_roots, &args) {
            Ok(v) => {
                *per_provider
                    .entry(t["provider"].as_str().unwrap().to_string())
                    .or_default() += 1;
                exported.push((t.clone(), v));
            }
            Err(e) if e.contains("no messages or tool calls to export") => {}
            Err(e) => m.fail(format!("export of {id} failed: {e}")),
        }
    }
    for provider in ["codex", "claude", "opencode", "gemini"] {
        m.value(
            &format!("{provider} threads exported (at least one)"),
            true,
            per_provider.get(provider).copied().unwrap_or(0) > 0,
        );
    }

    // A fresh store that sees only the exports.
    let db2 = env.tmp.path().join("exports.sqlite3");
    let empty_home = env.tmp.path().join("empty-home");
    fs::create_dir_all(&empty_home).unwrap();
    let summary2 = run(&env, &db2, &empty_home, export_roots, &["ingest", "--json"]).unwrap();
    m.value(
        "errors ingesting the exports",
        0,
        summary2["errors"].as_u64().unwrap_or(99),
    );
    let threads2 = run(
        &env,
        &db2,
        &empty_home,
        export_roots,
        &["threads", "--json", "--limit", "100000"],
    )
    .unwrap();
    m.value(
        "threads in the export store",
        exported.len(),
        threads2.as_array().unwrap().len(),
    );
    for (t, e) in &exported {
        let id = t["id"].as_str().unwrap();
        let session = e["session_id"].as_str().unwrap();
        let src = run(
            &env,
            &env.db,
            &env.home,
            source_roots,
            &["show", id, "--json"],
        )
        .unwrap();
        let Ok(back) = run(
            &env,
            &db2,
            &empty_home,
            export_roots,
            &["show", session, "--json"],
        ) else {
            m.fail(format!("{id}: export {session} was not ingested"));
            continue;
        };
        m.value(
            &format!("{id}: provider of the export"),
            target,
            back["thread"]["provider"].as_str().unwrap_or(""),
        );
        m.value(
            &format!("{id}: parent of the export"),
            t["session_id"].as_str(),
            back["thread"]["parent_session_id"].as_str(),
        );
        let src_items = src["items"].as_array().unwrap();
        let expected = transcript(src_items, target, None);
        let got = transcript(back["items"].as_array().unwrap(), target, Some(src_items));
        m.list(&format!("{id} → {target}"), &expected, &got);
    }
    // The originals are untouched: a second ingest of the source finds nothing new.
    let again = run(
        &env,
        &env.db,
        &env.home,
        source_roots,
        &["ingest", "--json"],
    )
    .unwrap();
    m.value(
        "files read by a second source ingest",
        0,
        again["files_read"].as_u64().unwrap_or(99),
    );
    m.value(
        "store revision after it",
        summary["revision"].clone(),
        again["revision"].clone(),
    );
    eprintln!(
        "{test}: {} threads exported ({per_provider:?}), {} skipped as empty",
        exported.len(),
        threads.len() - exported.len()
    );
    m.finish();
}

#[test]
fn export_round_trip_to_codex() {
    round_trip("codex");
}

#[test]
fn export_round_trip_to_claude() {
    round_trip("claude");
}
