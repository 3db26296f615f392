//! Realistic-looking text: prose, markdown answers, code, paths, shell commands and their
//! outputs, patches, opaque blobs and ids. Everything is drawn from the caller's [`Rng`].

use std::fmt::Write as _;

use crate::rng::Rng;

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "a", "to", "of", "and", "in", "is", "that", "for", "it", "with", "as", "on", "this",
    "be", "we", "can", "not", "are", "from", "or", "by", "so", "if", "when", "then", "now", "only",
    "each", "all", "new", "one", "after", "before", "still", "also", "which", "should", "would",
    "will", "need", "check", "make", "keep", "update", "read", "write", "run", "fix", "add",
    "remove", "handle", "return", "call", "use", "move", "rename", "look", "find", "test", "build",
    "parse", "load", "store", "send", "file", "files", "function", "value", "values", "type",
    "error", "errors", "result", "state", "path", "line", "lines", "change", "changes", "case",
    "cases", "code", "config", "module", "crate", "package", "component", "request", "response",
    "query", "index", "table", "column", "row", "cache", "buffer", "cursor", "offset", "thread",
    "session", "message", "event", "item", "batch", "writer", "reader", "server", "client",
    "socket", "handler", "route", "schema", "migration", "field", "struct", "enum", "trait",
    "method", "closure", "iterator", "test", "fixture", "snapshot", "output", "input", "option",
    "default", "missing", "empty", "invalid", "stale", "current", "existing", "previous", "first",
    "last", "small", "large", "slow", "fast", "safe", "simple", "correct", "actual", "expected",
    "same", "other", "because", "instead", "without", "between", "through", "around", "already",
    "probably", "likely", "properly", "directly", "quickly", "again", "here", "there", "where",
    "what", "how", "why", "it's", "don't", "doesn't", "I'll", "let's", "we're", "user", "team",
    "lead", "dashboard", "sheet", "list", "page", "view", "form", "button", "modal", "hook",
    "props", "render", "memo", "context", "provider", "token", "usage", "limit", "timeout", "retry",
    "lock", "mutex", "channel", "task", "future", "await", "async", "sync", "commit", "branch",
    "diff", "patch", "merge", "rebase", "lint", "format", "warning",
];

#[rustfmt::skip]
const IDENT_PARTS: &[&str] = &[
    "user", "team", "item", "thread", "session", "event", "message", "cursor", "offset", "store",
    "reader", "writer", "batch", "config", "path", "file", "line", "parse", "load", "save",
    "update", "fetch", "handle", "build", "index", "cache", "state", "token", "usage", "query",
    "row", "schema", "member", "role", "lead", "stats", "list", "map", "key", "value", "count",
    "total", "next", "prev", "id", "name", "kind", "status", "result", "error", "options", "ctx",
    "tx", "rx", "buf", "len",
];

#[rustfmt::skip]
const DIRS: &[&str] = &[
    "src", "src/lib", "src/components", "src/hooks", "src/server", "src/api", "crates/core/src",
    "crates/store/src", "crates/ingest/src", "apps/web/src/app", "apps/web/src/components/ui",
    "packages/shared/src", "tests", "tests/integration", "scripts", "docs", "lib", "internal/db",
    "app/(protected)/settings/teams/components", "backend/services", "frontend/src/pages",
];

#[rustfmt::skip]
const STEMS: &[&str] = &[
    "main", "lib", "mod", "parser", "reader", "writer", "store", "schema", "config", "utils",
    "index", "TeamSheet", "useUpdateTeam", "MembersList", "session", "events", "cursor",
    "migrations", "routes", "handlers", "client", "server", "models", "types", "api", "auth",
    "cache", "queue", "worker", "cli",
];

const EXTS: &[&str] = &[
    "rs", "rs", "rs", "ts", "tsx", "ts", "py", "go", "md", "json", "toml", "sql",
];

/// `n` words of lowercase prose appended to `out`.
pub fn words(rng: &mut Rng, n: usize, out: &mut String) {
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
    }
}

