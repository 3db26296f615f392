//! Reading `opencode.db` (OpenCode 1.2+): read-only, never writing, rows
//! newer than the previous read (`time_updated`), one [`SessionEvents`] per
//! session touched.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tinyvex_model::{LineError, ParsedEvent, RawRecord};

use super::records::{self, MessageInfo};
use crate::{SessionEvents, Snapshot};

/// How long to wait for a writer holding a lock.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// Bits of a raw offset for the row id; above them the table tag (4 bits),
/// then the read number.
const ROWID_BITS: u32 = 36;
const READ_SHIFT: u32 = 40;

/// Where the previous read stopped, per table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct DbState {
    /// Reads so far (makes raw offsets unique across reads).
    reads: u64,
    /// Per table: the newest `time_updated` seen and the row ids having it.
    tables: BTreeMap<String, Mark>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Mark {
    max: i64,
    at_max: Vec<i64>,
}

/// Events gathered per session, in first-touch order.
#[derive(Default)]
struct Sessions {
    list: Vec<SessionEvents>,
    index: HashMap<String, usize>,
}

impl Sessions {
    fn events(&mut self, session_id: &str) -> &mut Vec<ParsedEvent> {
        let i = *self.index.entry(session_id.to_string()).or_insert_with(|| {
            self.list.push(SessionEvents {
                session_id: session_id.to_string(),
                events: Vec::new(),
            });
            self.list.len() - 1
        });
        &mut self.list[i].events
    }
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(names)
}

fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(format!("<blob of {} bytes>", b.len())),
    }
}

/// One row: its rowid and its columns by name.
struct Row {
    rowid: i64,
    cols: Map<String, Value>,
}

impl Row {
    fn str(&self, k: &str) -> Option<&str> {
        self.cols
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
    fn int(&self, k: &str) -> Option<i64> {
        self.cols.get(k).and_then(Value::as_i64)
    }
}

/// Rows of `table` changed since `mark` (all rows without one), in `order`.
fn changed_rows(
    conn: &Connection,
    table: &str,
    cols: &HashSet<String>,
    order: &str,
    mark: Option<&Mark>,
) -> rusqlite::Result<Vec<Row>> {
    let incremental = cols.contains("time_updated");
    let filter = match (incremental, mark) {
        (true, Some(m)) => format!("WHERE time_updated >= {}", m.max),
        _ => String::new(),
    };
    let sql = format!("SELECT rowid AS __rowid, * FROM \"{table}\" {filter} ORDER BY {order}");
    let mut stmt = conn.prepare(&sql)?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let mut map = Map::new();
        for (i, n) in names.iter().enumerate().skip(1) {
            map.insert(n.clone(), json_of(r.get_ref(i)?));
        }
        let row = Row { rowid, cols: map };
        if let (true, Some(m)) = (incremental, mark) {
            if row.int("time_updated") == Some(m.max) && m.at_max.contains(&rowid) {
                continue; // read last time, unchanged since
            }
        }
        out.push(row);
    }
    Ok(out)
}

/// The new mark of a table after reading `rows`.
fn advance(old: Option<&Mark>, rows: &[Row]) -> Option<Mark> {
    let mut mark = old.cloned();
    for r in rows {
        let Some(t) = r.int("time_updated") else {
            continue;
        };
        match &mut mark {
            Some(m) if t < m.max => {}
            Some(m) if t == m.max => {
                if !m.at_max.contains(&r.rowid) {
                    m.at_max.push(r.rowid);
                }
            }
            _ => {
                mark = Some(Mark {
                    max: t,
                    at_max: vec![r.rowid],
                })
            }
        }
    }
    mark
}

/// The row's `data` column parsed, with the id columns put back in.
fn data_object(row: &Row, ids: &[(&str, Option<&str>)]) -> Result<Value, String> {
    let data = row.str("data").unwrap_or("{}");
    let mut v: Value = serde_json::from_str(data).map_err(|e| format!("data is not JSON: {e}"))?;
    let Value::Object(map) = &mut v else {
        return Err("data is not a JSON object".into());
    };
    for (k, val) in ids {
        if let Some(val) = val {
            map.insert(k.to_string(), Value::String(val.to_string()));
        }
    }
    Ok(v)
}

/// Read the database: rows changed since `state`.
pub(crate) fn read(path: &Path, state: Option<&str>) -> Result<Snapshot, String> {
    let prev: Option<DbState> = state.and_then(|s| serde_json::from_str(s).ok());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open database: {e}"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| format!("cannot set busy timeout: {e}"))?;
    read_conn(&conn, prev).map_err(|e| format!("cannot read database: {e}"))
}

