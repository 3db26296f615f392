//! Reading complete lines from a byte offset with bounded memory.
//!
//! A line is only handed out once its newline has been read: the last,
//! partial line of a file that an agent is still writing stays unread until
//! it is complete. A line longer than the limit is skipped (and reported)
//! without ever being held in memory whole.

use std::io::{self, BufRead, BufReader, Read};

/// One step of reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line (without its `\n`) that starts at `offset`.
    Complete {
        /// Where the line starts.
        offset: u64,
        /// The line's bytes.
        bytes: &'a [u8],
    },
    /// A line that exceeded the limit; its bytes were skipped.
    TooLong {
        /// Where the line starts.
        offset: u64,
        /// Its length including the newline.
        len: u64,
    },
}

/// Reads complete lines from a reader positioned at `start`.
pub struct LineReader<R> {
    inner: BufReader<R>,
    buf: Vec<u8>,
    /// Offset of the first byte not yet returned as part of a complete line.
    consumed: u64,
    max_line: usize,
}

impl<R: Read> LineReader<R> {
    /// A line reader over `inner`, whose first byte is at file offset `start`.
    pub fn new(inner: R, start: u64, max_line: usize) -> LineReader<R> {
        LineReader {
            inner: BufReader::with_capacity(256 * 1024, inner),
            buf: Vec::new(),
            consumed: start,
            max_line,
        }
    }

    /// Offset just past the last complete line returned: where to resume.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// The next complete line, or `None` at end of input (a trailing partial
    /// line is left unconsumed).
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let start = self.consumed;
        let mut skipping = false;
        let mut skipped: u64 = 0;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                // End of input: whatever is buffered is a partial line.
                return Ok(None);
            }
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    if skipping {
                        skipped += i as u64 + 1;
                    } else {
                        self.buf.extend_from_slice(&chunk[..i]);
                    }
                    self.inner.consume(i + 1);
                    if skipping || self.buf.len() > self.max_line {
                        let len = if skipping {
                            skipped
                        } else {
                            self.buf.len() as u64 + 1
                        };
                        self.consumed = start + len;
                        self.buf.clear();
                        return Ok(Some(Line::TooLong { offset: start, len }));
                    }
                    self.consumed = start + self.buf.len() as u64 + 1;
                    return Ok(Some(Line::Complete {
                        offset: start,
                        bytes: &self.buf,
                    }));
                }
                None => {
                    let n = chunk.len();
                    if skipping {
                        skipped += n as u64;
                    } else if self.buf.len() + n > self.max_line {
                        skipping = true;
                        skipped = (self.buf.len() + n) as u64;
                        self.buf = Vec::new();
                    } else {
                        self.buf.extend_from_slice(chunk);
                    }
                    self.inner.consume(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(data: &[u8], start: u64, max: usize) -> (Vec<String>, u64) {
        let mut r = LineReader::new(data, start, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(match l {
                Line::Complete { offset, bytes } => {
                    format!("{offset}:{}", String::from_utf8_lossy(bytes))
                }
                Line::TooLong { offset, len } => format!("{offset}:long{len}"),
            });
        }
        (out, r.offset())
    }

    #[test]
    fn holds_back_partial_last_line() {
        let (lines, off) = collect(b"a\nbb\nccc", 10, 100);
        assert_eq!(lines, vec!["10:a", "12:bb"]);
        assert_eq!(off, 15);
    }

    #[test]
    fn skips_overlong_lines_and_goes_on() {
        let (lines, off) = collect(b"ok\n0123456789\nfine\n", 0, 5);
        assert_eq!(lines, vec!["0:ok", "3:long11", "14:fine"]);
        assert_eq!(off, 19);
        // An overlong partial line is not consumed either.
        let (lines, off) = collect(b"ok\n0123456789", 0, 5);
        assert_eq!(lines, vec!["0:ok"]);
        assert_eq!(off, 3);
    }

    #[test]
    fn overlong_line_spanning_many_buffers_uses_bounded_memory() {
        let mut data = vec![b'x'; 3 * 1024 * 1024];
        data.push(b'\n');
        data.extend_from_slice(b"after\n");
        let (lines, _) = collect(&data, 0, 1024);
        assert_eq!(
            lines,
            vec![
                format!("0:long{}", 3 * 1024 * 1024 + 1),
                format!("{}:after", 3 * 1024 * 1024 + 1)
            ]
        );
    }
}