/// An identifier such as `load_thread_cursor` or `updateTeamMember`.
pub fn ident(rng: &mut Rng) -> String {
    let n = 1 + rng.below(3);
    let camel = rng.chance(0.35);
    let mut s = String::with_capacity(24);
    for i in 0..n {
        let p = rng.pick(IDENT_PARTS);
        if i == 0 {
            s.push_str(p);
        } else if camel {
            let mut c = p.chars();
            if let Some(f) = c.next() {
                s.push(f.to_ascii_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push('_');
            s.push_str(p);
        }
    }
    s
}

/// A relative source path such as `crates/store/src/cursor.rs`.
pub fn path(rng: &mut Rng) -> String {
    format!("{}/{}.{}", rng.pick(DIRS), rng.pick(STEMS), rng.pick(EXTS))
}

/// One sentence with occasional inline code and paths.
pub fn sentence(rng: &mut Rng, out: &mut String) {
    let n = 5 + rng.below(16);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let r = rng.below(100);
        if r < 4 {
            let _ = write!(out, "`{}`", ident(rng));
        } else if r < 6 {
            let _ = write!(out, "`{}`", path(rng));
        } else if i == 0 {
            let w = rng.pick(WORDS);
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.push(f.to_ascii_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(WORDS[rng.below(WORDS.len())]);
        }
    }
    out.push_str(if rng.chance(0.1) { "?" } else { "." });
}

/// Prose of roughly `len` bytes (whole sentences, paragraphs separated by blank lines).
pub fn prose(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 128);
    while s.len() < len {
        if !s.is_empty() {
            s.push_str(if rng.chance(0.25) { "\n\n" } else { " " });
        }
        sentence(rng, &mut s);
    }
    s
}

/// A short bold reasoning title like `**Inspecting team sheet updates**`.
pub fn title(rng: &mut Rng) -> String {
    const VERBS: &[&str] = &[
        "Inspecting",
        "Checking",
        "Planning",
        "Refactoring",
        "Investigating",
        "Reviewing",
        "Updating",
        "Summarizing",
        "Fixing",
        "Testing",
        "Searching",
        "Tracing",
        "Designing",
        "Verifying",
    ];
    let mut s = format!("**{} ", rng.pick(VERBS));
    let n = 2 + rng.below(4);
    words(rng, n, &mut s);
    s.push_str("**");
    s
}

/// A markdown answer of roughly `len` bytes: paragraphs, bullet lists, a code fence.
pub fn markdown(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 256);
    while s.len() < len {
        match rng.below(10) {
            0..=4 => {
                let l = s.len();
                let n = 120 + rng.below(300);
                s.push_str(&prose(rng, n));
                if s.len() == l {
                    continue;
                }
            }
            5..=7 => {
                for _ in 0..2 + rng.below(4) {
                    s.push_str("- ");
                    if rng.chance(0.5) {
                        let _ = write!(s, "`{}`: ", path(rng));
                    }
                    sentence(rng, &mut s);
                    s.push('\n');
                }
            }
            _ => {
                s.push_str("```rust\n");
                let n = 3 + rng.below(10);
                code(rng, n, &mut s);
                s.push_str("```");
            }
        }
        s.push_str("\n\n");
    }
    s.truncate(s.trim_end().len());
    s
}

