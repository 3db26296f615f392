//! The search query language, parsed into [`Clause`]s of analyzed words
//! and filters.
//!
//! ```text
//! webhook signature              both words (any order, any column)
//! "fix the webhook"              an exact phrase
//! webhook*                       a prefix
//! webhook NOT flaky             without this word (needs a positive term)
//! ls -la                         shell flags are words (`-` is not an operator)
//! snake_case_name path/to/x.rs   identifiers and paths are matched as written
//! provider:codex  kind:tool      filters (kind: user, assistant, reasoning, tool, plan, error)
//! cwd:/home/me/app  thread:ID    project folder (prefix) and one thread
//! after:2026-01-01  before:7d    dates (YYYY-MM-DD, RFC 3339, or N d/h ago)
//! ```
//!
//! Terms are analyzed like the indexed text ([`crate::analyzer`]) and never
//! read as any engine's syntax: punctuation-heavy shell commands are safe,
//! and a term with punctuation (`path/to/file.rs`) becomes the phrase of
//! its words.

use std::str::FromStr;

use serde::Serialize;
use tinyvex_model::{now_ms, parse_rfc3339_ms, ProviderKind, Revision, TimestampMs};

use crate::analyzer::{analyzer, normalize};

/// Most hits one search returns.
pub const MAX_HITS: usize = 500;

/// Which items a search looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// What the user wrote.
    User,
    /// What the agent answered.
    Assistant,
    /// The agent's reasoning.
    Reasoning,
    /// Tool calls: commands and their output.
    Tool,
    /// Plans.
    Plan,
    /// Errors.
    Error,
}

impl SearchKind {
    /// The store's item kind.
    pub fn item_kind(self) -> &'static str {
        match self {
            SearchKind::User => "user",
            SearchKind::Assistant => "assistant",
            SearchKind::Reasoning => "reasoning",
            SearchKind::Tool => "tool_call",
            SearchKind::Plan => "plan",
            SearchKind::Error => "error",
        }
    }
}

impl FromStr for SearchKind {
    type Err = &'static str;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s {
            "user" => SearchKind::User,
            "assistant" => SearchKind::Assistant,
            "reasoning" => SearchKind::Reasoning,
            "tool" | "tool_call" => SearchKind::Tool,
            "plan" => SearchKind::Plan,
            "error" => SearchKind::Error,
            _ => return Err("one of user, assistant, reasoning, tool, plan, error"),
        })
    }
}

/// One condition on an item's text: its analyzed words must appear next to
/// each other, in order, in one field (a single word: anywhere); with
/// `prefix`, the last word is a prefix. A `negated` clause must not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// Normalized words, at least one.
    pub words: Vec<String>,
    /// The last word is a prefix (`sig*`).
    pub prefix: bool,
    /// `NOT word`.
    pub negated: bool,
}

/// A parsed search: text clauses plus filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the text must (and must not) contain; at least one clause is
    /// positive.
    pub clauses: Vec<Clause>,
    /// Only this provider.
    pub provider: Option<ProviderKind>,
    /// Only threads whose working directory is this folder or below it.
    pub cwd: Option<String>,
    /// Only this thread (its id; resolve prefixes and aliases first).
    pub thread: Option<String>,
    /// Only items at or after this time.
    pub after: Option<TimestampMs>,
    /// Only items before this time.
    pub before: Option<TimestampMs>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<SearchKind>,
    /// Only items changed after this revision (live search).
    pub changed_after: Option<Revision>,
    /// Most hits (clamped to 1..=[`MAX_HITS`]).
    pub limit: usize,
}

impl SearchQuery {
    /// Parse the query language with a limit of 20.
    pub fn parse(input: &str) -> std::result::Result<SearchQuery, QueryError> {
        let mut q = SearchQuery {
            limit: 20,
            ..SearchQuery::default()
        };
        parse_into(input, &mut q, now_ms())?;
        Ok(q)
    }
}

