//! The search indexer's threads run at a lower priority than the writer
//! (Linux). A test binary of its own: it looks at every thread of the
//! process, and other tests' index writers would be among them.

mod common;

use common::*;

/// The nice value of every thread of this process whose name starts with
/// `prefix` (Linux: field 19 of `/proc/self/task/<tid>/stat`).
#[cfg(target_os = "linux")]
fn nice_of_threads(prefix: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue; // the thread ended meanwhile
        };
        // Fields after the parenthesized name: state is field 3, nice field 19.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        out.push(after.split(' ').nth(16).unwrap().parse().unwrap());
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn indexing_threads_yield_to_the_writer() {
    let (_dir, store) = open();
    let writer = store.start_writer().unwrap();
    // The indexer and tantivy's indexing threads it started run at a lower
    // priority; the writer (and so the process) does not.
    // A thread takes its name once it runs (until then it shows its
    // creator's): wait for tantivy's to show theirs.
    let started = std::time::Instant::now();
    let mut tantivy = nice_of_threads("thrd-tantivy");
    while tantivy.is_empty() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(10));
        tantivy = nice_of_threads("thrd-tantivy");
    }
    let indexer = nice_of_threads("tinyvex-indexer");
    assert!(!indexer.is_empty() && !tantivy.is_empty());
    assert!(
        indexer.iter().chain(&tantivy).all(|&n| n == 10),
        "{indexer:?} {tantivy:?}"
    );
    let writers = nice_of_threads("tinyvex-writer");
    assert!(
        !writers.is_empty() && writers.iter().all(|&n| n == 0),
        "{writers:?}"
    );
    writer.shutdown().unwrap();
}
