//! The live watch service on a temp Codex home with real files. Waits are
//! bounded polls; nothing asserts on how fast a write shows up.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use tinyvex_ingest::{
    IngestSummary, JobKind, JobProgress, JobState, WatchClient, WatchEvents, WatchOptions,
    WatchService,
};
use tinyvex_model::ProviderKind;
use tinyvex_store::{ItemQuery, Store};

const A: &str = "01a20040-17cf-78f2-80e0-f2cc1b712842";
const B: &str = "01a20040-17cf-78f2-80e0-f2cc1b712843";

#[derive(Default)]
struct Recorder {
    jobs: Mutex<Vec<JobProgress>>,
    commits: Mutex<Vec<IngestSummary>>,
}

impl WatchEvents for Recorder {
    fn job(&self, progress: &JobProgress) {
        self.jobs.lock().unwrap().push(progress.clone());
    }
    fn committed(&self, summary: &IngestSummary) {
        self.commits.lock().unwrap().push(summary.clone());
    }
}

impl Recorder {
    fn states(&self, id: u64) -> Vec<JobState> {
        let jobs = self.jobs.lock().unwrap();
        jobs.iter()
            .filter(|j| j.job_id == id)
            .map(|j| j.state)
            .collect()
    }
    fn last(&self, id: u64) -> Option<JobProgress> {
        let jobs = self.jobs.lock().unwrap();
        jobs.iter().rev().find(|j| j.job_id == id).cloned()
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn items(store: &Store, uuid: &str) -> Vec<(String, u64)> {
    let reader = store.read().unwrap();
    let items = reader.items(&thread_id(uuid), ItemQuery::All).unwrap();
    items
        .into_iter()
        .map(|i| (i.text.unwrap_or_default(), i.revision))
        .collect()
}

fn start(home: &Path, rescan_every: Duration) -> (Store, WatchClient, Arc<Recorder>) {
    let store = Store::open(&home.join("db.sqlite3")).unwrap();
    let writer = store.start_writer().unwrap();
    let recorder = Arc::new(Recorder::default());
    let options = WatchOptions {
        rescan_every,
        ..WatchOptions::default()
    };
    let client = WatchService::start(
        codex(home),
        store.clone(),
        writer,
        options,
        recorder.clone(),
    )
    .unwrap();
    (store, client, recorder)
}

/// Long enough that only filesystem events can explain what a test sees.
const NO_RESCAN: Duration = Duration::from_secs(3600);

#[test]
fn appends_and_new_files_are_ingested_live_and_backfill_changes_no_item() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    let (store, client, recorder) = start(dir.path(), NO_RESCAN);

    // The initial job (the first id) reads the existing file.
    wait_until("the initial job", || {
        recorder.states(1).contains(&JobState::Done)
    });
    let initial = recorder.last(1).unwrap();
    assert_eq!(initial.kind, JobKind::Initial);
    assert_eq!((initial.files_done, initial.files_total), (1, 1));
    assert_eq!(items(&store, A).len(), 1);

    append_user(&a, "a2", 2);
    // The pass's counters are updated just after its commit becomes visible:
    // wait for both, or a loaded machine sees the item with `passes` still 1.
    wait_until("the appended item and its pass counted", || {
        items(&store, A).len() == 2 && client.stats()[0].passes >= 2
    });
    let stats = &client.stats()[0];
    assert_eq!(stats.provider, "codex");
    assert!(stats.enabled);
    assert!(stats.last_lag_ms.is_some() && stats.max_lag_ms.is_some());
    assert!(stats.fs_events > 0 && stats.passes >= 2, "{stats:?}");
    assert!(stats.last_commit_at.is_some());
    assert_eq!(stats.files_known, 1);
    let root = dir.path().join("sessions").display().to_string();
    assert_eq!(stats.watched_roots, vec![root]);
    assert!(!recorder.commits.lock().unwrap().is_empty());

    // A new session file in a new folder.
    let other = dir.path().join("sessions/2026/01/02");
    std::fs::create_dir_all(&other).unwrap();
    write_session(&other, B, "b1");
    wait_until("the new file", || items(&store, B).len() == 1);
    wait_until("the known set", || client.stats()[0].files_known == 2);

    // A backfill re-reads both files: the items come out the same, with
    // their revisions untouched (the store's revision does move, as the
    // raw log of each file is replaced; see tests/pass.rs).
    let before = (items(&store, A), items(&store, B));
    let job = client.backfill(None);
    wait_until("the backfill", || {
        recorder.states(job).contains(&JobState::Done)
    });
    let states = recorder.states(job);
    assert_eq!(states.first(), Some(&JobState::Running));
    assert_eq!(states.last(), Some(&JobState::Done));
    let done = recorder.last(job).unwrap();
    assert_eq!(
        (done.kind, done.files_done, done.files_total),
        (JobKind::Backfill, 2, 2)
    );
    assert_eq!((items(&store, A), items(&store, B)), before);

    // An explicit rescan with nothing new.
    let job = client.rescan();
    wait_until("the rescan", || {
        recorder.states(job).contains(&JobState::Done)
    });
    assert_eq!(recorder.last(job).unwrap().files_total, 0);

    let started = Instant::now();
    client.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_disabled_provider_is_not_read_until_enabled_again() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    let (store, client, recorder) = start(dir.path(), NO_RESCAN);
    wait_until("the initial job", || {
        recorder.states(1).contains(&JobState::Done)
    });

    client.set_enabled(ProviderKind::Codex, false);
    assert!(!client.stats()[0].enabled);
    wait_until("the watch to go", || {
        client.stats()[0].watched_roots.is_empty()
    });
    append_user(&a, "a2", 2);
    // A rescan covers enabled providers only.
    let job = client.rescan();
    wait_until("the rescan", || {
        recorder.states(job).contains(&JobState::Done)
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(items(&store, A).len(), 1);

    client.set_enabled(ProviderKind::Codex, true);
    wait_until("the catch-up", || items(&store, A).len() == 2);
    append_user(&a, "a3", 3);
    wait_until("a live append", || items(&store, A).len() == 3);
    client.shutdown();
}

#[test]
fn a_root_created_later_is_watched_at_the_next_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let (store, client, recorder) = start(dir.path(), Duration::from_millis(100));
    wait_until("the initial job", || {
        recorder.states(1).contains(&JobState::Done)
    });
    assert!(client.stats()[0].watched_roots.is_empty());

    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    wait_until("the first file", || items(&store, A).len() == 1);
    wait_until("the watch", || client.stats()[0].watched_roots.len() == 1);
    append_user(&a, "a2", 2);
    wait_until("the append", || items(&store, A).len() == 2);
    client.shutdown();
}

#[test]
fn shutdown_during_a_backfill_is_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    for i in 0..300 {
        write_session(&sessions, &format!("01a20040-17cf-78f2-80e0-{i:012}"), "x");
    }
    let (_store, client, recorder) = start(dir.path(), NO_RESCAN);
    let job = client.backfill(Some(ProviderKind::Codex));
    wait_until("the backfill to start", || !recorder.states(job).is_empty());
    let started = Instant::now();
    // Dropping the last handle stops the service like `shutdown`.
    drop(client);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
#[ignore = "measurement, run by hand"]
fn measure_write_to_store_latency() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = sessions_dir(dir.path());
    let a = write_session(&sessions, A, "a1");
    let (store, client, recorder) = start(dir.path(), NO_RESCAN);
    wait_until("the initial job", || {
        recorder.states(1).contains(&JobState::Done)
    });
    let mut lat = Vec::new();
    for n in 0..50u32 {
        let t = Instant::now();
        append_user(&a, &format!("m{n}"), n % 60);
        // A tight poll: the figure is the service's, not the poll's.
        while items(&store, A).len() != n as usize + 2 {
            assert!(t.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_micros(200));
        }
        lat.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    lat.sort();
    eprintln!(
        "p50 {:?} p90 {:?} max {:?} stats {:?}",
        lat[25],
        lat[45],
        lat[49],
        client.stats()[0]
    );
    client.shutdown();
}
