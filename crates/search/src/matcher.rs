//! Matching a query against one item's text, without the index.
//!
//! Two uses: items the index has not caught up with yet (so a search is
//! exact at the store's revision however far the index lags, and a live
//! search sees a new item the moment it is committed), and snippets with
//! highlighted matches for the hits. It analyzes text with the index's own
//! analyzer, so it agrees with the index on what matches.

use std::ops::Range;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::analyzer::analyzer;
use crate::index::View;
use crate::query::Clause;
use crate::FIELD_WEIGHTS;

/// Words around the matches in a snippet.
pub const SNIPPET_WORDS: usize = 24;

/// Bytes of a field a snippet is first looked for in (its start, then
/// around the first occurrence of a query word), before the whole field.
pub const SNIPPET_SCAN_BYTES: usize = 16 * 1024;

/// The largest character boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// BM25 parameters (tantivy's).
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Matches a parsed query against items' text.
pub struct Matcher {
    clauses: Vec<Clause>,
    analyzer: TextAnalyzer,
    /// Every distinct query word (the first 64), and whether it is a
    /// prefix: a text word gets bit `i` when it matches word `i`.
    vocabulary: Vec<(String, bool)>,
    /// Per clause, per word: its index in `vocabulary`.
    clause_words: Vec<Vec<Option<usize>>>,
    /// Per positive clause: its idf and the average body length, once read.
    stats: Option<Vec<(f32, f32)>>,
}

/// One word of an item's text: where it is and which query words it is.
#[derive(Clone, Debug)]
pub struct TextWord {
    /// Position among the field's words (gaps where a long word was
    /// dropped, as in the index).
    pub position: usize,
    /// Byte range in the field's text.
    pub range: Range<usize>,
    /// Bit `i`: matches the matcher's query word `i`.
    mask: u64,
}

/// Where a query matched one item: each field's words and the word ranges
/// of every positive clause's occurrences.
#[derive(Debug, Default)]
pub struct Match {
    fields: [Vec<TextWord>; 3],
    /// Per field, per positive clause (in order), its occurrences.
    hits: [Vec<Vec<Range<usize>>>; 3],
}

/// Occurrences of a clause (its words' vocabulary indexes) in `words`, as
/// word index ranges.
fn occurrences(words: &[TextWord], clause: &[Option<usize>]) -> Vec<Range<usize>> {
    let n = clause.len();
    if words.len() < n || clause.iter().any(Option::is_none) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for start in 0..=words.len() - n {
        let first = words[start].position;
        let all = clause.iter().enumerate().all(|(k, bit)| {
            let w = &words[start + k];
            let bit = bit.expect("checked above");
            w.mask & (1 << bit) != 0 && w.position == first + k
        });
        if all {
            out.push(start..start + n);
        }
    }
    out
}

impl Matcher {
    /// A matcher for `clauses` (as parsed by [`crate::SearchQuery::parse`]).
    pub fn new(clauses: &[Clause]) -> Matcher {
        let mut vocabulary: Vec<(String, bool)> = Vec::new();
        let clause_words = clauses
            .iter()
            .map(|c| {
                let n = c.words.len();
                c.words
                    .iter()
                    .enumerate()
                    .map(|(k, w)| {
                        let entry = (w.clone(), c.prefix && k + 1 == n);
                        match vocabulary.iter().position(|v| *v == entry) {
                            Some(i) => Some(i),
                            None if vocabulary.len() < 64 => {
                                vocabulary.push(entry);
                                Some(vocabulary.len() - 1)
                            }
                            // Past 64 distinct words a clause cannot match.
                            None => None,
                        }
                    })
                    .collect()
            })
            .collect();
        Matcher {
            clauses: clauses.to_vec(),
            analyzer: analyzer(),
            vocabulary,
            clause_words,
            stats: None,
        }
    }

