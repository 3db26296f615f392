//! The one text analyzer, shared by the index and the [`crate::matcher`]:
//! words are runs of letters, digits and `_` (so `snake_case_name` is one
//! word and `path/to/file.rs` is four), lowercased and folded to ASCII
//! where a folding exists (`Résumé` → `resume`), words over
//! [`MAX_WORD_BYTES`] dropped. Using the same analyzer on both sides is what
//! makes the matcher agree with the index.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "tinyvex_words";

/// Longer words (base64 blobs, minified code) are not indexed. Bytes, not
/// characters: a run of 85 Japanese characters without punctuation is one
/// word of 255 bytes and still indexed.
pub const MAX_WORD_BYTES: usize = 255;

/// A character that belongs to a word.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits text into runs of [`is_word_char`] characters.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// The token stream of [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    /// Byte offset where the next word is looked for.
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            at: 0,
            token: &mut self.token,
        }
    }
}

/// Whether the character starting at byte `at` of `text` is a word
/// character, and its length. Bytes, not `char_indices`: most text is
/// ASCII, and indexing spends a good part of its time here.
#[inline]
fn word_char_at(text: &str, at: usize) -> (bool, usize) {
    let b = text.as_bytes()[at];
    if b.is_ascii() {
        (b.is_ascii_alphanumeric() || b == b'_', 1)
    } else {
        let c = text[at..].chars().next().expect("at is a char boundary");
        (is_word_char(c), c.len_utf8())
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        let len = self.text.len();
        let mut at = self.at;
        while at < len {
            let (word, n) = word_char_at(self.text, at);
            if word {
                break;
            }
            at += n;
        }
        if at >= len {
            self.at = len;
            return false;
        }
        let from = at;
        while at < len {
            let (word, n) = word_char_at(self.text, at);
            if !word {
                break;
            }
            at += n;
        }
        self.at = at;
        self.token.offset_from = from;
        self.token.offset_to = at;
        self.token.text.push_str(&self.text[from..at]);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The analyzer (a fresh one: analyzers are cheap to build and need `&mut`
/// to run).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES + 1))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// One analyzed word: its normalized text, position and byte range in the
/// original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Normalized form (what the index stores).
    pub text: String,
    /// Position among the words of the text (gaps where a long word was
    /// dropped, as in the index).
    pub position: usize,
    /// Byte range in the original text.
    pub range: std::ops::Range<usize>,
}

/// Every word of `text`, analyzed as the index does.
pub fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push(Word {
            text: t.text.clone(),
            position: t.position,
            range: t.offset_from..t.offset_to,
        });
    }
    out
}

/// The normalized words of a query term.
pub fn normalize(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    words(analyzer, text).into_iter().map(|w| w.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_paths_and_accents() {
        let mut a = analyzer();
        assert_eq!(normalize(&mut a, "snake_case_name"), ["snake_case_name"]);
        assert_eq!(
            normalize(&mut a, "path/to/file.rs"),
            ["path", "to", "file", "rs"]
        );
        assert_eq!(
            normalize(&mut a, "Résumé ÜBER 日本語"),
            ["resume", "uber", "日本語"]
        );
        assert_eq!(normalize(&mut a, "ls -la | wc"), ["ls", "la", "wc"]);
        assert_eq!(
            normalize(&mut a, "«naïve»—café_Ω2 …x"),
            ["naive", "cafe_ω2", "x"]
        );
        assert!(normalize(&mut a, " -- ").is_empty());
        assert!(normalize(&mut a, &"x".repeat(MAX_WORD_BYTES + 1)).is_empty());
        assert_eq!(normalize(&mut a, &"x".repeat(MAX_WORD_BYTES)).len(), 1);
    }

    #[test]
    fn positions_and_ranges() {
        let mut a = analyzer();
        let w = words(&mut a, "fix: the Webhook");
        assert_eq!(w.len(), 3);
        assert_eq!(w[2].text, "webhook");
        assert_eq!(w[2].position, 2);
        assert_eq!(&"fix: the Webhook"[w[2].range.clone()], "Webhook");
    }
}
