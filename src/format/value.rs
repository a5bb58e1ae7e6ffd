//! Values: what the decoder hands over (`Scalar`) and how a format writes
//! it (`ValueStyle`).
//!
//! Reading a datum (detoasting, the fast paths over on-disk forms, output
//! functions) is FFI work in `datum.rs`; it ends in a `Scalar`, which says
//! what the value is without deciding how it is printed. A style turns it
//! into a JSON token. Styles are pure Rust, chosen per format.

use crate::json::{self, NumberText};

/// How a column's values are decoded (chosen once per column from its type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Int2,
    Int4,
    Int8,
    Oid,
    Bool,
    /// text, varchar, bpchar: the varlena bytes are the output text.
    Text,
    Float4,
    Float8,
    Numeric,
    Timestamp,
    TimestampTz,
    Bytea,
    Jsonb,
    Json,
    Uuid,
    Date,
    Time,
    TimeTz,
    Interval,
    /// An array (its elements are decoded by their own kind).
    Array,
    /// A composite type (its fields are decoded by their own kind).
    Composite,
    Other,
}

/// A decoded, non-null value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// int2, int4, int8, oid.
    Int(i64),
    Bool(bool),
    /// text, varchar, bpchar: the string's bytes.
    Text(&'a [u8]),
    /// numeric in its on-disk form (the varlena's payload).
    Numeric(&'a [u8]),
    /// jsonb in its on-disk form (the varlena's payload).
    Jsonb(&'a [u8]),
    /// timestamp (µs since 2000-01-01) to print as the session prints it in
    /// DateStyle ISO: `utc_offset` is the session zone's fixed offset in
    /// seconds for timestamptz, None for timestamp.
    IsoTimestamp {
        micros: i64,
        utc_offset: Option<i32>,
    },
    /// The text of the type's output function (or of the very routine it
    /// calls, for floats and timestamps), for a column of `kind`.
    Output {
        kind: ValueKind,
        text: &'a [u8],
    },
    /// uuid's 16 bytes (`uuid_out` prints them the same in every session).
    Uuid(&'a [u8; 16]),
    // The forms below are decoded only for session-independent styles
    // (`ValueStyle::SESSION_INDEPENDENT`); the others take the output function.
    /// bytea's bytes.
    Bytes(&'a [u8]),
    /// json's text (valid JSON: json_in checked it).
    Json(&'a [u8]),
    /// timestamp or timestamptz (µs since 2000-01-01 UTC).
    Timestamp {
        micros: i64,
        with_tz: bool,
    },
    /// date (days since 2000-01-01).
    Date(i32),
    /// time or timetz: µs into the day, and timetz's zone in seconds west of UTC.
    Time {
        micros: i64,
        zone_west: Option<i32>,
    },
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
}

/// A numeric type's output that is not a number (wal2json's ERROR text).
#[derive(Debug, PartialEq, Eq)]
pub struct NotANumber(pub String);

/// How a format writes values.
pub trait ValueStyle {
    /// True when the text must not depend on session settings: dates,
    /// times, floats and bytea are then decoded into `Scalar`s of their own
    /// and arrays into their elements, rather than printed by output
    /// functions that follow DateStyle, extra_float_digits, bytea_output.
    const SESSION_INDEPENDENT: bool;
    /// Domain columns are decoded as their base type (else as the domain).
    fn domains_as_base(&self) -> bool;
    /// Appends `v`'s JSON token. `Ok(false)`, with nothing appended, when
    /// this style cannot write this form (an on-disk form it does not read,
    /// a timestamp out of its range): the decoder then falls back to the
    /// type's output function and writes `Scalar::Output`.
    fn write(&self, out: &mut Vec<u8>, v: Scalar<'_>) -> Result<bool, NotANumber>;
}

/// wal2json's values (formats 1 and 2): the type's output text; numbers
/// bare (NaN and infinities as null), or quoted with
/// numeric-data-types-as-string; booleans as true/false; bytea without its
/// `\x`; everything else, jsonb included, as an escaped JSON string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wal2json {
    pub numbers_as_string: bool,
    pub domains_as_base: bool,
}

/// An integer, quoted with numeric-data-types-as-string.
fn int(out: &mut Vec<u8>, v: i64, quoted: bool) {
    if quoted {
        out.push(b'"');
        json::push_i64(out, v);
        out.push(b'"');
    } else {
        json::push_i64(out, v);
    }
}

impl Wal2json {
    /// A numeric type's output text.
    fn number(&self, out: &mut Vec<u8>, text: &[u8]) -> Result<(), NotANumber> {
        match (json::classify_builtin_number(text), self.numbers_as_string) {
            (NumberText::Invalid, _) => {
                return Err(NotANumber(format!("{} is not a number", String::from_utf8_lossy(text))))
            }
            (_, true) => json::string(out, text),
            (NumberText::Special, false) => out.extend_from_slice(b"null"),
            (NumberText::Plain, false) => json::push_bytes(out, text),
        }
        Ok(())
    }

    /// numeric from its on-disk digits, written as `number` writes its text.
    fn numeric(&self, out: &mut Vec<u8>, payload: &[u8]) -> bool {
        let start = out.len();
        if self.numbers_as_string {
            out.push(b'"');
        }
        if !crate::numeric::numeric_text(out, payload) {
            out.truncate(start);
            return false;
        }
        // Digits, sign and dot need no escaping.
        if self.numbers_as_string {
            out.push(b'"');
        } else if matches!(json::classify_builtin_number(&out[start..]), NumberText::Special) {
            out.truncate(start);
            out.extend_from_slice(b"null");
        }
        true
    }
}

impl ValueStyle for Wal2json {
    const SESSION_INDEPENDENT: bool = false;

    fn domains_as_base(&self) -> bool {
        self.domains_as_base
    }

    #[inline(always)]
    fn write(&self, out: &mut Vec<u8>, v: Scalar<'_>) -> Result<bool, NotANumber> {
        match v {
            Scalar::Int(i) => int(out, i, self.numbers_as_string),
            Scalar::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Scalar::Text(s) => json::string(out, s),
            Scalar::Numeric(payload) => return Ok(self.numeric(out, payload)),
            Scalar::Jsonb(payload) => {
                let start = out.len();
                if !crate::jsonb::jsonb_json_string(out, payload) {
                    out.truncate(start);
                    return Ok(false);
                }
            }
            Scalar::IsoTimestamp { micros, utc_offset } => {
                let start = out.len();
                out.push(b'"');
                // Digits, `-`, `:`, `.`, `+` and spaces need no escaping.
                if !crate::datetime::iso_timestamp(out, micros, utc_offset) {
                    out.truncate(start);
                    return Ok(false);
                }
                out.push(b'"');
            }
            Scalar::Output { kind: ValueKind::Float4 | ValueKind::Float8 | ValueKind::Numeric, text } => {
                self.number(out, text)?
            }
            // wal2json drops the first two characters (the `\x` of the hex
            // format). With bytea_output=escape there is no `\x` and wal2json
            // cuts real data (its issue #301); we keep the whole text then.
            Scalar::Output { kind: ValueKind::Bytea, text } => {
                json::string(out, text.strip_prefix(b"\\x").unwrap_or(text))
            }
            Scalar::Output { text, .. } => json::string(out, text),
            Scalar::Uuid(bytes) => uuid(out, bytes),
            // Not decoded for this style (see SESSION_INDEPENDENT).
            Scalar::Bytes(_)
            | Scalar::Json(_)
            | Scalar::Timestamp { .. }
            | Scalar::Date(_)
            | Scalar::Time { .. }
            | Scalar::Interval { .. } => return Ok(false),
        }
        Ok(true)
    }
}

/// `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`, as uuid_out prints it.
fn uuid(out: &mut Vec<u8>, bytes: &[u8; 16]) {
    out.push(b'"');
    for (i, chunk) in [&bytes[0..4], &bytes[4..6], &bytes[6..8], &bytes[8..10], &bytes[10..16]].iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        json::hex_into(out, chunk);
    }
    out.push(b'"');
}

/// How format 3 writes bytea.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryEncoding {
    /// `"\\x0aff"`: bytea's own hex text, which PostgreSQL reads back.
    Hex,
    /// RFC 4648 base64, what Debezium's and Flink's JSON readers expect for bytes.
    Base64,
}

/// Format 3's values: typed and lossless, as `to_jsonb` writes them but
/// independent of session settings. Numbers are JSON numbers (strings
/// with numeric-data-types-as-string), NaN and the infinities the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"`; json and jsonb embedded; dates and
/// times in ISO 8601, timestamptz in UTC with `Z`; intervals in ISO 8601;
/// bytea as `"\\x…"` or base64; every other type its output text as a string.
#[derive(Debug, Clone, Copy)]
pub struct Typed {
    pub numbers_as_string: bool,
    pub binary: BinaryEncoding,
}

impl Typed {
    /// A number's text (digits, or NaN / Infinity / -Infinity). A float's
    /// `-0` is a string too: as a JSON number, readers (jsonb among them)
    /// lose its sign.
    fn number(&self, out: &mut Vec<u8>, text: &[u8]) -> Result<(), NotANumber> {
        if text == b"-0" {
            json::string(out, text);
            return Ok(());
        }
        match json::classify_builtin_number(text) {
            NumberText::Invalid => {
                return Err(NotANumber(format!("{} is not a number", String::from_utf8_lossy(text))))
            }
            NumberText::Special => json::string(out, text),
            NumberText::Plain if self.numbers_as_string => json::string(out, text),
            NumberText::Plain => json::push_bytes(out, text),
        }
        Ok(())
    }

    fn numeric(&self, out: &mut Vec<u8>, payload: &[u8]) -> bool {
        let start = out.len();
        out.push(b'"');
        if !crate::numeric::numeric_text(out, payload) {
            out.truncate(start);
            return false;
        }
        // Digits, sign and dot need no escaping; a plain number loses its quotes.
        let special = matches!(json::classify_builtin_number(&out[start + 1..]), NumberText::Special);
        if special || self.numbers_as_string {
            out.push(b'"');
        } else {
            out.remove(start);
        }
        true
    }

    /// A text that is already a JSON string's inside (digits, dates): quoted.
    fn quoted(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let start = out.len();
        out.push(b'"');
        if !write(out) {
            out.truncate(start);
            return false;
        }
        out.push(b'"');
        true
    }
}

impl ValueStyle for Typed {
    const SESSION_INDEPENDENT: bool = true;

    /// `to_jsonb` looks through domains to their base type.
    fn domains_as_base(&self) -> bool {
        true
    }

    #[inline(always)]
    fn write(&self, out: &mut Vec<u8>, v: Scalar<'_>) -> Result<bool, NotANumber> {
        use crate::datetime;
        let done = match v {
            Scalar::Int(i) => {
                int(out, i, self.numbers_as_string);
                true
            }
            Scalar::Bool(b) => {
                out.extend_from_slice(if b { b"true" } else { b"false" });
                true
            }
            Scalar::Text(s) => {
                json::string(out, s);
                true
            }
            Scalar::Numeric(payload) => self.numeric(out, payload),
            Scalar::Jsonb(payload) => {
                let start = out.len();
                let ok = crate::jsonb::jsonb_text(out, payload);
                if !ok {
                    out.truncate(start);
                }
                ok
            }
            Scalar::Output { kind: ValueKind::Float4 | ValueKind::Float8 | ValueKind::Numeric, text } => {
                self.number(out, text)?;
                true
            }
            // jsonb_out's and json's text is JSON already.
            Scalar::Output { kind: ValueKind::Jsonb | ValueKind::Json, text } | Scalar::Json(text) => {
                embed_json(out, text);
                true
            }
            Scalar::Output { text, .. } => {
                json::string(out, text);
                true
            }
            Scalar::Uuid(bytes) => {
                uuid(out, bytes);
                true
            }
            Scalar::Bytes(bytes) => {
                out.push(b'"');
                match self.binary {
                    BinaryEncoding::Hex => {
                        out.extend_from_slice(b"\\\\x");
                        json::hex_into(out, bytes);
                    }
                    BinaryEncoding::Base64 => json::base64_into(out, bytes),
                }
                out.push(b'"');
                true
            }
            Scalar::Timestamp { micros, with_tz } => {
                Self::quoted(out, |o| datetime::json_timestamp(o, micros, with_tz))
            }
            Scalar::Date(days) => Self::quoted(out, |o| datetime::json_date(o, days)),
            Scalar::Time { micros, zone_west } => Self::quoted(out, |o| datetime::json_time(o, micros, zone_west)),
            Scalar::Interval { months, days, micros } => {
                out.push(b'"');
                datetime::iso8601_interval(out, months, days, micros);
                out.push(b'"');
                true
            }
            // Decoded only for wal2json's DateStyle-dependent text.
            Scalar::IsoTimestamp { .. } => false,
        };
        Ok(done)
    }
}

/// Embeds a JSON text: json's whitespace may hold newlines and tabs, which
/// become spaces so that every message stays on one line (JSON strings
/// cannot hold them raw, so only whitespace between tokens changes).
fn embed_json(out: &mut Vec<u8>, text: &[u8]) {
    let start = out.len();
    out.extend_from_slice(text);
    for b in &mut out[start..] {
        if matches!(*b, b'\n' | b'\r' | b'\t') {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(style: &Wal2json, v: Scalar<'_>) -> Result<Option<String>, NotANumber> {
        let mut out = b"[".to_vec();
        let done = style.write(&mut out, v)?;
        if !done {
            assert_eq!(out, b"[", "nothing appended when not handled");
            return Ok(None);
        }
        Ok(Some(String::from_utf8(out[1..].to_vec()).unwrap()))
    }

    /// numeric's on-disk payload in the long form: sign and display scale, weight, base-10000 digits.
    fn numeric_payload(negative: bool, weight: i16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let sign: u16 = if negative { 0x4000 } else { 0 };
        let mut p = (sign | dscale).to_ne_bytes().to_vec();
        p.extend_from_slice(&weight.to_ne_bytes());
        for d in digits {
            p.extend_from_slice(&d.to_ne_bytes());
        }
        p
    }

    #[test]
    fn wal2json_numbers() {
        let plain = Wal2json::default();
        let quoted = Wal2json { numbers_as_string: true, ..Default::default() };
        assert_eq!(w(&plain, Scalar::Int(-42)), Ok(Some("-42".into())));
        assert_eq!(w(&quoted, Scalar::Int(i64::MIN)), Ok(Some("\"-9223372036854775808\"".into())));
        let float = |t: &'static str| Scalar::Output { kind: ValueKind::Float8, text: t.as_bytes() };
        assert_eq!(w(&plain, float("1.5e+300")), Ok(Some("1.5e+300".into())));
        for special in ["NaN", "Infinity", "-Infinity"] {
            assert_eq!(w(&plain, float(special)), Ok(Some("null".into())));
            assert_eq!(w(&quoted, float(special)), Ok(Some(format!("\"{special}\""))));
        }
        assert_eq!(w(&plain, float("")), Err(NotANumber(" is not a number".into())));
        let numeric = Scalar::Output { kind: ValueKind::Numeric, text: b"-0.000100" };
        assert_eq!(w(&plain, numeric), Ok(Some("-0.000100".into())));
    }

    #[test]
    fn wal2json_numeric_on_disk() {
        let plain = Wal2json::default();
        let quoted = Wal2json { numbers_as_string: true, ..Default::default() };
        // 12345.67: weight 1, digits 1 2345 6700, dscale 2
        let p = numeric_payload(true, 1, 2, &[1, 2345, 6700]);
        assert_eq!(w(&plain, Scalar::Numeric(&p)), Ok(Some("-12345.67".into())));
        assert_eq!(w(&quoted, Scalar::Numeric(&p)), Ok(Some("\"-12345.67\"".into())));
        // NaN in the short header form: 0xC000
        let nan = 0xC000u16.to_ne_bytes();
        assert_eq!(w(&plain, Scalar::Numeric(&nan)), Ok(Some("null".into())));
        assert_eq!(w(&quoted, Scalar::Numeric(&nan)), Ok(Some("\"NaN\"".into())));
        // A truncated payload is not read: the output function takes over.
        assert_eq!(w(&plain, Scalar::Numeric(&p[..3])), Ok(None));
    }

    #[test]
    fn wal2json_strings_bytea_jsonb_timestamps() {
        let s = Wal2json::default();
        assert_eq!(w(&s, Scalar::Bool(true)), Ok(Some("true".into())));
        assert_eq!(w(&s, Scalar::Bool(false)), Ok(Some("false".into())));
        assert_eq!(w(&s, Scalar::Text(b"a\"b\n")), Ok(Some("\"a\\\"b\\n\"".into())));
        let bytea = |t: &'static [u8]| Scalar::Output { kind: ValueKind::Bytea, text: t };
        assert_eq!(w(&s, bytea(b"\\x00ff")), Ok(Some("\"00ff\"".into())));
        // bytea_output=escape: no \x to strip, the text is kept whole.
        assert_eq!(w(&s, bytea(b"ab\\000")), Ok(Some("\"ab\\\\000\"".into())));
        let other = Scalar::Output { kind: ValueKind::Other, text: b"{1,2}" };
        assert_eq!(w(&s, other), Ok(Some("\"{1,2}\"".into())));
        // jsonb's output text (the fallback) is a string too, as is its on-disk form.
        let jsonb_text = Scalar::Output { kind: ValueKind::Jsonb, text: b"{\"a\": 1}" };
        assert_eq!(w(&s, jsonb_text), Ok(Some("\"{\\\"a\\\": 1}\"".into())));
        assert_eq!(w(&s, Scalar::Jsonb(&[1, 2])), Ok(None));
        let ts = Scalar::IsoTimestamp { micros: 0, utc_offset: Some(3600) };
        assert_eq!(w(&s, ts), Ok(Some("\"2000-01-01 01:00:00+01\"".into())));
        let ts = Scalar::IsoTimestamp { micros: -1, utc_offset: None };
        assert_eq!(w(&s, ts), Ok(Some("\"1999-12-31 23:59:59.999999\"".into())));
        let far = Scalar::IsoTimestamp { micros: i64::MAX - 1, utc_offset: None };
        assert_eq!(w(&s, far), Ok(None));
    }

    fn t(style: &Typed, v: Scalar<'_>) -> Option<String> {
        let mut out = b"[".to_vec();
        if !style.write(&mut out, v).unwrap() {
            assert_eq!(out, b"[");
            return None;
        }
        Some(String::from_utf8(out[1..].to_vec()).unwrap())
    }

    #[test]
    fn typed_values() {
        let s = Typed { numbers_as_string: false, binary: BinaryEncoding::Hex };
        let q = Typed { numbers_as_string: true, binary: BinaryEncoding::Base64 };
        let some = |x: &str| Some(x.to_string());
        assert_eq!(t(&s, Scalar::Int(-5)), some("-5"));
        assert_eq!(t(&q, Scalar::Int(-5)), some("\"-5\""));
        let float = |text: &'static str| Scalar::Output { kind: ValueKind::Float8, text: text.as_bytes() };
        assert_eq!(t(&s, float("1e+100")), some("1e+100"));
        assert_eq!(t(&s, float("NaN")), some("\"NaN\""));
        assert_eq!(t(&s, float("-Infinity")), some("\"-Infinity\""));
        assert_eq!(t(&q, float("0.5")), some("\"0.5\""));
        assert_eq!(t(&s, float("-0")), some("\"-0\""));
        let p = numeric_payload(false, 0, 2, &[12, 3400]);
        assert_eq!(t(&s, Scalar::Numeric(&p)), some("12.34"));
        assert_eq!(t(&q, Scalar::Numeric(&p)), some("\"12.34\""));
        let nan = 0xC000u16.to_ne_bytes();
        assert_eq!(t(&s, Scalar::Numeric(&nan)), some("\"NaN\""));
        assert_eq!(t(&s, Scalar::Numeric(&p[..3])), None);
        assert_eq!(t(&s, Scalar::Bytes(b"\x00\xff")), some("\"\\\\x00ff\""));
        assert_eq!(t(&q, Scalar::Bytes(b"\x00\xff")), some("\"AP8=\""));
        assert_eq!(t(&s, Scalar::Json(b"{\"a\":\n\t[1, \"x\\ty\"]}")), some("{\"a\":  [1, \"x\\ty\"]}"));
        let jsonb_text = Scalar::Output { kind: ValueKind::Jsonb, text: b"{\"a\": 1}" };
        assert_eq!(t(&s, jsonb_text), some("{\"a\": 1}"));
        assert_eq!(t(&s, Scalar::Timestamp { micros: 0, with_tz: true }), some("\"2000-01-01T00:00:00Z\""));
        assert_eq!(t(&s, Scalar::Timestamp { micros: i64::MAX, with_tz: false }), some("\"infinity\""));
        assert_eq!(t(&s, Scalar::Timestamp { micros: i64::MAX - 1, with_tz: false }), None);
        assert_eq!(t(&s, Scalar::Date(-1)), some("\"1999-12-31\""));
        assert_eq!(t(&s, Scalar::Time { micros: 1_500_000, zone_west: Some(-3600) }), some("\"00:00:01.5+01:00\""));
        assert_eq!(t(&s, Scalar::Interval { months: 1, days: 0, micros: 0 }), some("\"P1M\""));
        let uuid: [u8; 16] = *b"\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11";
        assert_eq!(t(&s, Scalar::Uuid(&uuid)), some("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""));
        let other = Scalar::Output { kind: ValueKind::Other, text: b"(1,\"x\")" };
        assert_eq!(t(&s, other), some("\"(1,\\\"x\\\")\""));
        // wal2json's session-dependent timestamp form is not this style's.
        assert_eq!(t(&s, Scalar::IsoTimestamp { micros: 0, utc_offset: None }), None);
    }
}
