//! Deleting the source files of snapshot providers (Gemini CLI chats,
//! OpenCode's storage tree) keeps every thread and item, marked
//! `source_missing`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{copy_dir, str_field, Env};

/// Every thread as shown, by id.
fn shown(env: &Env) -> Vec<(String, Value)> {
    env.threads()
        .iter()
        .map(|t| {
            let id = str_field(t, "id").unwrap().to_string();
            let show = env.show(&id);
            (id, show)
        })
        .collect()
}

fn check_deletion(env: &Env, remove: &Path, provider: &str) {
    env.ingest();
    let before = shown(env);
    assert!(
        before.iter().any(|(id, _)| id.starts_with(provider)),
        "no {provider} thread"
    );
    fs::remove_dir_all(remove).unwrap();
    env.ingest();
    let after = shown(env);
    assert_eq!(before.len(), after.len(), "threads are kept");
    for ((id, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(a["items"], b["items"], "{id}: items are kept");
        assert_eq!(a["thread"]["source_missing"], true, "{id}");
    }
}

#[test]
fn deleted_gemini_chats_keep_their_threads() {
    let fixtures = require_fixtures!("deleted_gemini_chats_keep_their_threads");
    let env = Env::new();
    let chats = env.home.join(".gemini/tmp/0123abcd/chats");
    fs::create_dir_all(&chats).unwrap();
    for entry in fs::read_dir(fixtures.join("gemini")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            fs::copy(&path, chats.join(path.file_name().unwrap())).unwrap();
        }
    }
    check_deletion(&env, &env.home.join(".gemini/tmp/0123abcd"), "gemini");
}

#[test]
fn deleted_opencode_storage_keeps_its_threads() {
    let fixtures = require_fixtures!("deleted_opencode_storage_keeps_its_threads");
    let env = Env::new();
    let storage = env.home.join(".local/share/opencode/storage");
    copy_dir(&fixtures.join("opencode/storage-1.1.65/storage"), &storage);
    check_deletion(&env, &storage, "opencode");
}
