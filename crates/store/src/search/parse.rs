//! The search query language, parsed into an FTS5 match expression and
//! SQL filters.
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
//! Every term is handed to FTS5 as a quoted string, so no user input is
//! ever read as FTS5 syntax: punctuation-heavy shell commands are safe, and
//! a term with punctuation (`path/to/file.rs`) becomes the phrase of its
//! tokens.

use tinyvex_model::{parse_rfc3339_ms, ProviderKind, TimestampMs};

use crate::search::{SearchKind, SearchQuery};

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

/// Has at least one character a tokenizer keeps.
fn has_token(s: &str) -> bool {
    s.chars().any(|c| c.is_alphanumeric() || c == '_')
}

/// FTS5 string literal: double quotes, inner quotes doubled.
fn fts_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
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
    query.fts = fts_expression(&terms).ok_or(QueryError::Empty)?;
    Ok(())
}

/// The FTS5 expression: positive terms ANDed, then `NOT` each negative one.
fn fts_expression(terms: &[Term]) -> Option<String> {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    for term in terms {
        match term {
            Term::Word(w) | Term::Phrase(w) if has_token(w) => positive.push(fts_string(w)),
            Term::Prefix(w) if has_token(w) => positive.push(format!("{}*", fts_string(w))),
            Term::Not(w) if has_token(w) => negative.push(fts_string(w)),
            _ => {}
        }
    }
    if positive.is_empty() {
        return None;
    }
    let mut expr = positive.join(" AND ");
    for n in negative {
        expr = format!("({expr}) NOT {n}");
    }
    Some(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: TimestampMs = 1_800_000_000_000;

    fn parse(input: &str) -> Result<SearchQuery, QueryError> {
        let mut q = SearchQuery::default();
        parse_into(input, &mut q, NOW).map(|()| q)
    }

    #[test]
    fn words_phrases_prefixes_and_negation() {
        assert_eq!(
            parse("webhook signature").unwrap().fts,
            r#""webhook" AND "signature""#
        );
        assert_eq!(
            parse(r#""fix the webhook" sig*"#).unwrap().fts,
            r#""fix the webhook" AND "sig"*"#
        );
        assert_eq!(
            parse("webhook NOT flaky").unwrap().fts,
            r#"("webhook") NOT "flaky""#
        );
        assert_eq!(parse("ls -la").unwrap().fts, r#""ls" AND "-la""#);
    }

    #[test]
    fn code_and_shell_text_is_never_fts_syntax() {
        assert_eq!(
            parse("snake_case_name").unwrap().fts,
            r#""snake_case_name""#
        );
        assert_eq!(
            parse("path/to/file.rs").unwrap().fts,
            r#""path/to/file.rs""#
        );
        let q = parse(r#"grep -rn "TODO" src | wc -l && echo $((1+2)) NEAR(x) OR *"#).unwrap();
        // Every term is a quoted string; operators-only tokens are dropped.
        assert!(!q.fts.contains(" OR "), "{}", q.fts);
        assert!(q.fts.contains(r#""NEAR(x)""#), "{}", q.fts);
        assert!(q.fts.contains(r#""OR""#), "{}", q.fts);
        assert_eq!(parse("std::io::Error").unwrap().fts, r#""std::io::Error""#);
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
        assert_eq!(q.fts, r#""deploy""#);
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
    }

    #[test]
    fn non_ascii() {
        assert_eq!(
            parse("überprüfung 日本語").unwrap().fts,
            r#""überprüfung" AND "日本語""#
        );
    }
}
