//! Building rollout trees from the fixtures, and dumping a whole store
//! through the CLI for before/after comparisons.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::codex_fixtures::rollout_name;
use crate::rules::{complete_lines, uuid_in_name};
use crate::util::{codex_fixture_names, first_text_difference, str_field, without_revisions, Env};

/// A fixture's bytes and the rollout name to store it under.
pub struct Fixture {
    pub file: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

pub fn load_codex_fixtures(fixtures: &Path) -> Vec<Fixture> {
    codex_fixture_names(fixtures)
        .into_iter()
        .map(|file| {
            let bytes = fs::read(fixtures.join("codex").join(&file)).unwrap();
            Fixture {
                name: rollout_name(&file),
                file,
                bytes,
            }
        })
        .collect()
}

/// The session id a file declares: its first record's `payload.id`
/// (envelope `session_meta`) or `id` (legacy meta), else the name's uuid.
pub fn session_id_of(bytes: &[u8], name: &str) -> String {
    let first = complete_lines(bytes)
        .into_iter()
        .find_map(|(_, l)| serde_json::from_slice::<Value>(l).ok());
    let from_meta = first.and_then(|v| {
        let id = if v.get("type").and_then(Value::as_str) == Some("session_meta") {
            v["payload"].get("id")
        } else {
            v.get("id")
        };
        id.and_then(Value::as_str).map(str::to_string)
    });
    from_meta
        .or_else(|| uuid_in_name(name))
        .unwrap_or_else(|| panic!("{name} declares no session id"))
}

/// A uuid-shaped id unique to `(a, b)`.
pub fn fake_uuid(a: u64, b: u64) -> String {
    format!("{:08x}-7e57-4000-8000-{:012x}", a, b)
}

/// `bytes` with every occurrence of `old` replaced by `new` (same length, so offsets stay).
pub fn with_session_id(bytes: &[u8], old: &str, new: &str) -> Vec<u8> {
    assert_eq!(old.len(), new.len(), "session ids must keep their length");
    let mut out = bytes.to_vec();
    let hits: Vec<usize> = memchr::memmem::find_iter(bytes, old.as_bytes()).collect();
    for at in hits {
        out[at..at + new.len()].copy_from_slice(new.as_bytes());
    }
    out
}

/// A copy of `fx` as its own thread: new session id `uuid`, stored as
/// `rollout-2026-01-01T00-00-00-<uuid>.jsonl` in `dir`.
pub fn write_copy(fx: &Fixture, uuid: &str, dir: &Path) -> PathBuf {
    let old = session_id_of(&fx.bytes, &fx.name);
    let path = dir.join(format!("rollout-2026-01-01T00-00-00-{uuid}.jsonl"));
    fs::write(&path, with_session_id(&fx.bytes, &old, uuid)).unwrap();
    path
}

/// Everything the CLI shows about a store: `threads --json` and `show --json` per thread.
#[derive(Debug, PartialEq)]
pub struct Dump {
    pub threads: Value,
    pub shows: BTreeMap<String, Value>,
}

pub fn dump(env: &Env, db: &Path) -> Dump {
    let threads = env.threads_in(db);
    let mut shows = BTreeMap::new();
    for t in &threads {
        let id = str_field(t, "id").expect("thread id").to_string();
        shows.insert(id.clone(), env.show_in(db, &id));
    }
    Dump {
        threads: Value::Array(threads),
        shows,
    }
}

impl Dump {
    pub fn without_revisions(&self) -> Dump {
        let mut threads = without_revisions(&self.threads);
        if let Value::Array(list) = &mut threads {
            list.sort_by(|a, b| str_field(a, "id").cmp(&str_field(b, "id")));
        }
        Dump {
            threads,
            shows: self
                .shows
                .iter()
                .map(|(k, v)| (k.clone(), without_revisions(v)))
                .collect(),
        }
    }
}

/// Panics, pointing at the first differing line of the first differing
/// part, unless both dumps are identical.
pub fn assert_same_dump(context: &str, expected: &Dump, got: &Dump) {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
    let mut problems = Vec::new();
    if expected.threads != got.threads {
        problems.push(format!(
            "`threads --json` differs:\n{}",
            first_text_difference(&pretty(&expected.threads), &pretty(&got.threads))
        ));
    }
    let ids: std::collections::BTreeSet<&String> =
        expected.shows.keys().chain(got.shows.keys()).collect();
    for id in ids {
        match (expected.shows.get(id), got.shows.get(id)) {
            (Some(e), Some(g)) if e == g => {}
            (Some(e), Some(g)) => problems.push(format!(
                "`show {id} --json` differs:\n{}",
                first_text_difference(&pretty(e), &pretty(g))
            )),
            (e, _) => problems.push(format!(
                "thread {id} is only in the {} dump",
                if e.is_some() { "expected" } else { "got" }
            )),
        }
        if problems.len() >= 5 {
            problems.push("(stopping after 5 differences)".into());
            break;
        }
    }
    assert!(
        problems.is_empty(),
        "\n\n{context}:\n\n{}\n",
        problems.join("\n\n")
    );
}
