//! The raw event log's codec: consecutive records of one file are framed
//! and LZ4-compressed into one [`RawChunk`], so keeping every source record
//! costs one small blob insert per batch instead of one row per line.
//!
//! Frame of one record (little endian): `offset: u64`, `kind_len: u16`,
//! `kind`, `text_len: u32`, `text`. The chunk's `data` is the LZ4 block of
//! all frames with the uncompressed size prepended (`lz4_flex`'s
//! `compress_prepend_size`).

use tinyvex_model::{RawChunk, RawRecord};

use crate::{Error, Result};

/// Encode records (in file order) into one compressed chunk; `None` when
/// there are no records.
pub fn encode_raw(records: &[RawRecord]) -> Option<RawChunk> {
    let first = records.first()?;
    let raw_bytes: usize = records.iter().map(|r| r.text.len()).sum();
    let mut framed = Vec::with_capacity(raw_bytes + records.len() * 40);
    for r in records {
        let kind = &r.kind.as_bytes()[..r.kind.len().min(u16::MAX as usize)];
        framed.extend_from_slice(&r.offset.to_le_bytes());
        framed.extend_from_slice(&(kind.len() as u16).to_le_bytes());
        framed.extend_from_slice(kind);
        framed.extend_from_slice(&(r.text.len() as u32).to_le_bytes());
        framed.extend_from_slice(r.text.as_bytes());
    }
    Some(RawChunk {
        first_offset: first.offset,
        records: records.len() as u32,
        raw_bytes: raw_bytes as u64,
        data: lz4_flex::block::compress_prepend_size(&framed),
    })
}

/// Decode a chunk's `data` back into its records.
pub fn decode_raw(data: &[u8]) -> Result<Vec<RawRecord>> {
    let bad = |what: &str| Error::Writer(format!("corrupt raw chunk: {what}"));
    let framed =
        lz4_flex::block::decompress_size_prepended(data).map_err(|e| bad(&e.to_string()))?;
    let mut out = Vec::new();
    let mut rest = framed.as_slice();
    let take = |n: usize, rest: &mut &[u8]| -> Result<Vec<u8>> {
        if rest.len() < n {
            return Err(bad("truncated frame"));
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head.to_vec())
    };
    while !rest.is_empty() {
        let offset = u64::from_le_bytes(take(8, &mut rest)?.try_into().expect("8 bytes"));
        let kind_len =
            u16::from_le_bytes(take(2, &mut rest)?.try_into().expect("2 bytes")) as usize;
        let kind =
            String::from_utf8(take(kind_len, &mut rest)?).map_err(|_| bad("kind is not UTF-8"))?;
        let text_len =
            u32::from_le_bytes(take(4, &mut rest)?.try_into().expect("4 bytes")) as usize;
        let text =
            String::from_utf8(take(text_len, &mut rest)?).map_err(|_| bad("text is not UTF-8"))?;
        out.push(RawRecord { offset, kind, text });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let records = vec![
            RawRecord {
                offset: 0,
                kind: "session_meta".into(),
                text: "{\"a\":1}".into(),
            },
            RawRecord {
                offset: 8,
                kind: "invalid".into(),
                text: "garbage ✓".into(),
            },
        ];
        let chunk = encode_raw(&records).unwrap();
        assert_eq!(chunk.first_offset, 0);
        assert_eq!(chunk.records, 2);
        assert_eq!(chunk.raw_bytes, 7 + "garbage ✓".len() as u64);
        assert_eq!(decode_raw(&chunk.data).unwrap(), records);
        assert!(encode_raw(&[]).is_none());
        assert!(decode_raw(b"nonsense").is_err());
    }
}
