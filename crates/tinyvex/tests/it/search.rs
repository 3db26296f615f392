//! Search acceptance: hand-made queries over the Codex and Claude Code
//! fixtures, each with the threads (and kinds) it must find. Covers words,
//! phrases, prefixes, filters, non-ASCII text, code identifiers, paths and
//! punctuation-heavy shell commands.

use std::collections::BTreeSet;
use std::fs;

use serde_json::Value;

use crate::util::Env;

const SPECTORA: &str = "codex-01997e76-d124-7592-9cac-2ec05abbca08";
const SERVICES: &str = "codex-0199812e-64f0-7f73-91fc-095dda01c36e";
const JAPANESE: &str = "claude-5c0375b4-57a5-4f26-b12d-d022ee4e51b7";

/// (query, threads that must be found — exactly, kinds the hits may have).
const CASES: &[(&str, &[&str], &[&str])] = &[
    // A code identifier inside tool output, messages and patches.
    ("useUpdateTeamMember", &[SPECTORA, SERVICES], &[]),
    // A path matches as written (a phrase of its parts).
    ("teams/services/getTeamsWithStats.ts", &[SPECTORA], &[]),
    // A punctuation-heavy shell command, quotes and pipe included.
    (
        r#"rg "paramsSchema" -n apps/spectora-labs/src/app/api | head"#,
        &[SPECTORA],
        &["tool_call"],
    ),
    // An exact phrase plus a file name.
    (
        r#""Update File" TeamSheet.tsx"#,
        &[SPECTORA],
        &["tool_call"],
    ),
    // A prefix.
    ("useTeamWith*", &[SPECTORA, SERVICES], &[]),
    // Filters: kind, provider, dates.
    ("getTeamsWithStats kind:user", &[SPECTORA], &["user"]),
    ("lint test check-types kind:user", &[SPECTORA], &["user"]),
    (
        "useUpdateTeamMember before:2030-01-01 provider:codex",
        &[SPECTORA, SERVICES],
        &[],
    ),
    ("useUpdateTeamMember after:2030-01-01", &[], &[]),
    ("NavUser.test.tsx provider:codex", &[], &[]),
    (
        "NavUser.test.tsx provider:claude",
        &["claude-full-session-four"],
        &[],
    ),
    // snake_case stays one word.
    ("tool_use_id", &["claude-full-session-five"], &["tool_call"]),
    // Non-ASCII: a Japanese run by its prefix (runs without spaces are one word).
    ("を最新の状態に*", &[JAPANESE], &["user"]),
    ("mdファイル*", &[JAPANESE], &["assistant"]),
];

fn setup() -> Option<Env> {
    let fixtures = crate::util::fixtures_dir()?;
    let env = Env::new();
    for name in crate::util::codex_fixture_names(&fixtures) {
        env.put_rollout(
            &name,
            &fs::read(fixtures.join("codex").join(&name)).unwrap(),
        );
    }
    let projects = env.home.join(".claude/projects/-fixtures");
    fs::create_dir_all(&projects).unwrap();
    for entry in fs::read_dir(fixtures.join("claude")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            fs::copy(&path, projects.join(path.file_name().unwrap())).unwrap();
        }
    }
    env.ingest();
    Some(env)
}

