//! The Claude Code corpus generator: deterministic, valid, the requested size, appends that
//! continue session files.

use std::path::Path;

use tinyvex_bench::append::AppendOptions;
use tinyvex_bench::claude::{self, check_corpus, list_jsonl, ClaudeReport};
use tinyvex_bench::corpus::GenOptions;

fn gen(dir: &Path, size: u64, files: Option<usize>, avg: u64, seed: u64) -> ClaudeReport {
    let opts = GenOptions {
        out: dir.to_path_buf(),
        size,
        files,
        avg_file_size: avg,
        seed,
    };
    claude::generate(&opts, |_| {}).expect("generate")
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    gen(a.path(), 3 << 20, None, 256 << 10, 7);
    gen(b.path(), 3 << 20, None, 256 << 10, 7);
    gen(c.path(), 3 << 20, None, 256 << 10, 8);
    let (sa, sb, sc) = (snapshot(a.path()), snapshot(b.path()), snapshot(c.path()));
    assert!(!sa.is_empty());
    assert!(sa == sb, "same seed must give identical corpora");
    assert!(sa != sc, "another seed must give another corpus");
}

#[test]
fn every_line_is_valid_and_files_are_consistent() {
    let d = tempfile::tempdir().unwrap();
    let r = gen(d.path(), 8 << 20, None, 200 << 10, 1);
    let check = check_corpus(d.path()).unwrap();
    assert_eq!(check.error_count, 0, "{:#?}", check.errors);
    assert_eq!(check.files, r.total.files);
    assert_eq!(check.lines, r.total.lines);
    assert!(r.total.files > r.sessions, "no sub-agent files");
    for kind in [
        "user",
        "user:tool_result",
        "assistant:thinking",
        "assistant:text",
        "assistant:tool_use",
        "summary",
        "file-history-snapshot",
        "queue-operation",
        "progress",
        "ai-title",
        "last-prompt",
        "system:api_error",
    ] {
        assert!(
            check.kinds.contains_key(kind),
            "no {kind} line; kinds: {:?}",
            check.kinds.keys()
        );
    }
    assert!(check.kinds.keys().any(|k| k.starts_with("attachment:")));
    // Both sub-agent layouts, with the 2.1 meta files.
    let all = list_jsonl(&d.path().join("projects")).unwrap();
    let in_subagents = |p: &std::path::PathBuf| p.parent().unwrap().ends_with("subagents");
    assert!(all.iter().any(in_subagents));
    assert!(all.iter().any(|p| !in_subagents(p)
        && p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("agent-")));
    // Every line is valid JSON (independently of the checker) and names its session.
    for p in &all {
        for l in std::fs::read_to_string(p).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v.is_object());
        }
    }
}

#[test]
fn sizes_within_five_percent() {
    for (size, files, avg) in [
        (2u64 << 20, Some(4), 0),
        (8 << 20, None, 1 << 20),
        (5 << 20, None, 200 << 10),
    ] {
        let d = tempfile::tempdir().unwrap();
        let r = gen(d.path(), size, files, avg.max(1), 3);
        let ratio = r.total.bytes as f64 / size as f64;
        assert!(
            (0.95..=1.05).contains(&ratio),
            "asked {size}, wrote {} ({ratio:.3})",
            r.total.bytes
        );
        if let Some(n) = files {
            assert_eq!(r.sessions, n);
        }
        let on_disk: u64 = list_jsonl(&d.path().join("projects"))
            .unwrap()
            .iter()
            .map(|p| p.metadata().unwrap().len())
            .sum();
        assert_eq!(on_disk, r.total.bytes);
    }
}

#[test]
fn append_continues_files_validly() {
    let d = tempfile::tempdir().unwrap();
    let before = gen(d.path(), 4 << 20, Some(20), 1, 5);
    for round in 0..2 {
        let r = claude::append(&AppendOptions {
            dir: d.path().to_path_buf(),
            files: 5,
            lines: 250,
            seed: 9,
        })
        .unwrap();
        assert_eq!(r.files.len(), 5);
        assert_eq!(r.lines, 1250);
        let check = check_corpus(d.path()).unwrap();
        assert_eq!(check.error_count, 0, "round {round}: {:#?}", check.errors);
        assert_eq!(check.lines, before.total.lines + 1250 * (round + 1) as u64);
    }
}
