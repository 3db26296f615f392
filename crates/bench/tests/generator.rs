//! The corpus generator: deterministic, valid, the requested size, appends that continue files.

use std::path::Path;

use tinyvex_bench::append::{append, AppendOptions};
use tinyvex_bench::corpus::{generate, list_rollouts, GenOptions};
use tinyvex_bench::session::Format;
use tinyvex_bench::validate::check_corpus;

fn gen(
    dir: &Path,
    size: u64,
    files: Option<usize>,
    avg: u64,
    seed: u64,
) -> tinyvex_bench::corpus::GenReport {
    let opts = GenOptions {
        out: dir.to_path_buf(),
        size,
        files,
        avg_file_size: avg,
        seed,
    };
    generate(&opts, |_| {}).expect("generate")
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    list_rollouts(&dir.join("sessions"))
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
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
    let r = gen(d.path(), 6 << 20, None, 100 << 10, 1);
    let check = check_corpus(d.path()).unwrap();
    assert_eq!(check.error_count, 0, "{:#?}", check.errors);
    assert_eq!(check.files, r.total.files);
    assert_eq!(check.lines, r.total.lines);
    // Every format and the important record kinds show up.
    for f in [Format::V040, Format::Current, Format::Paginated] {
        assert!(
            r.by_format.contains_key(&f),
            "no {f:?} file in {:?}",
            r.by_format.keys()
        );
    }
    for kind in [
        "session_meta",
        "turn_context",
        "response_item:reasoning",
        "response_item:function_call",
        "response_item:custom_tool_call",
        "event_msg:item_completed",
        "event_msg:user_message",
        "event_msg:task_complete",
        "token_usage_record",
        "world_state",
    ] {
        assert!(
            check.kinds.contains_key(kind),
            "no {kind} line; kinds: {:?}",
            check.kinds.keys()
        );
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
            assert_eq!(r.total.files, n);
        }
        let on_disk: u64 = list_rollouts(&d.path().join("sessions"))
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
    let before = gen(d.path(), 4 << 20, Some(30), 1, 5);
    for round in 0..2 {
        let r = append(&AppendOptions {
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
