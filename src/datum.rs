//! Datum -> JSON token.
//!
//! The bytes are those wal2json writes: the type's output function, then
//! numbers bare (NaN/Infinity as null), booleans as true/false, bytea without
//! its `\x`, everything else as an escaped string. A few types skip the output
//! function because their text is provably the same: int2/int4/int8/oid are
//! plain decimal (`int2out`..`oidout` use the same digits), bool is `t`/`f`,
//! and text/varchar/bpchar output functions return their bytes unchanged.

use crate::json::{self, NumberText};
use pgrx::pg_sys;
use std::ffi::CStr;

/// How a column's values are rendered (chosen once per column from its type OID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Int2,
    Int4,
    Int8,
    Oid,
    Bool,
    /// text, varchar, bpchar: the varlena bytes are the output text.
    Text,
    /// float4, float8, numeric: output function, then wal2json's number rule.
    Number,
    Bytea,
    Other,
}

impl ValueKind {
    /// wal2json classifies by the column's own type OID (so a domain over int
    /// is a quoted string in format-version 2).
    pub fn for_type(typoid: pg_sys::Oid) -> ValueKind {
        match typoid {
            pg_sys::INT2OID => ValueKind::Int2,
            pg_sys::INT4OID => ValueKind::Int4,
            pg_sys::INT8OID => ValueKind::Int8,
            pg_sys::OIDOID => ValueKind::Oid,
            pg_sys::BOOLOID => ValueKind::Bool,
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID => ValueKind::Text,
            pg_sys::FLOAT4OID | pg_sys::FLOAT8OID | pg_sys::NUMERICOID => ValueKind::Number,
            pg_sys::BYTEAOID => ValueKind::Bytea,
            _ => ValueKind::Other,
        }
    }
}

/// True for an UPDATE's unchanged TOASTed column: an on-disk TOAST pointer
/// that the WAL record does not carry (wal2json leaves such columns out).
///
/// # Safety
/// `datum` is a non-null value of an attribute with length `attlen`.
pub unsafe fn is_unchanged_toast(datum: pg_sys::Datum, attlen: i16) -> bool {
    if attlen != -1 {
        return false;
    }
    let p = datum.cast_mut_ptr::<pg_sys::varlena>();
    pgrx::varlena::varatt_is_1b_e(p) && pgrx::varlena::vartag_external(p) == pg_sys::vartag_external::VARTAG_ONDISK as u8
}

/// Error text when a numeric type's output is not a number (wal2json's ERROR).
pub struct NotANumber(pub String);

fn push_int(out: &mut Vec<u8>, v: i64, quoted: bool) {
    if quoted {
        out.push(b'"');
        json::push_i64(out, v);
        out.push(b'"');
    } else {
        json::push_i64(out, v);
    }
}

/// Appends the JSON token of a non-null value.
///
/// # Safety
/// `datum` is a non-null, not-unchanged-TOAST value of a column whose type
/// matches `kind`; `finfo` is that type's output function (initialised).
/// Palloc'd results go to the current memory context, which the caller resets
/// after each change.
pub unsafe fn write_value(
    out: &mut Vec<u8>,
    kind: ValueKind,
    finfo: *mut pg_sys::FmgrInfo,
    datum: pg_sys::Datum,
    numbers_as_string: bool,
) -> Result<(), NotANumber> {
    let raw = datum.value();
    match kind {
        ValueKind::Int2 => push_int(out, raw as i16 as i64, numbers_as_string),
        ValueKind::Int4 => push_int(out, raw as i32 as i64, numbers_as_string),
        ValueKind::Int8 => push_int(out, raw as i64, numbers_as_string),
        ValueKind::Oid => push_int(out, raw as u32 as i64, numbers_as_string),
        ValueKind::Bool => out.extend_from_slice(if raw as u8 != 0 { b"true" } else { b"false" }),
        ValueKind::Text => {
            // Short (1-byte header) and plain 4-byte values are read in place;
            // only compressed or external ones go through detoasting (into
            // the per-change context). The header test is plain Rust, so the
            // common case makes no guarded call into PostgreSQL.
            let p = datum.cast_mut_ptr::<pg_sys::varlena>();
            let inline = (pgrx::varlena::varatt_is_1b(p) && !pgrx::varlena::varatt_is_1b_e(p))
                || pgrx::varlena::varatt_is_4b_u(p);
            let v = if inline { p } else { pg_sys::pg_detoast_datum_packed(p) };
            let len = pgrx::varlena::varsize_any_exhdr(v);
            let data = pgrx::varlena::vardata_any(v) as *const u8;
            json::string(out, std::slice::from_raw_parts(data, len));
        }
        ValueKind::Number | ValueKind::Bytea | ValueKind::Other => {
            let text = CStr::from_ptr(pg_sys::OutputFunctionCall(finfo, datum)).to_bytes();
            match kind {
                ValueKind::Number => match (json::classify_builtin_number(text), numbers_as_string) {
                    (NumberText::Invalid, _) => {
                        return Err(NotANumber(format!("{} is not a number", String::from_utf8_lossy(text))))
                    }
                    (_, true) => json::string(out, text),
                    (NumberText::Special, false) => out.extend_from_slice(b"null"),
                    (NumberText::Plain, false) => out.extend_from_slice(text),
                },
                // wal2json drops the first two characters (the `\x` of the hex
                // format). With bytea_output=escape there is no `\x` and wal2json
                // cuts real data (its issue #301); we keep the whole text then.
                ValueKind::Bytea => match text.strip_prefix(b"\\x") {
                    Some(hex) => json::string(out, hex),
                    None => json::string(out, text),
                },
                _ => json::string(out, text),
            }
        }
    }
    Ok(())
}