    /// The words of `text` with their query-word bits, no copies of text.
    fn words(&mut self, text: &str) -> Vec<TextWord> {
        let mut out = Vec::new();
        let mut stream = self.analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            let mut mask = 0u64;
            for (i, (w, prefix)) in self.vocabulary.iter().enumerate() {
                let hit = if *prefix {
                    t.text.starts_with(w.as_str())
                } else {
                    t.text == *w
                };
                if hit {
                    mask |= 1 << i;
                }
            }
            out.push(TextWord {
                position: t.position,
                range: t.offset_from..t.offset_to,
                mask,
            });
        }
        out
    }

    /// Whether every positive clause's words could be in `fields`: a word
    /// the analyzer would find in an ASCII text is in it as written, but
    /// for case. A cheap test that turns most non-matching items away
    /// before any analysis (text with other characters is let through:
    /// accents fold).
    fn could_match(&self, fields: [Option<&str>; 3]) -> bool {
        let mut lowered: [Option<Option<Vec<u8>>>; 3] = [None, None, None];
        self.clauses.iter().filter(|c| !c.negated).all(|clause| {
            clause.words.iter().all(|word| {
                if !word.is_ascii() {
                    return true;
                }
                (0..3).any(|i| {
                    let Some(text) = fields[i] else { return false };
                    let low = lowered[i].get_or_insert_with(|| {
                        text.is_ascii()
                            .then(|| text.as_bytes().to_ascii_lowercase())
                    });
                    match low {
                        Some(low) => memchr::memmem::find(low, word.as_bytes()).is_some(),
                        None => true,
                    }
                })
            })
        })
    }

    /// Match an item's `text`, `command` and `output`: `None` unless every
    /// positive clause occurs in some field and no negated one occurs in
    /// any.
    pub fn matches(&mut self, fields: [Option<&str>; 3]) -> Option<Match> {
        if !self.could_match(fields) {
            return None;
        }
        let mut m = Match::default();
        for (i, value) in fields.iter().enumerate() {
            if let Some(text) = value {
                m.fields[i] = self.words(text);
            }
        }
        for (clause, words) in self.clauses.iter().zip(&self.clause_words) {
            let found: [Vec<Range<usize>>; 3] =
                std::array::from_fn(|i| occurrences(&m.fields[i], words));
            let any = found.iter().any(|f| !f.is_empty());
            if clause.negated {
                if any {
                    return None;
                }
                continue;
            }
            if !any {
                return None;
            }
            for (i, f) in found.into_iter().enumerate() {
                m.hits[i].push(f);
            }
        }
        Some(m)
    }

    /// A BM25 score for a match, close to the index's own (the same
    /// formula over the item's three fields as one body, statistics from
    /// `view`), for items the index does not have yet.
    /// The statistics are read from `view` on the first call and kept: a
    /// matcher serves one search, on one view.
    pub fn score(&mut self, m: &Match, view: &View) -> f32 {
        if self.stats.is_none() {
            let n = view.num_docs().max(1) as f32;
            let per_clause = self
                .clauses
                .iter()
                .filter(|c| !c.negated)
                .map(|clause| {
                    let (df, avg) = view.stats(&clause.words[0]);
                    let idf = (1.0 + (n - df as f32 + 0.5) / (df as f32 + 0.5)).ln();
                    (idf, avg)
                })
                .collect();
            self.stats = Some(per_clause);
        }
        let stats = self.stats.as_deref().unwrap_or_default();
        let len: usize = m.fields.iter().map(Vec::len).sum();
        let mut score = 0.0;
        for (c, (idf, avg)) in stats.iter().enumerate() {
            let tf: usize = (0..3).map(|f| m.hits[f][c].len()).sum();
            if tf == 0 {
                continue;
            }
            let tf = tf as f32;
            score += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len as f32 / avg));
        }
        score
    }

    /// The snippet of an item that matches: looked for in the start of
    /// each field, then around the first occurrence of a query word, and
    /// only then in the whole text (a long tool output is analyzed whole
    /// only when the cheap places miss). Empty if the item does not match.
    pub fn snippet_of(&mut self, fields: [Option<&str>; 3]) -> (String, Vec<[usize; 2]>) {
        let heads = fields.map(|f| f.map(|t| &t[..floor_boundary(t, SNIPPET_SCAN_BYTES)]));
        if let Some(m) = self.matches(heads) {
            return Self::snippet(&m, heads);
        }
        let around = fields.map(|f| f.map(|t| self.around_first_word(t)));
        let slices = around.map(|a| a.map(|(s, _)| s));
        if let Some(m) = self.matches(slices) {
            let (mut text, mut ranges) = Self::snippet(&m, slices);
            // The slice may start or end inside the field: say so.
            let (field, offset) = (0..3)
                .filter_map(|i| around[i].map(|(s, o)| (i, s, o)))
                .find(|(_, s, _)| s.contains(text.trim_matches('…')))
                .map_or((0, 0), |(i, _, o)| (i, o));
            if offset > 0 && !text.starts_with('…') {
                text.insert(0, '…');
                ranges.iter_mut().for_each(|r| *r = [r[0] + 1, r[1] + 1]);
            }
            let slice_end = around[field].map_or(0, |(s, o)| o + s.len());
            if slice_end < fields[field].map_or(0, str::len) && !text.ends_with('…') {
                text.push('…');
            }
            return (text, ranges);
        }
        match self.matches(fields) {
            Some(m) => Self::snippet(&m, fields),
            None => (String::new(), Vec::new()),
        }
    }

    /// About [`SNIPPET_SCAN_BYTES`] of `text` around the first occurrence
    /// of a positive query word (ASCII text only), with its byte offset;
    /// the start of the text otherwise.
    fn around_first_word<'t>(&self, text: &'t str) -> (&'t str, usize) {
        let start_slice = |t: &'t str| (&t[..floor_boundary(t, SNIPPET_SCAN_BYTES)], 0);
        if text.len() <= SNIPPET_SCAN_BYTES || !text.is_ascii() {
            return start_slice(text);
        }
        let low = text.as_bytes().to_ascii_lowercase();
        let first = self
            .clauses
            .iter()
            .filter(|c| !c.negated)
            .filter_map(|c| c.words.first())
            .filter_map(|w| memchr::memmem::find(&low, w.as_bytes()))
            .min();
        let Some(at) = first else {
            return start_slice(text);
        };
        // ASCII: every byte offset is a character boundary.
        let from = at.saturating_sub(SNIPPET_SCAN_BYTES / 2);
        let to = (from + SNIPPET_SCAN_BYTES).min(text.len());
        (&text[from..to], from)
    }

    /// A fragment of about [`SNIPPET_WORDS`] words of the field where the
    /// query matched most (weighted), as plain text, with the matched
    /// ranges as `[start, end)` offsets in characters. `fields` must be
    /// the text that was matched.
    pub fn snippet(m: &Match, fields: [Option<&str>; 3]) -> (String, Vec<[usize; 2]>) {
        let marked: [Vec<bool>; 3] = std::array::from_fn(|i| {
            let mut marks = vec![false; m.fields[i].len()];
            for occ in m.hits[i].iter().flatten() {
                for w in occ.clone() {
                    marks[w] = true;
                }
            }
            marks
        });
        let best = (0..3).filter(|i| fields[*i].is_some()).max_by(|a, b| {
            let weight =
                |i: usize| marked[i].iter().filter(|x| **x).count() as f32 * FIELD_WEIGHTS[i];
            weight(*a).total_cmp(&weight(*b)).then(b.cmp(a))
        });
        let Some(field) = best else {
            return (String::new(), Vec::new());
        };
        let text = fields[field].unwrap_or_default();
        window(text, &m.fields[field], &marked[field])
    }
}

