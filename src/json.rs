//! JSON escaping and number rules, in one place.
//!
//! Escaping follows PostgreSQL's `escape_json()` byte for byte (the function
//! wal2json uses): `"` and `\` are backslash-escaped, `\b \f \n \r \t` use their
//! short forms, every other byte below 0x20 becomes `\u00xx` with lowercase hex,
//! and everything else (including `/`, DEL and all non-ASCII bytes) is copied.
//! Runs of bytes that need no escaping are copied in one `extend_from_slice`.

/// For each byte: 0 = copy as is, otherwise the character after the backslash
/// (`u` meaning the `\u00xx` form).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Lower-case hex digits: escapes, bytea and message payloads (LSNs print them upper-cased).
const HEX: &[u8; 16] = b"0123456789abcdef";

/// True when none of the 8 bytes needs escaping (no byte below 0x20, no `"`,
/// no `\`), tested on all 8 at once.
#[inline]
fn clean8(chunk: [u8; 8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let v = u64::from_le_bytes(chunk);
    // A byte is "zero" in x when x has its high bit set after the subtraction
    // and did not before (the classic has-zero-byte test).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
    below_space | has_zero(v ^ (ONES * b'"' as u64)) | has_zero(v ^ (ONES * b'\\' as u64)) == 0
}

/// Appends `s`, inlined: short slices (column heads, values) are copied
/// with a few overlapping word moves instead of a libc `memmove` call each,
/// which cost more than the copy itself at these sizes.
#[inline(always)]
pub fn push_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n > 64 {
        out.extend_from_slice(s);
        return;
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `reserve` made room for n bytes after len; every move below
    // reads inside s and writes inside out[len..len + n] (the pairs overlap
    // in the middle when n is not a multiple of the word size).
    unsafe {
        let (src, dst) = (s.as_ptr(), out.as_mut_ptr().add(len));
        use std::ptr::{read_unaligned as rd, write_unaligned as wr};
        if n >= 32 {
            let (a, b) = (rd(src as *const u128), rd(src.add(16) as *const u128));
            let (c, d) = (rd(src.add(n - 32) as *const u128), rd(src.add(n - 16) as *const u128));
            wr(dst as *mut u128, a);
            wr(dst.add(16) as *mut u128, b);
            wr(dst.add(n - 32) as *mut u128, c);
            wr(dst.add(n - 16) as *mut u128, d);
        } else if n >= 16 {
            let (a, b) = (rd(src as *const u128), rd(src.add(n - 16) as *const u128));
            wr(dst as *mut u128, a);
            wr(dst.add(n - 16) as *mut u128, b);
        } else if n >= 8 {
            let (a, b) = (rd(src as *const u64), rd(src.add(n - 8) as *const u64));
            wr(dst as *mut u64, a);
            wr(dst.add(n - 8) as *mut u64, b);
        } else if n >= 4 {
            let (a, b) = (rd(src as *const u32), rd(src.add(n - 4) as *const u32));
            wr(dst as *mut u32, a);
            wr(dst.add(n - 4) as *mut u32, b);
        } else if n > 0 {
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
        out.set_len(len + n);
    }
}

/// Appends the escaped bytes of `s` without the surrounding quotes.
#[inline]
pub fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    // Skip over clean 8-byte blocks quickly; the byte loop below handles the rest.
    let mut i = 0;
    while i + 8 <= s.len() && clean8(s[i..i + 8].try_into().unwrap()) {
        i += 8;
    }
    if i == s.len() {
        push_bytes(out, s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate().skip(i) {
        let e = ESCAPE[b as usize];
        if e == 0 {
            continue;
        }
        if start < i {
            push_bytes(out, &s[start..i]);
        }
        if e == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', e]);
        }
        start = i + 1;
    }
    if start < s.len() {
        push_bytes(out, &s[start..]);
    }
}

/// Appends the escaping of the escaping of `s` (a JSON string's content
/// written inside another JSON string): `"` becomes `\\\"`, `\` becomes
/// `\\\\`, and every other escape `\x` becomes `\\x`.
pub fn escape_twice_into(out: &mut Vec<u8>, s: &[u8]) {
    // Most strings (jsonb keys and short values) need no escaping at all.
    let mut i = 0;
    while i + 8 <= s.len() && clean8(s[i..i + 8].try_into().unwrap()) {
        i += 8;
    }
    while i < s.len() && ESCAPE[s[i] as usize] == 0 {
        i += 1;
    }
    if i == s.len() {
        push_bytes(out, s);
        return;
    }
    let mut start = 0;
    while i < s.len() {
        if i + 8 <= s.len() && clean8(s[i..i + 8].try_into().unwrap()) {
            i += 8;
            continue;
        }
        let b = s[i];
        let e = ESCAPE[b as usize];
        if e != 0 {
            push_bytes(out, &s[start..i]);
            match e {
                b'"' => out.extend_from_slice(b"\\\\\\\""),
                b'\\' => out.extend_from_slice(b"\\\\\\\\"),
                b'u' => out.extend_from_slice(&[
                    b'\\',
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]),
                _ => out.extend_from_slice(&[b'\\', b'\\', e]),
            }
            start = i + 1;
        }
        i += 1;
    }
    push_bytes(out, &s[start..]);
}

/// Appends `s` as a JSON string (quoted and escaped).
#[inline]
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Returns `s` as a JSON string in a new vector (used when building caches).
pub fn string_owned(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    string(&mut v, s);
    v
}

/// Appends a JSON string built from possibly invalid UTF-8 (logical message
/// payloads): valid UTF-8 is escaped as usual, a NUL byte becomes `\u0000`
/// (wal2json cuts the payload there) and every byte of an invalid sequence
/// becomes U+FFFD, so the output is always valid JSON in a UTF-8 database.
pub fn string_lossy_utf8(out: &mut Vec<u8>, mut s: &[u8]) {
    out.push(b'"');
    loop {
        match std::str::from_utf8(s) {
            Ok(valid) => {
                escape_into(out, valid.as_bytes());
                break;
            }
            Err(e) => {
                let (good, rest) = s.split_at(e.valid_up_to());
                escape_into(out, good);
                let bad = e.error_len().unwrap_or(rest.len());
                for _ in 0..bad {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                }
                s = &rest[bad..];
            }
        }
    }
    out.push(b'"');
}

/// How the `content` of a logical message is written. The payload is bytes
/// (`pg_logical_emit_message(.., bytea)`): `Text` keeps wal2json's string (a
/// payload that is not valid UTF-8 cannot be carried exactly), `Base64` and
/// `Hex` carry any payload unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageContent {
    Text,
    Base64,
    Hex,
}

/// Appends a logical message's payload as a JSON string in the chosen
/// encoding. `Text` validates UTF-8 only where the database's encoding is
/// UTF-8 (elsewhere the bytes are the database's text, as in wal2json).
pub fn message_content(out: &mut Vec<u8>, encoding: MessageContent, content: &[u8], utf8_db: bool) {
    match encoding {
        MessageContent::Text if utf8_db => string_lossy_utf8(out, content),
        MessageContent::Text => string(out, content),
        MessageContent::Base64 => {
            out.push(b'"');
            base64_into(out, content);
            out.push(b'"');
        }
        MessageContent::Hex => {
            out.push(b'"');
            hex_into(out, content);
            out.push(b'"');
        }
    }
}

/// RFC 4648 base64 (standard alphabet, `=` padding, no line breaks).
pub fn base64_into(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    let mut groups = bytes.chunks_exact(3);
    for g in &mut groups {
        let n = (g[0] as u32) << 16 | (g[1] as u32) << 8 | g[2] as u32;
        out.extend_from_slice(&[
            ALPHABET[(n >> 18) as usize & 63],
            ALPHABET[(n >> 12) as usize & 63],
            ALPHABET[(n >> 6) as usize & 63],
            ALPHABET[n as usize & 63],
        ]);
    }
    match *groups.remainder() {
        [a] => out.extend_from_slice(&[ALPHABET[(a >> 2) as usize], ALPHABET[((a & 3) << 4) as usize], b'=', b'=']),
        [a, b] => out.extend_from_slice(&[
            ALPHABET[(a >> 2) as usize],
            ALPHABET[((a & 3) << 4 | b >> 4) as usize],
            ALPHABET[((b & 15) << 2) as usize],
            b'=',
        ]),
        _ => {}
    }
}

/// Lower-case hex, two digits a byte (bytea's hex output without `\x`).
pub fn hex_into(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
    }
}

