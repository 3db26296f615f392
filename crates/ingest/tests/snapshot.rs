//! Snapshot sources (documents rewritten whole) through a tiny fake provider:
//! each `*.json` file is `{"session": "...", "messages": ["...", ...]}`.

use std::path::{Path, PathBuf};

use tinyvex_ingest::{IngestOptions, Ingestor, NoProgress};
use tinyvex_model::{ItemKind, ItemPatch, ParsedEvent, ProviderKind, RawRecord};
use tinyvex_providers::{
    Discovered, Error, LineParser, Provider, SessionEvents, Snapshot, SourceMode,
};
use tinyvex_store::{ItemQuery, Store};

struct Docs(PathBuf);

impl Provider for Docs {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }
    fn roots(&self) -> Vec<PathBuf> {
        vec![self.0.clone()]
    }
    fn discover(&self) -> Vec<Discovered> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|path| Discovered {
                path,
                problem: None,
            })
            .collect()
    }
    fn mode(&self, _path: &Path) -> SourceMode {
        SourceMode::Snapshot
    }
    fn line_parser(&self, _: &Path, _: Option<&str>) -> Result<Box<dyn LineParser>, Error> {
        unreachable!("snapshot provider")
    }
    fn read_snapshot(&self, path: &Path, state: Option<&str>) -> Result<Snapshot, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
        let reads = state.and_then(|s| s.parse::<u32>().ok()).unwrap_or(0) + 1;
        let mut events = vec![ParsedEvent::Raw(RawRecord {
            offset: 0,
            kind: "doc".into(),
            text,
        })];
        for (i, m) in doc["messages"].as_array().unwrap().iter().enumerate() {
            let text = m.as_str().unwrap().to_string();
            events.push(ParsedEvent::Item(ItemPatch::text(
                format!("m{i}"),
                i as i64,
                ItemKind::User,
                None,
                text,
            )));
        }
        Ok(Snapshot {
            sessions: vec![SessionEvents {
                session_id: doc["session"].as_str().unwrap().into(),
                events,
            }],
            errors: Vec::new(),
            state: reads.to_string(),
            complete: true,
        })
    }
}

fn ingest(store: &Store, providers: &[Box<dyn Provider>]) -> u64 {
    let writer = store.start_writer().unwrap();
    let reader = store.read().unwrap();
    let summary = Ingestor::new(providers, writer.clone(), IngestOptions::default())
        .run_once(&reader, &NoProgress)
        .unwrap();
    writer.shutdown().unwrap();
    summary.providers[0].files_read
}

fn texts(store: &Store) -> Vec<String> {
    let reader = store.read().unwrap();
    let items = reader.items("gemini-s1", ItemQuery::All).unwrap();
    items.into_iter().map(|i| i.text.unwrap()).collect()
}

#[test]
fn rewritten_documents_are_read_again_and_unchanged_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let file = docs.join("a.json");
    std::fs::write(&file, r#"{"session":"s1","messages":["hello"]}"#).unwrap();
    let providers: Vec<Box<dyn Provider>> = vec![Box::new(Docs(docs.clone()))];

    // Each pass reopens the store, as separate `tinyvex ingest` runs do.
    let db = dir.path().join("db.sqlite3");
    assert_eq!(ingest(&Store::open(&db).unwrap(), &providers), 1);
    assert_eq!(texts(&Store::open(&db).unwrap()), vec!["hello"]);
    assert_eq!(
        ingest(&Store::open(&db).unwrap(), &providers),
        0,
        "unchanged: not read"
    );

    std::fs::write(&file, r#"{"session":"s1","messages":["hello","again"]}"#).unwrap();
    assert_eq!(ingest(&Store::open(&db).unwrap(), &providers), 1);
    let store = Store::open(&db).unwrap();
    assert_eq!(texts(&store), vec!["hello", "again"]);
    // The raw log holds the new document only, and the provider's state moved on.
    let reader = store.read().unwrap();
    let raw = reader
        .raw_records(ProviderKind::Gemini, file.to_str().unwrap())
        .unwrap();
    assert_eq!(raw.len(), 1);
    assert!(raw[0].text.contains("again"));
    let cursors = reader.file_cursors(ProviderKind::Gemini).unwrap();
    assert!(cursors[file.to_str().unwrap()]
        .parser_state
        .contains("\"parser\":\"2\""));

    // A half-written document is a file error; what was stored stays.
    std::fs::write(&file, r#"{"session":"s1","messa"#).unwrap();
    ingest(&store, &providers);
    assert_eq!(texts(&store), vec!["hello", "again"]);
    let status = store.read().unwrap().status().unwrap();
    let gemini = status.iter().find(|s| s.provider == "gemini").unwrap();
    assert_eq!(gemini.errors, 1, "{gemini:?}");
}
