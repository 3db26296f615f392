//! A minimal streaming JSON writer: fast enough to produce a gigabyte in seconds, with
//! no intermediate `serde_json::Value`s. Keys and values are written in call order.

/// Appends `s` to `out` as a JSON string literal (with quotes).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writer for the members of one JSON object.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

/// Writer for the elements of one JSON array.
pub struct Arr<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

/// Writes one object to `out` with `f` filling in its members.
pub fn object(out: &mut Vec<u8>, f: impl FnOnce(&mut Obj)) {
    out.push(b'{');
    f(&mut Obj {
        out: &mut *out,
        first: true,
    });
    out.push(b'}');
}

/// Writes one object into a new `String` (for JSON-in-a-string fields such as `arguments`).
pub fn object_string(f: impl FnOnce(&mut Obj)) -> String {
    let mut v = Vec::with_capacity(128);
    object(&mut v, f);
    String::from_utf8(v).expect("the JSON writer only writes UTF-8")
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A string member.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        write_str(self.out, v);
        self
    }

    /// A string member, or `null`.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    /// An integer member.
    pub fn num(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(v.to_string().as_bytes());
        self
    }

    /// A floating-point member (`digits` decimals).
    pub fn float(&mut self, k: &str, v: f64, digits: usize) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(format!("{v:.digits$}").as_bytes());
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// A `null` member.
    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(b"null");
        self
    }

    /// A member whose value is already-serialized JSON.
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(json.as_bytes());
        self
    }

    /// A nested object member.
    pub fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj)) -> &mut Self {
        self.key(k);
        object(self.out, f);
        self
    }

    /// A nested array member.
    pub fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr)) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        f(&mut Arr {
            out: &mut *self.out,
            first: true,
        });
        self.out.push(b']');
        self
    }

    /// An array of strings member.
    pub fn strs(&mut self, k: &str, items: &[&str]) -> &mut Self {
        self.arr(k, |a| {
            for s in items {
                a.str(s);
            }
        })
    }
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// A string element.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        write_str(self.out, v);
        self
    }

    /// An object element.
    pub fn obj(&mut self, f: impl FnOnce(&mut Obj)) -> &mut Self {
        self.sep();
        object(self.out, f);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json() {
        let s = object_string(|o| {
            o.str("a", "q\"uo\\te\n\u{1}é")
                .num("n", 42)
                .bool("b", true)
                .null("z");
            o.arr("xs", |a| {
                a.str("x").obj(|o| {
                    o.float("f", 0.25, 3);
                });
            });
            o.obj("o", |_| {});
        });
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "q\"uo\\te\n\u{1}é");
        assert_eq!(v["xs"][1]["f"], 0.25);
        assert_eq!(
            s,
            r#"{"a":"q\"uo\\te\n\u0001é","n":42,"b":true,"z":null,"xs":["x",{"f":0.250}],"o":{}}"#
        );
    }
}
