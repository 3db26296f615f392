//! The mirror driven directly by a store and its writer.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tinyvex_model::{
    FileBatch, FileCursor, ItemKind, ItemPatch, ParsedEvent, ProviderKind, ThreadPatch,
};
use tinyvex_store::{ControlWrite, ItemQuery, Store, WriterClient};

use super::*;
use crate::{export, read_marker, ExportKind, ExportOptions, Target};

/// Bound for what should take milliseconds; hitting it fails the test.
const WAIT: Duration = Duration::from_secs(20);

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    writer: WriterClient,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let writer = store.start_writer().unwrap();
        Fixture { dir, store, writer }
    }

    fn codex_home(&self) -> PathBuf {
        self.dir.path().join("codex")
    }

    fn mirror(&self) -> MirrorClient {
        let options = MirrorOptions {
            interval: Duration::from_millis(100),
            poll: Duration::from_millis(100),
            ..MirrorOptions::new(self.codex_home())
        };
        MirrorClient::start(self.store.clone(), &self.writer, options).unwrap()
    }

    fn two_way(&self, on: bool) {
        self.writer
            .control(ControlWrite::SetSetting {
                key: TWO_WAY_SETTING.into(),
                value: on.to_string(),
            })
            .unwrap();
    }

    /// Append item `n` (a user prompt or an answer) to `session` of `provider`.
    fn add(&self, provider: ProviderKind, session: &str, n: u64) {
        let kind = if n.is_multiple_of(2) {
            ItemKind::User
        } else {
            ItemKind::Assistant
        };
        let events = vec![
            ParsedEvent::Thread(ThreadPatch {
                cwd: Some("/home/me/proj".into()),
                created_at: Some(1_767_225_600_000),
                ..ThreadPatch::default()
            }),
            ParsedEvent::Item(ItemPatch::text(
                format!("L{n}"),
                n as i64,
                kind,
                Some(1_767_225_600_000 + n as i64 * 1000),
                format!("message number {n}"),
            )),
        ];
        self.writer
            .submit(FileBatch {
                provider,
                path: format!("/src/{session}.jsonl"),
                session_id: Some(session.into()),
                events,
                raw: None,
                cursor: FileCursor {
                    offset: n + 1,
                    ..FileCursor::default()
                },
                bytes_read: 1,
                line_errors: Vec::new(),
                file_error: None,
                reset: false,
                gone: false,
            })
            .unwrap();
    }

    /// A fresh render of the thread as the mirror writes it.
    fn expected(&self, thread: &str) -> crate::Export {
        let r = self.store.read().unwrap();
        let t = r.thread_by_id(thread).unwrap().unwrap();
        let items = r.items(thread, ItemQuery::All).unwrap();
        let options = ExportOptions {
            utc_offset_minutes: Some(0),
            kind: ExportKind::Mirror,
            ..ExportOptions::default()
        };
        export(&t, &items, Target::Codex, &options).unwrap()
    }

    fn path_of(&self, thread: &str) -> PathBuf {
        mirror_dir(&self.codex_home()).join(self.expected(thread).file_name)
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Wait until the mirror has nothing pending and the file equals a fresh render.
fn wait_mirrored(f: &Fixture, mirror: &MirrorClient, thread: &str) {
    f.writer.flush().unwrap();
    let path = f.path_of(thread);
    wait_until(&format!("the mirror of {thread}"), || {
        let want = f.expected(thread).contents();
        mirror.stats().pending == 0 && std::fs::read(&path).ok().as_deref() == Some(want.as_bytes())
    });
}

/// A fixture with two-way on and one thread of `provider` (session
/// `session`, one item) mirrored: the mirror and the file's path.
fn one_thread_mirrored(provider: ProviderKind, session: &str) -> (Fixture, MirrorClient, PathBuf) {
    let f = Fixture::new();
    f.two_way(true);
    f.add(provider, session, 0);
    let mirror = f.mirror();
    let thread = format!("{provider}-{session}");
    wait_mirrored(&f, &mirror, &thread);
    let path = f.path_of(&thread);
    (f, mirror, path)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn off_by_default_then_on_mirrors_existing_threads_but_not_codex_ones() {
    let f = Fixture::new();
    for n in 0..3 {
        f.add(ProviderKind::Claude, "c1", n);
        f.add(ProviderKind::Codex, "x1", n);
    }
    f.writer.flush().unwrap();
    let mirror = f.mirror();
    // Off: a few polls go by and nothing is written.
    std::thread::sleep(Duration::from_millis(400));
    assert!(!mirror.stats().enabled);
    assert!(!f.codex_home().exists(), "nothing written while off");

    f.two_way(true);
    mirror.wake();
    wait_mirrored(&f, &mirror, "claude-c1");
    let stats = mirror.stats();
    assert!(stats.enabled);
    assert_eq!((stats.threads, stats.files_written), (1, 1), "{stats:?}");
    // Only the Claude thread: a Codex thread is Codex's own already.
    assert_eq!(
        files_in(&mirror_dir(&f.codex_home())),
        [f.path_of("claude-c1")]
    );
    let marker = read_marker(
        std::fs::read_to_string(f.path_of("claude-c1"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(marker.mirror);
    assert_eq!(marker.source_thread, "claude-c1");

    // It follows the thread as it grows.
    f.add(ProviderKind::Claude, "c1", 3);
    wait_mirrored(&f, &mirror, "claude-c1");
    mirror.stop();
}

/// The acceptance test of the issue, on the mirror alone: hundreds of
/// rapid updates to one thread while a reader keeps reading the file. Every
/// read sees a whole file (every line parses, the marker's count and digest
/// match), the end result is a fresh render of the final thread, and lines
/// are in the thread's order, each once.
#[test]
fn many_rapid_updates_give_a_valid_file_at_every_moment() {
    let (f, mirror, path) = one_thread_mirrored(ProviderKind::Claude, "busy");

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        let path = path.clone();
        std::thread::spawn(move || {
            let mut reads = 0u64;
            let mut versions = HashSet::new();
            while !stop.load(Ordering::Acquire) {
                let text = std::fs::read_to_string(&path).unwrap();
                check_whole(&text);
                versions.insert(text.len());
                reads += 1;
                // A reader, not a spinner: the machine may have two cores.
                std::thread::sleep(Duration::from_millis(10));
            }
            (reads, versions.len())
        })
    };
    // One commit per update, spread over a few seconds: many renders.
    for n in 1..=300 {
        f.add(ProviderKind::Claude, "busy", n);
        f.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    f.writer.flush().unwrap();
    wait_mirrored(&f, &mirror, "claude-busy");
    stop.store(true, Ordering::Release);
    let (reads, versions) = reader.join().unwrap();
    assert!(
        reads > 10 && versions > 2,
        "the reader saw too little: {reads} reads, {versions} versions"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    check_whole(&text);
    // The prompts and answers, in order, each once.
    let said: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["type"] == "event_msg")
                .then(|| v["payload"]["message"].as_str().map(str::to_string))
                .flatten()
        })
        .collect();
    let want: Vec<String> = (0..=300).map(|n| format!("message number {n}")).collect();
    assert_eq!(said, want);
    // Debounced: far fewer writes than updates.
    let stats = mirror.stats();
    assert!(stats.files_written < 150, "{stats:?}");
    mirror.stop();
}

/// Every line parses, no line repeats, and the marker's line count and
/// digest describe the rest: the file is one whole render.
fn check_whole(text: &str) {
    assert!(text.ends_with('\n'), "a partial file: {text:?}");
    let (first, rest) = text.split_once('\n').unwrap();
    let marker = read_marker(first).expect("first line carries the marker");
    let mut seen = HashSet::new();
    for line in rest.lines() {
        let _: serde_json::Value = serde_json::from_str(line).expect("every line parses");
        assert!(seen.insert(line), "a repeated line: {line}");
    }
    assert_eq!(rest.lines().count(), marker.lines);
    assert_eq!(crate::ids::sha1_hex(rest.as_bytes()), marker.sha1);
}

#[test]
fn a_restart_writes_nothing_and_resumes_from_the_saved_cursor() {
    let f = Fixture::new();
    f.two_way(true);
    for n in 0..4 {
        f.add(ProviderKind::Claude, "c1", n);
        f.add(ProviderKind::Gemini, "g1", n);
    }
    let mirror = f.mirror();
    wait_mirrored(&f, &mirror, "claude-c1");
    wait_mirrored(&f, &mirror, "gemini-g1");
    mirror.stop();
    let revision = f.writer.revision();
    let cursor = f.store.read().unwrap().cursor(CURSOR_CONSUMER).unwrap();
    assert_eq!(cursor, Some(revision), "the cursor is saved on stop");
    let before: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> =
        files_in(&mirror_dir(&f.codex_home()))
            .into_iter()
            .map(|p| {
                let m = std::fs::metadata(&p).unwrap();
                (p.clone(), std::fs::read(&p).unwrap(), m.modified().unwrap())
            })
            .collect();
    assert_eq!(before.len(), 2);

    // Restart: nothing changed since the cursor, nothing is read or written.
    let mirror = f.mirror();
    wait_until("the restarted mirror", || mirror.stats().enabled);
    std::thread::sleep(Duration::from_millis(300));
    let stats = mirror.stats();
    assert_eq!((stats.files_written, stats.unchanged), (0, 0), "{stats:?}");
    mirror.stop();

    // Even from revision 0 (a lost cursor), re-processing only re-renders:
    // same bytes, files not rewritten.
    f.writer
        .control(ControlWrite::SetCursor {
            consumer: CURSOR_CONSUMER.into(),
            revision: tinyvex_model::Revision(0),
        })
        .unwrap();
    let mirror = f.mirror();
    wait_until("the re-processing", || mirror.stats().unchanged == 2);
    let stats = mirror.stats();
    assert_eq!(stats.files_written, 0, "{stats:?}");
    mirror.stop();
    for (path, bytes, modified) in before {
        let m = std::fs::metadata(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(
            m.modified().unwrap(),
            modified,
            "{} was rewritten",
            path.display()
        );
    }
    assert_eq!(
        files_in(&mirror_dir(&f.codex_home())).len(),
        2,
        "no second file"
    );
}

#[test]
fn a_file_continued_in_codex_is_never_overwritten() {
    let f = Fixture::new();
    f.two_way(true);
    f.add(ProviderKind::Claude, "c1", 0);
    f.add(ProviderKind::Claude, "c2", 0);
    let mirror = f.mirror();
    wait_mirrored(&f, &mirror, "claude-c1");
    wait_mirrored(&f, &mirror, "claude-c2");
    let path = f.path_of("claude-c1");
    // Codex resumes the session and appends its turn.
    let continuation = r#"{"timestamp":"2026-01-01T00:10:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"continued in codex"}}"#;
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(continuation);
    text.push('\n');
    std::fs::write(&path, &text).unwrap();

    f.add(ProviderKind::Claude, "c1", 1);
    wait_until("the refusal", || mirror.stats().continued == 1);
    f.add(ProviderKind::Claude, "c1", 2);
    // The other thread is still mirrored.
    f.add(ProviderKind::Claude, "c2", 1);
    wait_mirrored(&f, &mirror, "claude-c2");
    let stats = mirror.stats();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "left alone");
    assert_eq!(stats.continued, 1, "counted once: {stats:?}");
    assert!(
        stats
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("claude-c1"),
        "{stats:?}"
    );
    assert_eq!(stats.threads, 1);
    mirror.stop();
}

#[test]
fn turning_it_off_stops_writing_and_on_again_catches_up() {
    let (f, mirror, path) = one_thread_mirrored(ProviderKind::Opencode, "o1");
    let written = std::fs::read(&path).unwrap();

    f.two_way(false);
    mirror.wake();
    wait_until("off", || !mirror.stats().enabled);
    f.add(ProviderKind::Opencode, "o1", 1);
    f.writer.flush().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        written,
        "not written while off"
    );

    f.two_way(true);
    mirror.wake();
    wait_mirrored(&f, &mirror, "opencode-o1");
    assert_ne!(std::fs::read(&path).unwrap(), written);
    mirror.stop();
}

/// A thread without a working directory cannot be resumed by Codex: it is
/// skipped (and counted), not an error, until it gets one.
#[test]
fn a_thread_without_a_working_directory_is_skipped() {
    let f = Fixture::new();
    f.two_way(true);
    f.writer
        .submit(FileBatch {
            provider: ProviderKind::Gemini,
            path: "/src/g.json".into(),
            session_id: Some("g".into()),
            events: vec![ParsedEvent::Item(ItemPatch::text(
                "L0".into(),
                0,
                ItemKind::User,
                Some(1),
                "no cwd".into(),
            ))],
            raw: None,
            cursor: FileCursor::default(),
            bytes_read: 1,
            line_errors: Vec::new(),
            file_error: None,
            reset: false,
            gone: false,
        })
        .unwrap();
    f.writer.flush().unwrap();
    let mirror = f.mirror();
    wait_until("the skip", || mirror.stats().skipped == 1);
    let stats = mirror.stats();
    assert_eq!((stats.files_written, stats.pending), (0, 0), "{stats:?}");
    assert_eq!(stats.last_error, None);
    mirror.stop();
}

/// A running Codex that resumed the mirror holds Codex's writer lock of the
/// session: the mirror leaves the file alone until the lock is released.
#[test]
fn a_session_codex_is_writing_is_not_replaced_until_it_is_done() {
    let (f, mirror, path) = one_thread_mirrored(ProviderKind::Claude, "c1");
    let written = std::fs::read(&path).unwrap();
    let session = f.expected("claude-c1").session_id;
    let lock_path = f
        .codex_home()
        .join(format!("thread-writer-locks/{session}.lock"));
    assert!(
        !lock_path.exists(),
        "the mirror removes the lock file after a write"
    );
    let codex = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    codex.lock().unwrap();

    f.add(ProviderKind::Claude, "c1", 1);
    f.writer.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        written,
        "replaced under a running Codex"
    );
    assert_eq!(mirror.stats().pending, 1);
    drop(codex);
    std::fs::remove_file(&lock_path).unwrap();
    wait_mirrored(&f, &mirror, "claude-c1");
    assert!(!lock_path.exists());
    mirror.stop();
}