/// `n` lines of plausible code appended to `out`.
pub fn code(rng: &mut Rng, n: usize, out: &mut String) {
    let mut indent = 0usize;
    for _ in 0..n {
        let pad = "    ".repeat(indent);
        let (a, b, c) = (ident(rng), ident(rng), ident(rng));
        match rng.below(12) {
            0 if indent < 3 => {
                let _ = writeln!(
                    out,
                    "{pad}pub fn {a}(&self, {b}: &{}) -> Result<{}> {{",
                    cap(&c),
                    cap(&a)
                );
                indent += 1;
            }
            1 if indent < 3 => {
                let _ = writeln!(out, "{pad}if let Some({a}) = self.{b}.get(&{c}) {{");
                indent += 1;
            }
            2 if indent > 0 => {
                indent -= 1;
                let _ = writeln!(out, "{}}}", "    ".repeat(indent));
            }
            3 => {
                let n = 30 + rng.below(50);
                let _ = writeln!(out, "{pad}// {}", prose(rng, n));
            }
            4 => {
                let _ = writeln!(out, "{pad}const {} = await {b}({c}, {{ {a}: true }});", a);
            }
            5 => {
                let _ = writeln!(
                    out,
                    "{pad}return Ok({a}.into_iter().map(|x| x.{b}).collect());"
                );
            }
            6 => {
                let _ = writeln!(out, "{pad}self.{a}.insert({b}.clone(), {c});");
            }
            _ => {
                let _ = writeln!(out, "{pad}let {a} = {b}.{c}({})?;", rng.below(1000));
            }
        }
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// What a shell command prints, to shape its generated output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `ls -la` listing.
    Listing,
    /// `rg -n` matches: `path:line:code`.
    Grep,
    /// `sed -n`/`cat` of a source file.
    Source,
    /// Test runner output.
    Tests,
    /// `git diff`.
    Diff,
    /// A compiler error.
    CompileError,
}

/// A shell command line and the kind of output it produces.
pub fn command(rng: &mut Rng) -> (String, OutputKind) {
    let p = path(rng);
    match rng.weighted(&[6, 28, 30, 12, 8, 6]) {
        0 => (format!("ls -la {}", rng.pick(DIRS)), OutputKind::Listing),
        1 => (
            format!("rg -n \"{}\" {}", ident(rng), rng.pick(DIRS)),
            OutputKind::Grep,
        ),
        2 => {
            let a = 1 + rng.below(400);
            (
                format!("sed -n '{a},{}p' {p}", a + 40 + rng.below(200)),
                OutputKind::Source,
            )
        }
        3 => (
            (*rng.pick(&[
                "cargo test -q",
                "npm test -- --run",
                "pytest -q",
                "go test ./...",
                "cargo test --workspace",
            ]))
            .to_string(),
            OutputKind::Tests,
        ),
        4 => (format!("git diff -- {p}"), OutputKind::Diff),
        _ => (
            "cargo check --all-targets".to_string(),
            OutputKind::CompileError,
        ),
    }
}

/// Output of roughly `len` bytes for a command of `kind`.
pub fn output(rng: &mut Rng, kind: OutputKind, len: usize) -> String {
    let mut s = String::with_capacity(len + 200);
    let mut n = 1 + rng.below(300);
    while s.len() < len {
        match kind {
            OutputKind::Listing => {
                let _ = writeln!(
                    s,
                    "-rw-r--r--  1 dev staff {:>6} Nov {:>2} {:02}:{:02} {}.{}",
                    rng.below(90_000),
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.pick(STEMS),
                    rng.pick(EXTS)
                );
            }
            OutputKind::Grep => {
                let p = path(rng);
                let _ = write!(s, "{p}:{}:", 1 + rng.below(900));
                code(rng, 1, &mut s);
            }
            OutputKind::Source => {
                let _ = write!(s, "{n:>5}\t");
                code(rng, 1, &mut s);
            }
            OutputKind::Tests => {
                let ok = if rng.chance(0.97) { "ok" } else { "FAILED" };
                let _ = writeln!(s, "test {}::tests::{} ... {ok}", ident(rng), ident(rng));
            }
            OutputKind::Diff => {
                if n % 30 == 1 {
                    let p = path(rng);
                    let _ = writeln!(
                        s,
                        "diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -{n},7 +{n},9 @@"
                    );
                }
                s.push(*rng.pick(&[' ', ' ', '+', '-']));
                code(rng, 1, &mut s);
            }
            OutputKind::CompileError => {
                let _ = writeln!(
                    s,
                    "error[E0{}]: {}\n  --> {}:{}:{}\n   |",
                    300 + rng.below(400),
                    prose(rng, 30),
                    path(rng),
                    1 + rng.below(500),
                    1 + rng.below(80)
                );
                let _ = write!(s, "{n:>3} | ");
                code(rng, 1, &mut s);
            }
        }
        n += 1;
    }
    if kind == OutputKind::Tests {
        let _ = writeln!(
            s,
            "\ntest result: ok. {n} passed; 0 failed; 0 ignored; finished in 0.{:02}s",
            rng.below(99)
        );
    }
    s
}

/// An `apply_patch` body of roughly `len` bytes, and the paths it touches with each one's section.
pub fn patch(rng: &mut Rng, len: usize) -> (String, Vec<(String, String)>) {
    let mut s = String::from("*** Begin Patch\n");
    let mut paths = Vec::new();
    while s.len() < len || paths.is_empty() {
        let p = path(rng);
        if paths.iter().any(|(q, _)| *q == p) {
            continue;
        }
        let section_start = s.len();
        if rng.chance(0.2) {
            let _ = writeln!(s, "*** Add File: {p}");
            let mut body = String::new();
            let n = 5 + rng.below(30);
            code(rng, n, &mut body);
            for l in body.lines() {
                let _ = writeln!(s, "+{l}");
            }
        } else {
            let _ = writeln!(s, "*** Update File: {p}");
            for _ in 0..1 + rng.below(3) {
                let _ = writeln!(s, "@@ fn {}", ident(rng));
                let mut body = String::new();
                let n = 3 + rng.below(12);
                code(rng, n, &mut body);
                for l in body.lines() {
                    s.push(*rng.pick(&[' ', ' ', '-', '+', '+']));
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        let section = s[section_start..].to_string();
        paths.push((p, section));
    }
    s.push_str("*** End Patch\n");
    (s, paths)
}

/// An opaque base64url blob like Codex's `encrypted_content` (`gAAAAAB…`).
pub fn blob(rng: &mut Rng, len: usize) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut v = Vec::with_capacity(len + 10);
    v.extend_from_slice(b"gAAAAAB");
    while v.len() < len {
        let mut x = rng.next_u64();
        for _ in 0..10 {
            v.push(B64[(x & 63) as usize]);
            x >>= 6;
        }
    }
    v.truncate(len.max(7));
    v.push(b'=');
    String::from_utf8(v).expect("base64 alphabet is ASCII")
}

/// A random lowercase alphanumeric string of `n` characters.
pub fn alnum(rng: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n).map(|_| A[rng.below(A.len())] as char).collect()
}

/// A tool call id such as `call_1mb2zpo3ma4hy4OjTDz9oNpC`.
pub fn call_id(rng: &mut Rng) -> String {
    format!("call_{}", alnum(rng, 24))
}

/// A UUIDv7 string for the Unix time `ms` (as current Codex thread and turn ids).
pub fn uuid_v7(rng: &mut Rng, ms: u64) -> String {
    let r = rng.next_u64();
    let r2 = rng.next_u64();
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        (ms >> 16) & 0xffff_ffff,
        ms & 0xffff,
        r & 0xfff,
        0x8000 | ((r >> 12) & 0x3fff),
        r2 & 0xffff_ffff_ffff
    )
}

/// A random UUIDv4 string (as Codex ≤0.30 thread ids).
pub fn uuid_v4(rng: &mut Rng) -> String {
    let r = rng.next_u64();
    let r2 = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        r >> 32,
        (r >> 16) & 0xffff,
        r & 0xfff,
        0x8000 | ((r2 >> 48) & 0x3fff),
        r2 & 0xffff_ffff_ffff
    )
}