/// A type name as wal2json prints it. `format_type` quotes identifiers that need
/// it; wal2json then writes a name that starts with `"` (and is not an array)
/// verbatim instead of escaping it. We do the same when the verbatim text is a
/// single valid JSON string (so the bytes match wal2json), and escape the whole
/// name otherwise (schema-qualified or `""`-containing names, where wal2json 2.5
/// emits invalid JSON; 2.7 escapes them too).
pub fn type_name(out: &mut Vec<u8>, name: &[u8], verbatim_arrays: bool) {
    let quoted = name.first() == Some(&b'"') && (verbatim_arrays || name.last() != Some(&b']'));
    if quoted && is_single_json_string(name) {
        out.extend_from_slice(name);
    } else {
        string(out, name);
    }
}

/// True when `s` is exactly one JSON string token with no escapes at all:
/// `"..."` where the inside has no quote, backslash or control byte.
fn is_single_json_string(s: &[u8]) -> bool {
    s.len() >= 2
        && s[0] == b'"'
        && s[s.len() - 1] == b'"'
        && s[1..s.len() - 1].iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// How the text of a numeric type's output function is written.
#[derive(Debug, PartialEq, Eq)]
pub enum NumberText {
    /// Written as is (a JSON number, or a quoted string with numbers-as-strings).
    Plain,
    /// NaN, Infinity or -Infinity: `null`, or a quoted string with numbers-as-strings.
    Special,
    /// Not a number at all (wal2json raises "... is not a number").
    Invalid,
}

/// wal2json's classification of int/float/numeric output text: a text starting
/// (case-insensitively) with NaN, Infinity or -Infinity is special; a text made
/// only of `0123456789+-eE.` is a number; anything else is an error. Only the
/// tests use it, as the reference `classify_builtin_number` must agree with.
#[cfg(test)]
pub fn classify_number(text: &[u8]) -> NumberText {
    fn starts_ci(t: &[u8], p: &[u8]) -> bool {
        t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p)
    }
    if starts_ci(text, b"NaN") || starts_ci(text, b"Infinity") || starts_ci(text, b"-Infinity") {
        return NumberText::Special;
    }
    if !text.is_empty() && text.iter().all(|b| b"0123456789+-eE.".contains(b)) {
        NumberText::Plain
    } else {
        NumberText::Invalid
    }
}