/// Why a query could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A filter has a value that is not valid.
    #[error("invalid {key}: `{value}` ({hint})")]
    BadFilter {
        /// The filter's name.
        key: String,
        /// What was given.
        value: String,
        /// What is accepted.
        hint: &'static str,
    },
    /// `thread:` names no thread.
    #[error("no thread matches `{0}`")]
    UnknownThread(String),
    /// Nothing to search for: no word, phrase or prefix (filters alone are
    /// not a search).
    #[error("nothing to search for: give at least one word, \"phrase\" or prefix*")]
    Empty,
}

/// One piece of the text query.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Word(String),
    Phrase(String),
    Prefix(String),
    Not(String),
}

/// Split on whitespace, keeping double-quoted runs (with their quotes).
fn split(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn unquote(s: &str) -> &str {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"').unwrap_or(s)
}

/// A date filter: `YYYY-MM-DD`, RFC 3339, or `Nd` / `Nh` before `now`.
fn parse_time(key: &str, value: &str, now: TimestampMs) -> Result<TimestampMs, QueryError> {
    let bad = || QueryError::BadFilter {
        key: key.into(),
        value: value.into(),
        hint: "use YYYY-MM-DD, an RFC 3339 time, or 7d / 12h for days or hours ago",
    };
    if let Some(n) = value.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(now - n * 86_400_000);
    }
    if let Some(n) = value.strip_suffix('h').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(now - n * 3_600_000);
    }
    if value.len() == 10 {
        return parse_rfc3339_ms(&format!("{value}T00:00:00Z")).ok_or_else(bad);
    }
    parse_rfc3339_ms(value).ok_or_else(bad)
}

/// Parse `input` into `query` (its text and filters); filters already set
/// on `query` (from command-line flags) are kept unless the text names them
/// again.
pub fn parse_into(
    input: &str,
    query: &mut SearchQuery,
    now: TimestampMs,
) -> Result<(), QueryError> {
    let mut terms = Vec::new();
    let mut negate = false;
    for token in split(input) {
        if token == "NOT" {
            negate = true;
            continue;
        }
        if let Some((key, value)) = token.split_once(':').filter(|(k, v)| {
            !k.is_empty() && !v.is_empty() && k.chars().all(|c| c.is_ascii_lowercase())
        }) {
            let value = unquote(value).to_string();
            match key {
                "provider" => {
                    query.provider =
                        Some(
                            value
                                .parse::<ProviderKind>()
                                .map_err(|_| QueryError::BadFilter {
                                    key: key.into(),
                                    value: value.clone(),
                                    hint: "one of codex, claude, opencode, gemini",
                                })?,
                        );
                    continue;
                }
                "kind" | "role" => {
                    query
                        .kinds
                        .push(value.parse::<SearchKind>().map_err(|hint| {
                            QueryError::BadFilter {
                                key: key.into(),
                                value: value.clone(),
                                hint,
                            }
                        })?);
                    continue;
                }
                "cwd" | "project" => {
                    query.cwd = Some(value);
                    continue;
                }
                "thread" => {
                    query.thread = Some(value);
                    continue;
                }
                "after" | "since" => {
                    query.after = Some(parse_time(key, &value, now)?);
                    continue;
                }
                "before" | "until" => {
                    query.before = Some(parse_time(key, &value, now)?);
                    continue;
                }
                // Not a filter (`http://…`, `std::io`): a word like any other.
                _ => {}
            }
        }
        let term = if std::mem::take(&mut negate) {
            Term::Not(unquote(&token).to_string())
        } else if token.len() >= 2 && token.starts_with('"') && token.ends_with('"') {
            Term::Phrase(unquote(&token).to_string())
        } else if let Some(word) = token.strip_suffix('*').filter(|w| !w.is_empty()) {
            Term::Prefix(unquote(word).to_string())
        } else {
            Term::Word(unquote(&token).to_string())
        };
        terms.push(term);
    }
    query.clauses = clauses(&terms).ok_or(QueryError::Empty)?;
    Ok(())
}

