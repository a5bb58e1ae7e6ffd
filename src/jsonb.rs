//! jsonb's on-disk form -> the text `jsonb_out` prints, without the output
//! function (which builds an iterator, pallocs every scalar and goes through
//! fmgr and a guarded FFI call per value).
//!
//! The layout (PostgreSQL's `utils/jsonb.h`, unchanged from 9.4 to 18): a
//! container is a `u32` header (element count, scalar/object/array flags),
//! then one `u32` JEntry per child (an object stores all keys, then all
//! values), then the children's data. A JEntry holds the child's type and
//! either its length or, every 32nd child, its end offset. Numerics and nested
//! containers start at a 4-byte-aligned offset (the padding is counted in the
//! previous child's length).
//!
//! The text is `jsonb_out`'s (`JsonbToCString` without indentation): `", "`
//! between elements, `": "` after keys, strings escaped like `escape_json`,
//! numbers as `numeric_out`, a top-level scalar printed bare. Anything that
//! does not look like a well-formed container returns false, and the caller
//! falls back to the output function.

use crate::json;
use crate::numeric::numeric_text;

const CMASK: u32 = 0x0FFF_FFFF;
const F_SCALAR: u32 = 0x1000_0000;
const F_OBJECT: u32 = 0x2000_0000;
const F_ARRAY: u32 = 0x4000_0000;

const OFFLEN_MASK: u32 = 0x0FFF_FFFF;
const TYPE_MASK: u32 = 0x7000_0000;
const HAS_OFF: u32 = 0x8000_0000;
const IS_STRING: u32 = 0x0000_0000;
const IS_NUMERIC: u32 = 0x1000_0000;
const IS_FALSE: u32 = 0x2000_0000;
const IS_TRUE: u32 = 0x3000_0000;
const IS_NULL: u32 = 0x4000_0000;
const IS_CONTAINER: u32 = 0x5000_0000;

/// Deeper nesting than this is left to the output function (which has its
/// own stack-depth check); it keeps this recursion's stack use bounded.
const MAX_DEPTH: u32 = 1000;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn int_align(x: usize) -> usize {
    (x + 3) & !3
}

/// Appends `jsonb_out`'s text for a jsonb value's payload (the bytes after
/// its varlena header). On false, `out` may hold a partial text: the caller
/// truncates it. (Format 3 embeds it; the one-pass `jsonb_json_string` is
/// tested against it.)
pub fn jsonb_text(out: &mut Vec<u8>, payload: &[u8]) -> bool {
    container::<false>(out, payload, 0)
}

/// Appends that text as a JSON string (how wal2json prints a jsonb value), in
/// one pass: the text's own string escapes are escaped a second time as they
/// are written. The same bytes as `json::string` over `jsonb_text`'s output.
pub fn jsonb_json_string(out: &mut Vec<u8>, payload: &[u8]) -> bool {
    out.push(b'"');
    let ok = container::<true>(out, payload, 0);
    out.push(b'"');
    ok
}

/// `TWICE`: escape the text a second time (it is written inside a JSON
/// string); a const parameter so that each use compiles to its own loop.
fn container<const TWICE: bool>(out: &mut Vec<u8>, c: &[u8], depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let Some(header) = u32_at(c, 0) else {
        return false;
    };
    let count = (header & CMASK) as usize;
    let object = header & F_OBJECT != 0;
    let array = header & F_ARRAY != 0;
    if object == array {
        return false;
    }
    let nchildren = if object { count * 2 } else { count };
    let Some(base) = nchildren.checked_mul(4).and_then(|n| n.checked_add(4)) else {
        return false;
    };
    if base > c.len() {
        return false;
    }
    let data = &c[base..];
    // An array's elements, or an object's values (which follow all its keys).
    let mut values = Cursor::new(c, data, if object { count } else { 0 });
    if array && header & F_SCALAR != 0 {
        // A top-level scalar is stored as a one-element array, printed bare.
        if count != 1 {
            return false;
        }
        return match values.next() {
            Some(c) => c.kind != IS_CONTAINER && c.write::<TWICE>(out, depth),
            None => false,
        };
    }
    if object {
        let mut keys = Cursor::new(c, data, 0);
        out.push(b'{');
        for i in 0..count {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            match keys.next() {
                Some(key) if key.kind == IS_STRING && key.write::<TWICE>(out, depth) => {}
                _ => return false,
            }
            out.extend_from_slice(b": ");
            match values.next() {
                Some(value) if value.write::<TWICE>(out, depth) => {}
                _ => return false,
            }
        }
        out.push(b'}');
    } else {
        out.push(b'[');
        for i in 0..count {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            match values.next() {
                Some(value) if value.write::<TWICE>(out, depth) => {}
                _ => return false,
            }
        }
        out.push(b']');
    }
    true
}