/// A system prompt of roughly `len` bytes, shaped like Codex's `base_instructions`.
pub fn instructions(rng: &mut Rng, len: usize) -> String {
    const HEADS: &[&str] = &[
        "Personality",
        "General",
        "Editing constraints",
        "Plan tool",
        "Sandbox and approvals",
        "Presenting your work",
        "Final answer structure",
        "Tool guidelines",
        "Shell commands",
        "Testing your work",
        "AGENTS.md spec",
    ];
    let mut s = String::from(
        "You are Codex, a coding agent based on GPT-5. You and the user share one workspace.\n\n",
    );
    while s.len() < len {
        let _ = write!(s, "# {}\n\n", rng.pick(HEADS));
        let n = 400 + rng.below(900);
        s.push_str(&prose(rng, n));
        s.push_str("\n\n");
        for _ in 0..rng.below(6) {
            s.push_str("- ");
            sentence(rng, &mut s);
            s.push('\n');
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_shapes() {
        let mut r = Rng::new(3);
        assert!(prose(&mut r, 500).len() >= 500);
        assert!(output(&mut r, OutputKind::Diff, 4000).len() >= 4000);
        let (p, paths) = patch(&mut r, 1000);
        assert!(
            p.starts_with("*** Begin Patch\n")
                && p.ends_with("*** End Patch\n")
                && !paths.is_empty()
        );
        assert_eq!(blob(&mut r, 100).len(), 101);
        let u = uuid_v7(&mut r, 1_795_300_530_140);
        assert_eq!(&u[..13], "01a20040-17dc");
        assert_eq!(u.len(), 36);
        assert_eq!(uuid_v4(&mut r).as_bytes()[14], b'4');
    }
}
