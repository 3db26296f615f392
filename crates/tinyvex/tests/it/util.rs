//! Small helpers for the black-box tests: where the fixtures are, a throwaway
//! `HOME`/`CODEX_HOME`/store per test, running the real `tinyvex` binary, and
//! comparisons that print expected vs got in full.
//!
//! Deliberately independent of every Tinyvex crate (including
//! `tinyvex-test-support`): the tests only see the binary and the raw files.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Skips the calling test, loudly, when the shared fixtures are missing.
/// Evaluates to the fixtures directory.
macro_rules! require_fixtures {
    ($test:expr) => {
        match $crate::util::fixtures_dir() {
            Some(dir) => dir,
            None => {
                eprintln!(
                    "SKIPPED {}: ../shared/fixtures not found (set TINYVEX_FIXTURES)",
                    $test
                );
                return;
            }
        }
    };
}

/// `assert_eq!` that prints both sides in full (`{:#?}`) and where they first differ.
macro_rules! eqnice {
    ($expected:expr, $got:expr $(,)?) => {
        eqnice!($expected, $got, "values differ")
    };
    ($expected:expr, $got:expr, $($ctx:tt)+) => {{
        let (expected, got) = (&$expected, &$got);
        if expected != got {
            let (e, g) = (format!("{expected:#?}"), format!("{got:#?}"));
            panic!(
                "\n\n{}\n\n==== expected ====\n{e}\n==== got ====\n{g}\n==== first difference ====\n{}\n",
                format!($($ctx)+),
                $crate::util::first_text_difference(&e, &g),
            );
        }
    }};
}

/// Copy the folder `src` to `dst`, recursively (files with their permissions).
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The workspace root (`crates/tinyvex` → `crates` → root).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/tinyvex is two levels down")
        .to_path_buf()
}

/// `$TINYVEX_FIXTURES`, else `<repo>/../shared/fixtures`; `None` when it is not a directory.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TINYVEX_FIXTURES") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join("..").join("shared").join("fixtures"),
    };
    dir.is_dir().then_some(dir)
}

/// Every `*.jsonl` file name in `<fixtures>/codex`, sorted.
pub fn codex_fixture_names(fixtures: &Path) -> Vec<String> {
    let dir = fixtures.join("codex");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

/// True when this process runs as root (where `chmod 000` does not stop reads).
pub fn running_as_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:"));
    match uid_line {
        Some(line) => line.split_whitespace().nth(2) == Some("0"), // effective uid
        None => Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.trim_ascii() == b"0")
            .unwrap_or(false),
    }
}