fn read_conn(conn: &Connection, prev: Option<DbState>) -> rusqlite::Result<Snapshot> {
    let complete = prev.is_none();
    let prev = prev.unwrap_or_default();
    let reads = if complete { 0 } else { prev.reads + 1 };
    let offset = |tag: u64, rowid: i64| {
        (reads << READ_SHIFT) | (tag << ROWID_BITS) | (rowid as u64 & ((1 << ROWID_BITS) - 1))
    };
    // One read transaction: a consistent view while OpenCode writes.
    conn.execute_batch("BEGIN")?;
    let mut out = Sessions::default();
    let mut errors = Vec::new();
    let mut state = DbState {
        reads,
        tables: BTreeMap::new(),
    };

    let cols = columns(conn, "session")?;
    if cols.contains("id") {
        let rows = changed_rows(conn, "session", &cols, "rowid", prev.tables.get("session"))?;
        for row in &rows {
            let Some(id) = row.str("id") else { continue };
            let mut info = Map::new();
            info.insert("id".into(), id.into());
            for (col, key) in [
                ("directory", "directory"),
                ("parent_id", "parentID"),
                ("version", "version"),
                ("title", "title"),
            ] {
                if let Some(v) = row.str(col) {
                    info.insert(key.into(), v.into());
                }
            }
            let mut time = Map::new();
            for (col, key) in [("time_created", "created"), ("time_updated", "updated")] {
                if let Some(t) = row.int(col) {
                    time.insert(key.into(), t.into());
                }
            }
            info.insert("time".into(), Value::Object(time));
            let info = Value::Object(info);
            let events = out.events(id);
            events.push(ParsedEvent::Raw(RawRecord {
                offset: offset(1, row.rowid),
                kind: "session".into(),
                text: Value::Object(row.cols.clone()).to_string(),
            }));
            records::session_events(&info, events);
        }
        if let Some(m) = advance(prev.tables.get("session"), &rows) {
            state.tables.insert("session".into(), m);
        }
    }

    let mut messages: HashMap<String, MessageInfo> = HashMap::new();
    let cols = columns(conn, "message")?;
    if ["id", "session_id", "data"]
        .iter()
        .all(|c| cols.contains(*c))
    {
        let order = if cols.contains("time_created") {
            "time_created, id"
        } else {
            "id"
        };
        let rows = changed_rows(conn, "message", &cols, order, prev.tables.get("message"))?;
        for row in &rows {
            let (Some(id), Some(sid)) = (row.str("id"), row.str("session_id")) else {
                continue;
            };
            let off = offset(2, row.rowid);
            let parsed = data_object(row, &[("id", Some(id)), ("sessionID", Some(sid))]);
            let kind = parsed
                .as_ref()
                .map_or_else(|_| "invalid".into(), |v| records::raw_kind("message", v));
            let events = out.events(sid);
            events.push(ParsedEvent::Raw(RawRecord {
                offset: off,
                kind,
                text: Value::Object(row.cols.clone()).to_string(),
            }));
            match parsed {
                Ok(v) => {
                    records::message_events(&v, events);
                    messages.insert(id.to_string(), MessageInfo::of(&v));
                }
                Err(message) => errors.push(LineError {
                    offset: off,
                    message,
                }),
            }
        }
        if let Some(m) = advance(prev.tables.get("message"), &rows) {
            state.tables.insert("message".into(), m);
        }
    }
    let message_cols = cols;

    let cols = columns(conn, "part")?;
    if ["id", "message_id", "data"]
        .iter()
        .all(|c| cols.contains(*c))
    {
        let rows = changed_rows(
            conn,
            "part",
            &cols,
            "message_id, id",
            prev.tables.get("part"),
        )?;
        let mut lookup = (message_cols.contains("data") && message_cols.contains("session_id"))
            .then(|| conn.prepare("SELECT session_id, data FROM message WHERE id = ?1"))
            .transpose()?;
        let mut msg_session: HashMap<String, String> = HashMap::new();
        for row in &rows {
            let (Some(id), Some(mid)) = (row.str("id"), row.str("message_id")) else {
                continue;
            };
            if !messages.contains_key(mid)
                || (row.str("session_id").is_none() && !msg_session.contains_key(mid))
            {
                let found: Option<(Option<String>, Option<String>)> = match &mut lookup {
                    Some(stmt) => stmt
                        .query_row([mid], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?,
                    None => None,
                };
                let (sid, data) = found.unwrap_or((None, None));
                let info = data
                    .and_then(|d| serde_json::from_str::<Value>(&d).ok())
                    .map(|v| MessageInfo::of(&v))
                    .unwrap_or_default();
                messages.insert(mid.to_string(), info);
                if let Some(sid) = sid {
                    msg_session.insert(mid.to_string(), sid);
                }
            }
            let sid = match row.str("session_id") {
                Some(s) => s.to_string(),
                None => match msg_session.get(mid) {
                    Some(s) => s.clone(),
                    None => continue,
                },
            };
            let off = offset(3, row.rowid);
            let parsed = data_object(
                row,
                &[
                    ("id", Some(id)),
                    ("messageID", Some(mid)),
                    ("sessionID", Some(&sid)),
                ],
            );
            let kind = parsed
                .as_ref()
                .map_or_else(|_| "invalid".into(), |v| records::raw_kind("part", v));
            let events = out.events(&sid);
            events.push(ParsedEvent::Raw(RawRecord {
                offset: off,
                kind,
                text: Value::Object(row.cols.clone()).to_string(),
            }));
            match parsed {
                Ok(v) => records::part_events(&v, &messages[mid], events),
                Err(message) => errors.push(LineError {
                    offset: off,
                    message,
                }),
            }
        }
        if let Some(m) = advance(prev.tables.get("part"), &rows) {
            state.tables.insert("part".into(), m);
        }
    }
    conn.execute_batch("COMMIT")?;
    // Tables without a `time_updated` column keep no mark and are read whole.
    for (k, m) in prev.tables {
        state.tables.entry(k).or_insert(m);
    }
    Ok(Snapshot {
        sessions: out.list,
        errors,
        state: serde_json::to_string(&state).unwrap_or_default(),
        complete,
    })
}
