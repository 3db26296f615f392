//! Builders shared by the store tests.
#![allow(dead_code)]

use rusqlite::types::Value;
use tinyvex_model::{
    FileBatch, FileCursor, ItemKind, ItemPatch, LineError, ParsedEvent, ProviderKind, RawRecord,
    ThreadPatch, ToolPatch, ToolStatus,
};
use tinyvex_store::{Reader, Store, StoreOptions};

pub fn open() -> (tempfile::TempDir, Store) {
    open_with(StoreOptions::default())
}

pub fn open_with(opts: StoreOptions) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(&dir.path().join("sub/dir/tinyvex.db"), opts).unwrap();
    (dir, store)
}

pub fn batch(
    provider: ProviderKind,
    path: &str,
    session: Option<&str>,
    offset: u64,
    events: Vec<ParsedEvent>,
) -> FileBatch {
    FileBatch {
        provider,
        path: path.to_string(),
        session_id: session.map(str::to_string),
        events,
        cursor: FileCursor {
            dev: 1,
            ino: 42,
            size: offset,
            mtime_ns: 1_000,
            offset,
            parser_state: format!("{{\"at\":{offset}}}"),
        },
        bytes_read: offset,
        line_errors: Vec::new(),
        file_error: None,
        reset: false,
        gone: false,
        raw: None,
    }
}

pub fn text(key: &str, seq: i64, kind: ItemKind, ts: i64, body: &str) -> ParsedEvent {
    ParsedEvent::Item(ItemPatch::text(
        key.into(),
        seq,
        kind,
        Some(ts),
        body.into(),
    ))
}

pub fn tool(key: &str, seq: i64, ts: Option<i64>, patch: ToolPatch) -> ParsedEvent {
    ParsedEvent::Item(ItemPatch {
        key: key.into(),
        seq,
        kind: ItemKind::ToolCall,
        ts,
        text: None,
        tool: Some(patch),
        data: None,
    })
}

pub fn call(input: &str) -> ToolPatch {
    ToolPatch {
        call_id: Some("call_1".into()),
        tool_kind: Some("shell".into()),
        name: Some("exec_command".into()),
        command: Some("ls -la".into()),
        input: Some(input.into()),
        status: Some(ToolStatus::InProgress),
        started_at: Some(1_000),
        ..ToolPatch::default()
    }
}

pub fn output(out: &str, code: i64) -> ToolPatch {
    ToolPatch {
        output: Some(out.into()),
        exit_code: Some(code),
        status: Some(if code == 0 {
            ToolStatus::Completed
        } else {
            ToolStatus::Failed
        }),
        ended_at: Some(2_000),
        ..ToolPatch::default()
    }
}

pub fn raw(offset: u64, body: &str) -> ParsedEvent {
    ParsedEvent::Raw(RawRecord {
        offset,
        kind: "response_item".into(),
        text: body.into(),
    })
}

pub fn meta(patch: ThreadPatch) -> ParsedEvent {
    ParsedEvent::Thread(patch)
}

pub fn line_error(offset: u64, message: &str) -> LineError {
    LineError {
        offset,
        message: message.into(),
    }
}

/// Every row of every table, in a stable order.
pub fn dump(reader: &Reader) -> Vec<(String, Vec<Vec<Value>>)> {
    let conn = reader.connection();
    let mut out = Vec::new();
    for table in [
        "meta",
        "threads",
        "items",
        "files",
        "raw_chunks",
        "ingest_errors",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        out.push((table.to_string(), rows));
    }
    out
}

pub fn count(reader: &Reader, sql: &str) -> i64 {
    reader
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}
