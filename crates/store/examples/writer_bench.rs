//! Writer throughput on synthetic Codex-like batches:
//! `cargo run --release -p tinyvex-store --example writer_bench -- [MiB] [db path]`.

use std::time::Instant;

use tinyvex_model::{
    FileBatch, FileCursor, ItemKind, ItemPatch, ParsedEvent, ProviderKind, RawRecord, ToolPatch,
};
use tinyvex_store::{Store, StoreOptions};

fn main() {
    let mib: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::args()
        .nth(2)
        .map(Into::into)
        .unwrap_or_else(|| dir.path().join("bench.db"));
    let store = Store::open_with(&path, StoreOptions::default()).unwrap();
    let writer = store.start_writer().unwrap();
    let line = "x".repeat(1500);
    let started = Instant::now();
    let (mut total, mut file) = (0u64, 0u64);
    while total < mib << 20 {
        file += 1;
        let mut offset = 0u64;
        // ~20 MiB per file, in 4 MiB batches.
        for _ in 0..5 {
            let mut events = Vec::new();
            let start = offset;
            while offset - start < 4 << 20 {
                let seq = offset as i64;
                events.push(ParsedEvent::Raw(RawRecord {
                    offset,
                    kind: "response_item".into(),
                    text: line.clone(),
                }));
                let item = if seq % 3 == 0 {
                    ItemPatch {
                        key: format!("call_{seq}"),
                        seq,
                        kind: ItemKind::ToolCall,
                        ts: Some(seq),
                        text: None,
                        tool: Some(ToolPatch {
                            name: Some("exec_command".into()),
                            input: Some(line[..400].into()),
                            ..Default::default()
                        }),
                        data: None,
                    }
                } else {
                    ItemPatch::text(
                        seq.to_string(),
                        seq,
                        ItemKind::Assistant,
                        Some(seq),
                        line[..600].into(),
                    )
                };
                events.push(ParsedEvent::Item(item));
                offset += line.len() as u64 + 1;
            }
            let bytes = offset - start;
            total += bytes;
            writer
                .submit(FileBatch {
                    provider: ProviderKind::Codex,
                    path: format!("/bench/{file}.jsonl"),
                    session_id: Some(format!("sess-{file}")),
                    events,
                    cursor: FileCursor {
                        offset,
                        size: offset,
                        ..Default::default()
                    },
                    bytes_read: bytes,
                    line_errors: Vec::new(),
                    file_error: None,
                    reset: false,
                    gone: false,
                    raw: None,
                })
                .unwrap();
        }
    }
    let rev = writer.flush().unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} MiB in {secs:.2}s = {:.0} MiB/s, {rev} commits",
        total >> 20,
        (total >> 20) as f64 / secs
    );
    writer.shutdown().unwrap();
}