/// Analyze the terms; terms without a word (`|`, `&&`) are dropped.
fn clauses(terms: &[Term]) -> Option<Vec<Clause>> {
    let mut a = analyzer();
    let mut out = Vec::new();
    for term in terms {
        let (text, prefix, negated) = match term {
            Term::Word(w) | Term::Phrase(w) => (w, false, false),
            Term::Prefix(w) => (w, true, false),
            Term::Not(w) => (w, false, true),
        };
        let words = normalize(&mut a, text);
        if !words.is_empty() {
            out.push(Clause {
                words,
                prefix,
                negated,
            });
        }
    }
    out.iter().any(|c| !c.negated).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: TimestampMs = 1_800_000_000_000;

    fn parse(input: &str) -> Result<SearchQuery, QueryError> {
        let mut q = SearchQuery::default();
        parse_into(input, &mut q, NOW).map(|()| q)
    }

    /// Clauses as short strings: `a b` for a phrase, `p*` for a prefix,
    /// `-x` for a negation.
    fn shown(input: &str) -> Vec<String> {
        parse(input)
            .unwrap()
            .clauses
            .iter()
            .map(|c| {
                format!(
                    "{}{}{}",
                    if c.negated { "-" } else { "" },
                    c.words.join(" "),
                    if c.prefix { "*" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn words_phrases_prefixes_and_negation() {
        assert_eq!(shown("webhook signature"), ["webhook", "signature"]);
        assert_eq!(
            shown(r#""fix the Webhook" sig*"#),
            ["fix the webhook", "sig*"]
        );
        assert_eq!(shown("webhook NOT flaky"), ["webhook", "-flaky"]);
        assert_eq!(shown("ls -la"), ["ls", "la"]);
    }

    #[test]
    fn code_and_shell_text_is_never_syntax() {
        assert_eq!(shown("snake_case_name"), ["snake_case_name"]);
        assert_eq!(shown("path/to/file.rs"), ["path to file rs"]);
        assert_eq!(
            shown(r#"grep -rn "TODO" src | wc -l && echo $((1+2)) NEAR(x) OR *"#),
            ["grep", "rn", "todo", "src", "wc", "l", "echo", "1 2", "near x", "or"]
        );
        assert_eq!(shown("std::io::Error"), ["std io error"]);
        assert_eq!(shown("foo.ba*"), ["foo ba*"]);
    }

    #[test]
    fn filters() {
        let q = parse("deploy provider:claude kind:tool cwd:/srv/app after:2026-01-02 before:7d")
            .unwrap();
        assert_eq!(q.provider, Some(ProviderKind::Claude));
        assert_eq!(q.kinds, vec![SearchKind::Tool]);
        assert_eq!(q.cwd.as_deref(), Some("/srv/app"));
        assert_eq!(q.after, parse_rfc3339_ms("2026-01-02T00:00:00Z"));
        assert_eq!(q.before, Some(NOW - 7 * 86_400_000));
        assert_eq!(shown("deploy provider:claude"), ["deploy"]);
        assert!(matches!(
            parse("x provider:vim"),
            Err(QueryError::BadFilter { .. })
        ));
        assert!(matches!(
            parse("x after:yesterday"),
            Err(QueryError::BadFilter { .. })
        ));
        assert_eq!(parse("provider:codex"), Err(QueryError::Empty));
        assert_eq!(parse("NOT only"), Err(QueryError::Empty));
        assert_eq!(parse("  "), Err(QueryError::Empty));
        assert_eq!(parse("| && *"), Err(QueryError::Empty));
    }

    #[test]
    fn non_ascii() {
        assert_eq!(shown("Überprüfung 日本語"), ["uberprufung", "日本語"]);
    }
}