#[test]
fn hand_made_queries_find_the_expected_threads() {
    let Some(env) = setup() else {
        eprintln!("SKIPPED hand_made_queries_find_the_expected_threads: ../shared/fixtures not found (set TINYVEX_FIXTURES)");
        return;
    };
    let mut failures = Vec::new();
    for (query, threads, kinds) in CASES {
        let hits = env.run_json(&env.db, &["search", "--json", "-n", "200", query]);
        let hits = hits.as_array().unwrap();
        let found: BTreeSet<&str> = hits
            .iter()
            .map(|h| h["thread_id"].as_str().unwrap())
            .collect();
        let want: BTreeSet<&str> = threads.iter().copied().collect();
        if found != want {
            failures.push(format!("{query}: found {found:?}, want {want:?}"));
        }
        for h in hits {
            let kind = h["kind"].as_str().unwrap();
            if !kinds.is_empty() && !kinds.contains(&kind) {
                failures.push(format!(
                    "{query}: unexpected kind {kind} in {}",
                    h["item_id"]
                ));
            }
            check_hit_shape(query, h, &mut failures);
        }
        let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
        if scores.windows(2).any(|w| w[0] < w[1]) {
            failures.push(format!("{query}: hits not best first: {scores:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every hit carries the documented fields, and its highlights point at
/// text of the snippet.
fn check_hit_shape(query: &str, h: &Value, failures: &mut Vec<String>) {
    for key in [
        "thread_id",
        "item_id",
        "kind",
        "snippet",
        "score",
        "highlights",
        "provider",
    ] {
        if h.get(key).is_none() {
            failures.push(format!("{query}: hit without `{key}`: {h}"));
        }
    }
    let snippet: Vec<char> = h["snippet"].as_str().unwrap_or_default().chars().collect();
    let ranges = h["highlights"].as_array().cloned().unwrap_or_default();
    if ranges.is_empty() {
        failures.push(format!("{query}: no highlight in {h}"));
    }
    for r in ranges {
        let (s, e) = (
            r[0].as_u64().unwrap() as usize,
            r[1].as_u64().unwrap() as usize,
        );
        if s >= e || e > snippet.len() {
            failures.push(format!(
                "{query}: highlight {s}..{e} outside the snippet {h}"
            ));
        }
    }
}

#[test]
fn bad_queries_say_what_to_do() {
    let env = Env::new();
    env.ingest();
    for (query, says) in [
        ("provider:vim x", "one of codex, claude, opencode, gemini"),
        ("after:yesterday x", "YYYY-MM-DD"),
        ("provider:codex", "nothing to search for"),
    ] {
        let out = env
            .command_with_db(&env.db, &["search", query])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{query}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{query}: {err}");
    }
    let empty = env.run_json(&env.db, &["search", "--json", "nothing"]);
    assert_eq!(empty, serde_json::json!([]));
}

/// `ingest --no-search-index` stores everything and indexes nothing; the
/// next `tinyvex search` brings the index up to date and finds the item.
#[test]
fn an_ingest_without_the_index_leaves_search_to_catch_up() {
    let env = Env::new();
    let session = "0199aaaa-0000-7000-8000-000000000001";
    let lines = [
        serde_json::json!({"timestamp": "2026-12-01T00:00:00.000Z", "type": "session_meta",
            "payload": {"id": session, "timestamp": "2026-12-01T00:00:00.000Z", "cwd": "/w",
                        "originator": "codex_cli_rs", "cli_version": "0.169.0"}}),
        serde_json::json!({"timestamp": "2026-12-01T00:00:01.000Z", "type": "event_msg",
            "payload": {"type": "user_message", "message": "rotate the zanzibar credentials",
                        "images": [], "local_images": []}}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    env.put_rollout(
        &format!("rollout-2026-12-01T00-00-00-{session}.jsonl"),
        text.as_bytes(),
    );
    let summary = env.run_json(&env.db, &["ingest", "--json", "--no-search-index"]);
    assert_eq!(summary["items_added"], 1, "{summary}");
    let mut index_dir = env.db.as_os_str().to_owned();
    index_dir.push("-search");
    assert!(
        !std::path::Path::new(&index_dir).join("meta.json").exists(),
        "an index was written by an ingest told not to"
    );
    let hits = env.run_json(&env.db, &["search", "--json", "zanzibar"]);
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["thread_id"], format!("codex-{session}"));
    assert!(
        std::path::Path::new(&index_dir).join("meta.json").exists(),
        "search did not bring the index up to date"
    );
}