/// The same classification for the output of PostgreSQL's own float4, float8
/// and numeric output functions, whose text is always digits, sign, `.`,
/// `e`, or exactly `NaN`, `Infinity`, `-Infinity`: only the first bytes need
/// looking at (the full scan showed up in profiles).
#[inline]
pub fn classify_builtin_number(text: &[u8]) -> NumberText {
    match text {
        [b'N', ..] | [b'I', ..] | [b'-', b'I', ..] => NumberText::Special,
        [] => NumberText::Invalid,
        _ => NumberText::Plain,
    }
}

/// "00" to "99": two decimal digits per table lookup.
pub const DIGIT_PAIRS: &[u8; 200] =
    b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Appends an unsigned decimal number.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let r = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
    }
    if v >= 10 {
        let r = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    push_bytes(out, &buf[i..]);
}

/// Appends a signed decimal number (same text as PostgreSQL's int2/4/8 output).
#[inline]
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
        push_u64(out, v.unsigned_abs());
    } else {
        push_u64(out, v as u64);
    }
}

/// Appends an LSN as PostgreSQL's `pg_lsn_out` prints it (`%X/%X`).
pub fn push_lsn(out: &mut Vec<u8>, lsn: u64) {
    fn hex(out: &mut Vec<u8>, v: u32) {
        let mut buf = [0u8; 8];
        let mut i = buf.len();
        let mut v = v;
        loop {
            i -= 1;
            buf[i] = HEX[(v & 15) as usize].to_ascii_uppercase();
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        out.extend_from_slice(&buf[i..]);
    }
    hex(out, (lsn >> 32) as u32);
    out.push(b'/');
    hex(out, lsn as u32);
}

#[cfg(test)]
mod tests {

    #[test]
    fn push_bytes_copies_every_length() {
        let src: Vec<u8> = (0..200u8).collect();
        for n in 0..=130 {
            let mut out = b"ab".to_vec();
            super::push_bytes(&mut out, &src[..n]);
            assert_eq!(&out[..2], b"ab");
            assert_eq!(&out[2..], &src[..n], "length {n}");
        }
    }

    #[test]
    fn escaping_twice_equals_escaping_the_escaped() {
        let all: Vec<u8> = (1..=255u8).chain(b"plain run of text \"q\" \\ end".iter().copied()).collect();
        for s in [&all[..], b"", b"abcdefghijklmnop", b"\"", b"\\\\", b"\x01abcdefgh\x1f"] {
            let (mut once, mut twice, mut direct) = (Vec::new(), Vec::new(), Vec::new());
            escape_into(&mut once, s);
            escape_into(&mut twice, &once);
            escape_twice_into(&mut direct, s);
            assert_eq!(direct, twice);
        }
    }

    use super::*;

    fn esc(s: &[u8]) -> String {
        let mut v = Vec::new();
        string(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_like_escape_json() {
        assert_eq!(esc(b"plain"), "\"plain\"");
        assert_eq!(esc(b"a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
        assert_eq!(esc(b"\x08\x0c\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
        assert_eq!(esc(b"\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
        assert_eq!(esc("ⁿ 陿 😀".as_bytes()), "\"ⁿ 陿 😀\"");
        assert_eq!(esc(b""), "\"\"");
    }

    #[test]
    fn escaped_strings_parse_back() {
        let mut all = Vec::new();
        for b in 1u8..0x80 {
            all.push(b);
        }
        let s = esc(&all);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back.as_bytes(), &all[..]);
    }

    #[test]
    fn block_scan_agrees_with_the_table() {
        // every byte value at every position of a 8..24-byte string
        for len in 8..24 {
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut s = vec![b'a'; len];
                    s[pos] = b;
                    let mut fast = Vec::new();
                    escape_into(&mut fast, &s);
                    let mut slow = Vec::new();
                    for &c in &s {
                        match ESCAPE[c as usize] {
                            0 => slow.push(c),
                            b'u' => slow.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
                            e => slow.extend_from_slice(&[b'\\', e]),
                        }
                    }
                    assert_eq!(fast, slow, "len {len} pos {pos} byte {b}");
                }
            }
        }
    }

    #[test]
    fn lossy_utf8_is_valid_json() {
        let mut v = Vec::new();
        string_lossy_utf8(&mut v, b"ok\0\xff\xfe x \xe2\x82");
        let s = String::from_utf8(v).unwrap();
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "ok\u{0}\u{fffd}\u{fffd} x \u{fffd}\u{fffd}");
        let mut v = Vec::new();
        string_lossy_utf8(&mut v, "héllo \"q\"".as_bytes());
        assert_eq!(String::from_utf8(v).unwrap(), "\"héllo \\\"q\\\"\"");
    }

    #[test]
    fn base64_and_hex_match_rfc_4648() {
        let enc = |f: fn(&mut Vec<u8>, &[u8]), b: &[u8]| {
            let mut v = Vec::new();
            f(&mut v, b);
            String::from_utf8(v).unwrap()
        };
        // RFC 4648 section 10's test vectors.
        for (plain, b64, hex) in [
            ("", "", ""),
            ("f", "Zg==", "66"),
            ("fo", "Zm8=", "666f"),
            ("foo", "Zm9v", "666f6f"),
            ("foob", "Zm9vYg==", "666f6f62"),
            ("fooba", "Zm9vYmE=", "666f6f6261"),
            ("foobar", "Zm9vYmFy", "666f6f626172"),
        ] {
            assert_eq!(enc(base64_into, plain.as_bytes()), b64, "{plain}");
            assert_eq!(enc(hex_into, plain.as_bytes()), hex, "{plain}");
        }
        let all: Vec<u8> = (0..=255u8).rev().collect();
        assert_eq!(&enc(base64_into, &all)[..8], "//79/Pv6");
        assert_eq!(&enc(hex_into, &all)[..6], "fffefd");
    }

    #[test]
    fn message_content_in_each_encoding() {
        let payload = b"a\0\xff\"";
        let enc = |e: MessageContent, utf8_db: bool| {
            let mut v = Vec::new();
            message_content(&mut v, e, payload, utf8_db);
            v
        };
        assert_eq!(enc(MessageContent::Text, true), "\"a\\u0000\u{fffd}\\\"\"".as_bytes());
        assert_eq!(enc(MessageContent::Text, false), b"\"a\\u0000\xff\\\"\"");
        assert_eq!(enc(MessageContent::Base64, true), b"\"YQD/Ig==\"");
        assert_eq!(enc(MessageContent::Hex, false), b"\"6100ff22\"");
    }

    #[test]
    fn type_names() {
        let t = |n: &str, arr: bool| {
            let mut v = Vec::new();
            type_name(&mut v, n.as_bytes(), arr);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(t("integer", false), "\"integer\"");
        assert_eq!(t("\"MyType\"", false), "\"MyType\"");
        assert_eq!(t("\"MyType\"[]", false), "\"\\\"MyType\\\"[]\"");
        assert_eq!(t("\"int\".foo", false), "\"\\\"int\\\".foo\"");
        assert_eq!(t("\"a\"\"b\"", false), "\"\\\"a\\\"\\\"b\\\"\"");
        assert_eq!(t("character varying(30)", false), "\"character varying(30)\"");
    }

    #[test]
    fn numbers() {
        assert_eq!(classify_number(b"-12.5e+10"), NumberText::Plain);
        assert_eq!(classify_number(b"NaN"), NumberText::Special);
        assert_eq!(classify_number(b"-Infinity"), NumberText::Special);
        assert_eq!(classify_number(b"infinity"), NumberText::Special);
        assert_eq!(classify_number(b"12a"), NumberText::Invalid);
        assert_eq!(classify_number(b""), NumberText::Invalid);
        for t in ["NaN", "Infinity", "-Infinity", "0", "-0", "1e+15", "-1.5e-05", "123.4500"] {
            assert_eq!(classify_builtin_number(t.as_bytes()), classify_number(t.as_bytes()), "{t}");
        }
        let mut v = Vec::new();
        push_i64(&mut v, i64::MIN);
        v.push(b' ');
        push_i64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        v.push(b' ');
        push_lsn(&mut v, 0x1_0000_00AB);
        v.push(b' ');
        push_lsn(&mut v, 0);
        assert_eq!(String::from_utf8(v).unwrap(), "-9223372036854775808 0 18446744073709551615 1/AB 0/0");
        // Every digit count, at and around each power of ten.
        let mut p = 1u64;
        for _ in 0..20 {
            for x in [p - 1, p, p + 1, p.wrapping_mul(7).wrapping_add(3)] {
                for neg in [false, true] {
                    let mut v = b"x".to_vec();
                    if neg && x <= i64::MAX as u64 {
                        push_i64(&mut v, -(x as i64));
                        assert_eq!(v, format!("x{}", -(x as i64)).into_bytes());
                    } else {
                        push_u64(&mut v, x);
                        assert_eq!(v, format!("x{x}").into_bytes());
                    }
                }
            }
            p = p.saturating_mul(10);
        }
    }
}
