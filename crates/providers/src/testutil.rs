//! Helpers shared by the providers' unit tests: where the real-session
//! fixtures are, and the two ways of feeding a line parser that must agree
//! (one pass, and a fresh parser resumed from saved state before every line,
//! as ingestion does after a restart).

use std::path::{Path, PathBuf};

use tinyvex_model::{ItemPatch, ParsedEvent};

use crate::LineParser;

/// `<fixtures>/<agent>` from `$TINYVEX_FIXTURES` or `../shared/fixtures`;
/// `None`, after a loud `SKIPPED` line naming `test`, when it is missing.
pub(crate) fn fixtures(agent: &str, test: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TINYVEX_FIXTURES")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"));
    let dir = root.join(agent);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found (set TINYVEX_FIXTURES)",
            dir.display()
        );
        None
    }
}

/// The item patches among `events`.
pub(crate) fn items(events: &[ParsedEvent]) -> Vec<&ItemPatch> {
    events
        .iter()
        .filter_map(|e| match e {
            ParsedEvent::Item(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// Feed every line of `text` to one parser made by `make(None)`; the events
/// and the number of lines it refused.
pub(crate) fn parse_all(
    make: impl Fn(Option<&str>) -> Box<dyn LineParser>,
    text: &str,
) -> (Vec<ParsedEvent>, usize) {
    let mut parser = make(None);
    let mut out = Vec::new();
    let mut errors = 0;
    let mut offset = 0u64;
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if parser
            .parse_line(offset, body.as_bytes(), &mut out)
            .is_err()
        {
            errors += 1;
        }
        offset += line.len() as u64;
    }
    (out, errors)
}

/// Like [`parse_all`], but with a fresh parser resumed from the saved state
/// before every line.
pub(crate) fn parse_resuming(
    make: impl Fn(Option<&str>) -> Box<dyn LineParser>,
    text: &str,
) -> Vec<ParsedEvent> {
    let mut state: Option<String> = None;
    let mut out = Vec::new();
    let mut offset = 0u64;
    for line in text.split_inclusive('\n') {
        let mut parser = make(state.as_deref());
        let body = line.strip_suffix('\n').unwrap_or(line);
        let _ = parser.parse_line(offset, body.as_bytes(), &mut out);
        state = Some(parser.save_state());
        offset += line.len() as u64;
    }
    out
}