/// Walks a container's JEntries from child `index` on, yielding each child's
/// place in the data area.
struct Cursor<'a> {
    container: &'a [u8],
    data: &'a [u8],
    index: usize,
    start: usize,
}

impl<'a> Cursor<'a> {
    fn new(container: &'a [u8], data: &'a [u8], index: usize) -> Self {
        // A child starts where the previous one ends: walk back to the
        // nearest JEntry that stores an end offset (at most 32 steps).
        let mut start = 0usize;
        for i in (0..index).rev() {
            let entry = Self::entry(container, i);
            start = start.saturating_add((entry & OFFLEN_MASK) as usize);
            if entry & HAS_OFF != 0 {
                break;
            }
        }
        Cursor { container, data, index, start }
    }

    fn entry(container: &[u8], i: usize) -> u32 {
        u32_at(container, 4 + i * 4).unwrap_or(0)
    }

    fn next(&mut self) -> Option<Child<'a>> {
        let entry = Self::entry(self.container, self.index);
        let field = (entry & OFFLEN_MASK) as usize;
        let end = if entry & HAS_OFF != 0 { field } else { self.start.checked_add(field)? };
        if end < self.start || end > self.data.len() {
            return None;
        }
        let child = Child { data: self.data, start: self.start, end, kind: entry & TYPE_MASK };
        self.index += 1;
        self.start = end;
        Some(child)
    }
}

/// One child of a container: `data[start..end]` of the container's data area.
struct Child<'a> {
    data: &'a [u8],
    start: usize,
    end: usize,
    kind: u32,
}

impl Child<'_> {
    #[inline]
    fn write<const TWICE: bool>(&self, out: &mut Vec<u8>, depth: u32) -> bool {
        match self.kind {
            IS_STRING => {
                let Some(bytes) = self.data.get(self.start..self.end) else { return false };
                if TWICE {
                    out.extend_from_slice(b"\\\"");
                    json::escape_twice_into(out, bytes);
                    out.extend_from_slice(b"\\\"");
                } else {
                    json::string(out, bytes);
                }
            }
            IS_FALSE => out.extend_from_slice(b"false"),
            IS_TRUE => out.extend_from_slice(b"true"),
            IS_NULL => out.extend_from_slice(b"null"),
            // Numerics and containers start after padding up to a 4-byte
            // offset within the data area; the padding is part of the
            // child's length.
            IS_CONTAINER => {
                let Some(bytes) = self.data.get(int_align(self.start).min(self.end)..self.end) else { return false };
                return container::<TWICE>(out, bytes, depth + 1);
            }
            IS_NUMERIC => {
                let Some(bytes) = self.data.get(int_align(self.start).min(self.end)..self.end) else { return false };
                // jsonb numbers are never NaN or infinite; anything else is
                // not a jsonb this code knows.
                let Some(payload) = varlena_payload(bytes) else {
                    return false;
                };
                let start = out.len();
                return numeric_text(out, payload) && matches!(out.get(start), Some(b'-' | b'0'..=b'9'));
            }
            _ => return false,
        }
        true
    }
}

