//! The one text analyzer, shared by the index and the [`crate::matcher`]:
//! words are runs of letters, digits and `_` (so `snake_case_name` is one
//! word and `path/to/file.rs` is four), lowercased and folded to ASCII
//! where a folding exists (`Résumé` → `resume`), words over
//! [`MAX_WORD_BYTES`] dropped, all in one pass ([`WordTokenizer`]). Using
//! the same analyzer on both sides is what makes the matcher agree with the
//! index.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
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

/// What a byte says about the text at it: the ASCII fast path of the
/// tokenizer (most session text is ASCII, and indexing spends a good part
/// of its time splitting it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteClass {
    /// An ASCII character outside words.
    Separator,
    /// An ASCII letter, digit or `_`.
    Word,
    /// The first byte of a non-ASCII character: look at the character.
    NonAscii,
}

const BYTE_CLASSES: [ByteClass; 256] = {
    let mut table = [ByteClass::NonAscii; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_alphanumeric() || byte == b'_' {
            ByteClass::Word
        } else {
            ByteClass::Separator
        };
        b += 1;
    }
    table
};

/// Whether the character starting at byte `at` of `text` is a word
/// character, and its length.
#[inline]
fn word_char_at(text: &str, at: usize) -> (bool, usize) {
    match BYTE_CLASSES[text.as_bytes()[at] as usize] {
        ByteClass::Word => (true, 1),
        ByteClass::Separator => (false, 1),
        ByteClass::NonAscii => {
            let c = text[at..].chars().next().expect("at is a char boundary");
            (is_word_char(c), c.len_utf8())
        }
    }
}

/// The whole analysis in one pass: splits text into runs of
/// [`is_word_char`] characters, drops runs over [`MAX_WORD_BYTES`] (leaving
/// a gap in positions), and lowercases the rest, folding non-ASCII words
/// to ASCII where a folding exists. ASCII words (nearly all of them) are
/// lowercased as they are copied; only non-ASCII words go through
/// tantivy's `LowerCaser` and `AsciiFoldingFilter`. One pass instead of a
/// chain of three filters took tokenizing from 17% to 11% of the CPU time
/// of indexing a bulk ingest.
#[derive(Clone)]
pub struct WordTokenizer {
    token: Token,
    /// Lowercases and folds one non-ASCII word.
    non_ascii: TextAnalyzer,
}

impl Default for WordTokenizer {
    fn default() -> WordTokenizer {
        WordTokenizer {
            token: Token::default(),
            non_ascii: TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        }
    }
}

/// The token stream of [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    /// Byte offset where the next word is looked for.
    at: usize,
    token: &'a mut Token,
    non_ascii: &'a mut TextAnalyzer,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            at: 0,
            token: &mut self.token,
            non_ascii: &mut self.non_ascii,
        }
    }
}

impl WordStream<'_> {
    /// The next run of word characters at or after `self.at`, and whether
    /// it is all ASCII; `None` at the end of the text. ASCII bytes are
    /// skipped in tight loops over the byte table; only a non-ASCII byte
    /// stops them to look at its character.
    fn next_word(&mut self) -> Option<(usize, usize, bool)> {
        let bytes = self.text.as_bytes();
        let len = bytes.len();
        let mut at = self.at;
        loop {
            while at < len && BYTE_CLASSES[bytes[at] as usize] == ByteClass::Separator {
                at += 1;
            }
            if at >= len {
                self.at = len;
                return None;
            }
            let (word, n) = word_char_at(self.text, at);
            if word {
                break;
            }
            at += n;
        }
        let from = at;
        let mut ascii = true;
        loop {
            while at < len && BYTE_CLASSES[bytes[at] as usize] == ByteClass::Word {
                at += 1;
            }
            if at >= len {
                break;
            }
            let (word, n) = word_char_at(self.text, at);
            if !word {
                break;
            }
            ascii &= n == 1;
            at += n;
        }
        self.at = at;
        Some((from, at, ascii))
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let Some((from, to, ascii)) = self.next_word() else {
                return false;
            };
            self.token.position = self.token.position.wrapping_add(1);
            if to - from > MAX_WORD_BYTES {
                continue;
            }
            let word = &self.text[from..to];
            self.token.offset_from = from;
            self.token.offset_to = to;
            self.token.text.clear();
            if ascii {
                self.token.text.push_str(word);
                self.token.text.make_ascii_lowercase();
            } else {
                let mut stream = self.non_ascii.token_stream(word);
                if stream.advance() {
                    self.token.text.push_str(&stream.token().text);
                }
            }
            return true;
        }
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
    TextAnalyzer::from(WordTokenizer::default())
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

    /// The analysis as a chain of tantivy's filters over a plain
    /// `char`-by-`char` splitter: what the one-pass tokenizer replaces.
    fn reference(text: &str) -> Vec<Word> {
        use tantivy::tokenizer::RemoveLongFilter;

        #[derive(Clone, Default)]
        struct Split(Token);
        struct SplitStream<'a>(Vec<(usize, usize)>, usize, &'a mut Token, &'a str);
        impl Tokenizer for Split {
            type TokenStream<'a> = SplitStream<'a>;
            fn token_stream<'a>(&'a mut self, text: &'a str) -> SplitStream<'a> {
                let mut runs = Vec::new();
                let mut start = None;
                for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
                    match (is_word_char(c) && i < text.len(), start) {
                        (true, None) => start = Some(i),
                        (false, Some(s)) => {
                            runs.push((s, i));
                            start = None;
                        }
                        _ => {}
                    }
                }
                self.0.reset();
                SplitStream(runs, 0, &mut self.0, text)
            }
        }
        impl TokenStream for SplitStream<'_> {
            fn advance(&mut self) -> bool {
                let Some(&(from, to)) = self.0.get(self.1) else {
                    return false;
                };
                self.1 += 1;
                self.2.position = self.2.position.wrapping_add(1);
                self.2.offset_from = from;
                self.2.offset_to = to;
                self.2.text.clear();
                self.2.text.push_str(&self.3[from..to]);
                true
            }
            fn token(&self) -> &Token {
                self.2
            }
            fn token_mut(&mut self) -> &mut Token {
                self.2
            }
        }
        let mut chain = TextAnalyzer::builder(Split::default())
            .filter(RemoveLongFilter::limit(MAX_WORD_BYTES + 1))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        words(&mut chain, text)
    }

    #[test]
    fn one_pass_agrees_with_the_filter_chain() {
        const PIECES: &[&str] = &[
            "a", "Z", "q", "0", "7", "_", " ", "\n", "-", "/", ".", "::", "\"", "é", "Ü", "ß", "Ω",
            "日本", "İ", "ﬁ", "Æ", "🦀", "\u{301}", "·", "—", "x_Y9",
        ];
        let mut a = analyzer();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..3_000usize {
            let mut text = String::new();
            let pieces = if round.is_multiple_of(100) {
                400
            } else {
                1 + round % 40
            };
            for _ in 0..pieces {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let piece = PIECES[(seed % PIECES.len() as u64) as usize];
                // Long runs now and then, around the word length limit.
                let times = if seed.is_multiple_of(97) {
                    60 + (seed % 300) as usize
                } else {
                    1
                };
                text.push_str(&piece.repeat(times));
            }
            assert_eq!(words(&mut a, &text), reference(&text), "text: {text:?}");
        }
    }
}