/// The window of [`SNIPPET_WORDS`] words holding the most marked words.
fn window(text: &str, words: &[TextWord], marked: &[bool]) -> (String, Vec<[usize; 2]>) {
    if words.is_empty() {
        let s: String = text.chars().take(200).collect();
        return (s, Vec::new());
    }
    let size = SNIPPET_WORDS.min(words.len());
    let mut count: usize = marked[..size].iter().filter(|x| **x).count();
    let (mut best, mut best_count) = (0, count);
    for start in 1..=words.len() - size {
        count += marked[start + size - 1] as usize;
        count -= marked[start - 1] as usize;
        if count > best_count {
            (best, best_count) = (start, count);
        }
    }
    // Center the window on its matches, for context on both sides.
    let in_window = || (best..best + size).filter(|w| marked[*w]);
    if let (Some(first), Some(last)) = (in_window().next(), in_window().next_back()) {
        let middle = (first + last) / 2;
        best = middle.saturating_sub(size / 2).min(words.len() - size);
    }
    let end = (best + size).min(words.len());
    let from = if best == 0 {
        0
    } else {
        words[best].range.start
    };
    let to = if end == words.len() {
        text.len()
    } else {
        words[end - 1].range.end
    };
    let mut out = String::new();
    let mut chars = 0;
    if from > 0 {
        out.push('…');
        chars = 1;
    }
    let mut ranges = Vec::new();
    let mut at = from;
    for (w, word) in words.iter().enumerate().take(end).skip(best) {
        if !marked[w] {
            continue;
        }
        let before = &text[at..word.range.start];
        chars += before.chars().count();
        out.push_str(before);
        let inner = &text[word.range.clone()];
        let n = inner.chars().count();
        ranges.push([chars, chars + n]);
        chars += n;
        out.push_str(inner);
        at = word.range.end;
    }
    out.push_str(&text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    (out, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchQuery;

    fn matcher(q: &str) -> Matcher {
        Matcher::new(&SearchQuery::parse(q).unwrap().clauses)
    }

    #[test]
    fn words_phrases_prefixes_and_not() {
        let item = [Some("Fix the Webhook signature"), Some("cargo test"), None];
        assert!(matcher("webhook").matches(item).is_some());
        assert!(matcher("webhook cargo").matches(item).is_some());
        assert!(matcher("\"the webhook\"").matches(item).is_some());
        assert!(matcher("\"webhook the\"").matches(item).is_none());
        assert!(matcher("sig*").matches(item).is_some());
        assert!(matcher("\"the webh\"*").matches(item).is_some());
        assert!(matcher("webhook NOT cargo").matches(item).is_none());
        assert!(matcher("webhook NOT flaky").matches(item).is_some());
        assert!(matcher("hook").matches(item).is_none(), "a part of a word");
        let accented = [Some("Résumé écrit"), None, None];
        assert!(
            matcher("resume").matches(accented).is_some(),
            "accents fold"
        );
        assert!(matcher("ecri*").matches(accented).is_some());
        // A phrase must be within one field.
        assert!(matcher("\"signature cargo\"").matches(item).is_none());
    }

    #[test]
    fn snippet_marks_matches_in_characters() {
        let text = "é ".repeat(40) + "fix the wébhook signature " + &"x ".repeat(40);
        let fields = [Some(text.as_str()), None, None];
        let mut m = matcher("webhook sig*");
        let found = m.matches(fields).unwrap();
        let (snippet, ranges) = Matcher::snippet(&found, fields);
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        let chars: Vec<char> = snippet.chars().collect();
        let marked: Vec<String> = ranges
            .iter()
            .map(|[s, e]| chars[*s..*e].iter().collect())
            .collect();
        assert_eq!(marked, ["wébhook", "signature"]);
    }

    #[test]
    fn a_match_deep_in_a_long_output_gets_its_snippet() {
        let long =
            "filler words here ".repeat(5_000) + "the needle is here " + &"tail ".repeat(100);
        let fields = [None, None, Some(long.as_str())];
        let mut m = matcher("needle");
        let (snippet, ranges) = m.snippet_of(fields);
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        let chars: Vec<char> = snippet.chars().collect();
        let [s, e] = ranges[0];
        assert_eq!(chars[s..e].iter().collect::<String>(), "needle");
        assert_eq!(matcher("absent").snippet_of(fields).0, "");
    }

    #[test]
    fn snippet_prefers_the_weighted_field() {
        let fields = [
            Some("run it"),
            Some("deploy now"),
            Some("deploy deploy log"),
        ];
        let mut m = matcher("deploy");
        let found = m.matches(fields).unwrap();
        // output has two occurrences at weight 0.5; command one at 2.0.
        assert_eq!(Matcher::snippet(&found, fields).0, "deploy now");
    }
}