/// The payload of a varlena stored inline (1-byte or 4-byte header, never
/// compressed inside a jsonb).
fn varlena_payload(v: &[u8]) -> Option<&[u8]> {
    let first = *v.first()?;
    if cfg!(target_endian = "little") {
        if first & 0x01 == 0x01 {
            // 1-byte header: length (including the header) in the high 7 bits.
            let len = (first >> 1) as usize;
            v.get(1..len)
        } else if first & 0x03 == 0x00 {
            let len = (u32_at(v, 0)? >> 2) as usize;
            v.get(4..len)
        } else {
            None
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum V {
        Str(&'static str),
        Num(Vec<u8>),
        Bool(bool),
        Null,
        Arr(Vec<V>),
        Obj(Vec<(&'static str, V)>),
    }

    /// numeric payload in the short form with one base-10000 digit.
    fn small_int(d: u16) -> V {
        let mut payload = 0x8000u16.to_ne_bytes().to_vec();
        payload.extend_from_slice(&d.to_ne_bytes());
        // 4-byte varlena header: total length << 2.
        let mut v = (((payload.len() + 4) as u32) << 2).to_ne_bytes().to_vec();
        v.extend_from_slice(&payload);
        V::Num(v)
    }

    /// Lays a container out as PostgreSQL's convertToJsonb does: JEntries with
    /// an end offset every 32nd child, numerics and containers 4-byte aligned.
    fn container_bytes(v: &V, scalar: bool) -> Vec<u8> {
        let (header, children): (u32, Vec<&V>) = match v {
            V::Arr(items) => (F_ARRAY | items.len() as u32 | if scalar { F_SCALAR } else { 0 }, items.iter().collect()),
            V::Obj(pairs) => (F_OBJECT | pairs.len() as u32, Vec::new()),
            _ => unreachable!(),
        };
        let keys: Vec<V> = match v {
            V::Obj(pairs) => pairs.iter().map(|(k, _)| V::Str(k)).collect(),
            _ => Vec::new(),
        };
        let mut all: Vec<&V> = keys.iter().collect();
        match v {
            V::Obj(pairs) => all.extend(pairs.iter().map(|(_, v)| v)),
            _ => all.extend(children),
        }
        let mut entries = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (i, child) in all.iter().enumerate() {
            let start = data.len();
            let kind = match child {
                V::Str(s) => {
                    data.extend_from_slice(s.as_bytes());
                    IS_STRING
                }
                V::Num(n) => {
                    data.resize(int_align(data.len()), 0);
                    data.extend_from_slice(n);
                    IS_NUMERIC
                }
                V::Bool(b) => {
                    if *b {
                        IS_TRUE
                    } else {
                        IS_FALSE
                    }
                }
                V::Null => IS_NULL,
                V::Arr(_) | V::Obj(_) => {
                    data.resize(int_align(data.len()), 0);
                    data.extend_from_slice(&container_bytes(child, false));
                    IS_CONTAINER
                }
            };
            entries.push(if i % 32 == 0 {
                kind | HAS_OFF | data.len() as u32
            } else {
                kind | (data.len() - start) as u32
            });
        }
        let mut out = header.to_ne_bytes().to_vec();
        entries.iter().for_each(|e| out.extend_from_slice(&e.to_ne_bytes()));
        out.extend_from_slice(&data);
        out
    }

    fn text(v: &V) -> String {
        let scalar = !matches!(v, V::Arr(_) | V::Obj(_));
        let bytes = if scalar {
            container_bytes(
                &V::Arr(vec![match v {
                    V::Str(s) => V::Str(s),
                    V::Num(n) => V::Num(n.clone()),
                    V::Bool(b) => V::Bool(*b),
                    _ => V::Null,
                }]),
                true,
            )
        } else {
            container_bytes(v, false)
        };
        let mut out = Vec::new();
        assert!(jsonb_text(&mut out, &bytes));
        let mut quoted = Vec::new();
        assert!(jsonb_json_string(&mut quoted, &bytes));
        assert_eq!(quoted, json::string_owned(&out), "one-pass quoting");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn jsonb_out_text() {
        assert_eq!(text(&V::Obj(vec![])), "{}");
        assert_eq!(text(&V::Arr(vec![])), "[]");
        assert_eq!(text(&V::Null), "null");
        assert_eq!(text(&V::Str("a\"b\n")), r#""a\"b\n""#);
        assert_eq!(text(&V::Str("\\ \u{1} \u{1f} \t\r\u{8}\u{c} / é")), r#""\\ \u0001 \u001f \t\r\b\f / é""#);
        assert_eq!(text(&small_int(42)), "42");
        assert_eq!(
            text(&V::Obj(vec![
                ("a", V::Arr(vec![V::Bool(true), V::Null, small_int(7)])),
                ("bb", V::Obj(vec![("c", V::Str("x"))]))
            ])),
            r#"{"a": [true, null, 7], "bb": {"c": "x"}}"#
        );
        // Mixed sizes across the 32-child stride.
        let items: Vec<V> = (0..70).map(|i| if i % 2 == 0 { small_int(i) } else { V::Str("ab") }).collect();
        let expected: Vec<String> = (0..70).map(|i| if i % 2 == 0 { i.to_string() } else { "\"ab\"".into() }).collect();
        assert_eq!(text(&V::Arr(items)), format!("[{}]", expected.join(", ")));
        let keys: Vec<&'static str> = (0..40).map(|i| &*Box::leak(format!("k{i:02}").into_boxed_str())).collect();
        let obj = V::Obj(keys.iter().map(|k| (*k, V::Arr(vec![small_int(1)]))).collect());
        let expected: Vec<String> = keys.iter().map(|k| format!("\"{k}\": [1]")).collect();
        assert_eq!(text(&obj), format!("{{{}}}", expected.join(", ")));
    }

    #[test]
    fn malformed_jsonb_is_refused() {
        let mut out = Vec::new();
        assert!(!jsonb_text(&mut out, &[]));
        // An array claiming 3 children with no JEntries.
        assert!(!jsonb_text(&mut out, &(F_ARRAY | 3).to_ne_bytes()));
        // A child running past the end of the data.
        let mut bad = (F_ARRAY | 1).to_ne_bytes().to_vec();
        bad.extend_from_slice(&(IS_STRING | 10).to_ne_bytes());
        bad.extend_from_slice(b"abc");
        assert!(!jsonb_text(&mut out, &bad));
        // Neither object nor array.
        assert!(!jsonb_text(&mut out, &0u32.to_ne_bytes()));
    }
}
