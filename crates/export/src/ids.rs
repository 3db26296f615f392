//! Deterministic identifiers: session ids, line uuids and tool-call ids are
//! all derived from the Tinyvex thread and item ids, never drawn at random,
//! so exporting the same thread twice writes the same file.

use std::collections::{HashMap, HashSet};

use sha1::{Digest, Sha1};

use crate::Target;

/// Namespace of every UUID Tinyvex derives for an export (a fixed random value).
const NAMESPACE: [u8; 16] = [
    0x3b, 0x5e, 0x0c, 0x2d, 0x8f, 0x41, 0x4a, 0x17, 0x9c, 0x63, 0x2e, 0xd4, 0x71, 0x0a, 0xb8, 0x5f,
];

/// SHA-1 of `bytes` as lowercase hex.
pub(crate) fn sha1_hex(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A name-based (version 5, RFC 9562) UUID of `name` in `namespace`.
pub(crate) fn uuid_v5(namespace: &[u8; 16], name: &str) -> String {
    let mut h = Sha1::new();
    h.update(namespace);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The bytes of a UUID string (hex digits only), for use as a namespace.
pub(crate) fn uuid_bytes(uuid: &str) -> [u8; 16] {
    let digits: Vec<u8> = uuid
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        })
        .collect();
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).take(16).enumerate() {
        out[i] = (pair[0] << 4) | pair.get(1).copied().unwrap_or(0);
    }
    out
}

/// The session id an export of `thread_id` to `target` gets: a v5 UUID of
/// the target and the thread id. The same thread always gets the same id,
/// and its Codex and Claude Code exports get different ones.
pub fn session_id(target: Target, thread_id: &str) -> String {
    uuid_v5(
        &NAMESPACE,
        &format!("tinyvex-export:{}:{thread_id}", target.as_str()),
    )
}

/// The session id of the two-way mirror's copy of `thread_id` for
/// `target`: a v5 UUID like [`session_id`]'s, of another name, so that a
/// one-off export and the mirror never write two files of one session id.
pub fn mirror_session_id(target: Target, thread_id: &str) -> String {
    uuid_v5(
        &NAMESPACE,
        &format!("tinyvex-mirror:{}:{thread_id}", target.as_str()),
    )
}

/// True for a tool-call id the Anthropic API accepts (`^[a-zA-Z0-9_-]+$`).
pub(crate) fn is_anthropic_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Tool-call ids of one export: each call gets an id valid for the target,
/// unique within the file (the source may repeat ids: OpenCode's
/// OpenAI-compatible providers number calls `call_1`, `call_2`, … per
/// message), and the same one every time the thread is exported.
#[derive(Debug, Default)]
pub(crate) struct CallIds {
    used: HashSet<String>,
    by_item: HashMap<String, String>,
}

impl CallIds {
    /// The id of the call stored as `item_id` whose source id is `original`.
    pub(crate) fn get(&mut self, target: Target, item_id: &str, original: Option<&str>) -> String {
        if let Some(id) = self.by_item.get(item_id) {
            return id.clone();
        }
        let base = match (target, original.filter(|o| !o.is_empty())) {
            (Target::Codex, Some(o)) => o.to_string(),
            (Target::Claude, Some(o)) if is_anthropic_id(o) => o.to_string(),
            (Target::Claude, Some(o)) => {
                let clean: String = o
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                format!("{clean}_{}", &sha1_hex(o.as_bytes())[..8])
            }
            (_, None) => format!("call_{}", &sha1_hex(item_id.as_bytes())[..16]),
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        self.by_item.insert(item_id.to_string(), id.clone());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_matches_the_rfc_example() {
        // RFC 9562 appendix A.4: v5 of "www.example.com" in the DNS namespace.
        let dns = uuid_bytes("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(
            uuid_v5(&dns, "www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn session_ids_are_stable_and_per_target() {
        // Pinned: an export or mirror written by an older build must be
        // recognised (same session id) by a newer one.
        let a = session_id(Target::Codex, "claude-abc");
        assert_eq!(a, "d3a1b9ca-440d-52c2-a4ac-70b4f98a3d77");
        assert_ne!(a, session_id(Target::Claude, "claude-abc"));
        assert_ne!(a, session_id(Target::Codex, "claude-abd"));
        assert_eq!(
            mirror_session_id(Target::Codex, "claude-abc"),
            "0043a3ae-42d6-5dd0-a513-b594ce692c9c"
        );
        assert_eq!(&a[14..15], "5", "version 5: {a}");
    }

    #[test]
    fn call_ids_are_valid_unique_and_stable() {
        let mut ids = CallIds::default();
        assert_eq!(ids.get(Target::Claude, "t/1", Some("toolu_01")), "toolu_01");
        let odd = ids.get(Target::Claude, "t/2", Some("call:1/a"));
        assert!(is_anthropic_id(&odd), "{odd}");
        assert!(odd.starts_with("call_1_a_"), "{odd}");
        // A repeated source id gets a suffix; the same item keeps its id.
        assert_eq!(
            ids.get(Target::Claude, "t/3", Some("toolu_01")),
            "toolu_01_2"
        );
        assert_eq!(
            ids.get(Target::Claude, "t/3", Some("toolu_01")),
            "toolu_01_2"
        );
        let none = ids.get(Target::Codex, "t/4", None);
        assert!(none.starts_with("call_") && none.len() == 21, "{none}");
        let mut again = CallIds::default();
        again.get(Target::Claude, "t/1", Some("toolu_01"));
        assert_eq!(again.get(Target::Claude, "t/2", Some("call:1/a")), odd);
    }
}