/// A throwaway world: `HOME`, `CODEX_HOME` and a store, all inside one temp dir.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub codex_home: PathBuf,
    pub db: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::Builder::new()
            .prefix("tinyvex-it-")
            .tempdir()
            .expect("temp dir");
        let home = tmp.path().join("home");
        let codex_home = tmp.path().join("codex");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(codex_home.join("sessions")).unwrap();
        let db = tmp.path().join("db.sqlite3");
        Env {
            tmp,
            home,
            codex_home,
            db,
        }
    }

    /// `$CODEX_HOME/sessions/2026/01/<day>`, created.
    pub fn day_dir(&self, day: u32) -> PathBuf {
        let dir = self
            .codex_home
            .join("sessions")
            .join("2026")
            .join("01")
            .join(format!("{day:02}"));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes `bytes` as `$CODEX_HOME/sessions/2026/01/01/<name>`; returns the path.
    pub fn put_rollout(&self, name: &str, bytes: &[u8]) -> PathBuf {
        assert!(
            name.starts_with("rollout-") && name.ends_with(".jsonl"),
            "not a rollout name: {name}"
        );
        let path = self.day_dir(1).join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    /// `tinyvex --db <db> <args>` with a scrubbed environment.
    pub fn command_with_db(&self, db: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinyvex"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("CODEX_HOME", &self.codex_home)
            .env("RUST_BACKTRACE", "1")
            .current_dir(self.tmp.path())
            .arg("--db")
            .arg(db)
            .args(args);
        cmd
    }

    /// Runs a command; panics (with stdout and stderr) unless it exits 0.
    pub fn run_with_db(&self, db: &Path, args: &[&str]) -> Output {
        let out = self
            .command_with_db(db, args)
            .output()
            .expect("cannot start the tinyvex binary");
        if !out.status.success() {
            panic!(
                "`tinyvex --db {} {}` failed with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                db.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    pub fn run_json(&self, db: &Path, args: &[&str]) -> Value {
        let out = self.run_with_db(db, args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "`tinyvex {}` printed no JSON ({e}):\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `ingest --json`: the summary object.
    pub fn ingest(&self) -> Value {
        self.ingest_into(&self.db)
    }

    pub fn ingest_into(&self, db: &Path) -> Value {
        let v = self.run_json(db, &["ingest", "--json"]);
        assert!(
            v.is_object(),
            "ingest --json must print one JSON object, got {v:#}"
        );
        v
    }

    /// `threads --json` (no limit in practice): the array.
    pub fn threads(&self) -> Vec<Value> {
        self.threads_in(&self.db)
    }

    pub fn threads_in(&self, db: &Path) -> Vec<Value> {
        match self.run_json(db, &["threads", "--json", "--limit", "1000000"]) {
            Value::Array(a) => a,
            other => panic!("threads --json must print an array, got {other:#}"),
        }
    }

    /// `show <id> --json`: `{"thread": .., "items": [..]}`.
    pub fn show(&self, id: &str) -> Value {
        self.show_in(&self.db, id)
    }

    pub fn show_in(&self, db: &Path, id: &str) -> Value {
        let v = self.run_json(db, &["show", id, "--json"]);
        assert!(
            v.get("thread").is_some_and(Value::is_object),
            "show --json lacks `thread`: {v:#}"
        );
        assert!(
            v.get("items").is_some_and(Value::is_array),
            "show --json lacks `items`: {v:#}"
        );
        v
    }

    /// `status --json`: the Codex entry, whether the output is an array of
    /// per-provider objects or an object keyed by provider.
    pub fn codex_status(&self) -> Value {
        let v = self.run_json(&self.db, &["status", "--json"]);
        codex_entry(&v).unwrap_or_else(|| panic!("status --json has no codex entry: {v:#}"))
    }
}

/// The `codex` object of a `status --json` output (array or keyed object).
pub fn codex_entry(status: &Value) -> Option<Value> {
    match status {
        Value::Array(list) => list
            .iter()
            .find(|p| p.get("provider").and_then(Value::as_str) == Some("codex"))
            .cloned(),
        Value::Object(map) => map
            .get("codex")
            .cloned()
            .or_else(|| map.get("providers").and_then(codex_entry)),
        _ => None,
    }
}

/// A numeric field, also accepting the first of several candidate names.
pub fn num(v: &Value, names: &[&str]) -> Option<u64> {
    names.iter().find_map(|n| v.get(*n).and_then(Value::as_u64))
}

/// The string field `name`, `None` for null or missing.
pub fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// Removes every `revision` key, recursively.
pub fn without_revisions(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k != "revision")
                .map(|(k, v)| (k.clone(), without_revisions(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_revisions).collect()),
        other => other.clone(),
    }
}

/// JSON text with object keys sorted, for order-insensitive comparison.
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String((*k).clone()),
                        canonical_json(&map[*k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`) to milliseconds since the epoch.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = format!("{:0<3}", &s[start..i]);
        ms = frac[..3].parse().ok()?;
    }
    let offset_min = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let m = tz[1..3].parse::<i64>().ok()? * 60 + tz[4..6].parse::<i64>().ok()?;
            if tz.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = if y2 >= 0 { y2 } else { y2 - 399 } / 400;
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + ms)
}

/// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (for messages).
pub fn ms_to_rfc3339(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Where two texts first differ: line number and a few lines of each side.
pub fn first_text_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let Some(i) = (0..e.len().max(g.len())).find(|&i| e.get(i) != g.get(i)) else {
        return "(none found line by line)".to_string();
    };
    let from = i.saturating_sub(3);
    let show = |v: &[&str]| {
        v.iter()
            .enumerate()
            .skip(from)
            .take(8)
            .map(|(n, l)| format!("{:>6}| {l}\n", n + 1))
            .collect::<String>()
    };
    format!(
        "at line {}\n-- expected --\n{}-- got --\n{}",
        i + 1,
        show(&e),
        show(&g)
    )
}

/// Collects mismatches so one run reports all of them.
#[derive(Default)]
pub struct Mismatches {
    pub context: String,
    pub problems: Vec<String>,
}

/// Inline everything up to this size; beyond it the full dumps go to files.
const INLINE_LIMIT: usize = 60_000;

impl Mismatches {
    pub fn new(context: impl Into<String>) -> Mismatches {
        Mismatches {
            context: context.into(),
            problems: Vec::new(),
        }
    }

    /// Compares two values (usually lists); on a mismatch records the first
    /// differing element and the full lists (inline, or written to files when huge).
    pub fn list<T: Debug + PartialEq>(&mut self, what: &str, expected: &[T], got: &[T]) {
        if expected == got {
            return;
        }
        let idx = (0..expected.len().max(got.len()))
            .find(|&i| expected.get(i) != got.get(i))
            .unwrap_or(0);
        let mut msg = format!(
            "{what}: expected {} entries, got {}; first difference at index {idx}\n-- expected[{idx}] --\n{:#?}\n-- got[{idx}] --\n{:#?}\n",
            expected.len(),
            got.len(),
            expected.get(idx),
            got.get(idx)
        );
        let (e, g) = (format!("{expected:#?}"), format!("{got:#?}"));
        if e.len() + g.len() <= INLINE_LIMIT {
            msg.push_str(&format!(
                "-- expected (full) --\n{e}\n-- got (full) --\n{g}\n"
            ));
        } else {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tinyvex-it-dumps");
            fs::create_dir_all(&dir).unwrap();
            let stem: String = format!("{}-{what}", self.context)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let (pe, pg) = (
                dir.join(format!("{stem}.expected.txt")),
                dir.join(format!("{stem}.got.txt")),
            );
            fs::write(&pe, &e).unwrap();
            fs::write(&pg, &g).unwrap();
            msg.push_str(&format!(
                "(full lists are large; written to\n  {}\n  {}\n diff them with `diff -u`)\n{}",
                pe.display(),
                pg.display(),
                first_text_difference(&e, &g)
            ));
        }
        self.problems.push(msg);
    }

    pub fn value<T: Debug + PartialEq>(&mut self, what: &str, expected: T, got: T) {
        if expected != got {
            self.problems.push(format!(
                "{what}:\n-- expected --\n{expected:#?}\n-- got --\n{got:#?}\n"
            ));
        }
    }

    pub fn fail(&mut self, msg: String) {
        self.problems.push(msg);
    }

    /// Panics with every recorded mismatch.
    pub fn finish(self) {
        if !self.problems.is_empty() {
            panic!(
                "\n\n{} mismatch(es) in {}:\n\n{}",
                self.problems.len(),
                self.context,
                self.problems
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("#{} {p}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}
