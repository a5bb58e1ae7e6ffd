//! Datum -> JSON token.
//!
//! The bytes are those wal2json writes: the type's output function, then
//! numbers bare (NaN/Infinity as null), booleans as true/false, bytea without
//! its `\x`, everything else as an escaped string. Common types skip the
//! output function (its fmgr call, palloc and guarded FFI boundary) where the
//! text is provably the same:
//! - int2/int4/int8/oid are plain decimal (`int2out`..`oidout` use the same
//!   digits), bool is `t`/`f`, text/varchar/bpchar return their bytes unchanged;
//! - numeric is formatted here from its on-disk digits, the same algorithm as
//!   `numeric_out` (it depends on no setting);
//! - float4/float8 call the very routine their output functions call when
//!   `extra_float_digits > 0` (the default); other settings use the output
//!   function;
//! - jsonb is printed from its on-disk form like `jsonb_out` (`jsonb.rs`);
//! - timestamp/timestamptz are computed here (`datetime.rs`) in DateStyle ISO
//!   when the session time zone has a single UTC offset, and otherwise go
//!   through the same two routines as their output functions (so every
//!   DateStyle and time zone applies); infinities use the output function.
//!
//! The regression suite compares every fast path with the output function on
//! edge values (`pg_test/sql/fastpath.sql`).

use crate::json::{self, NumberText};
use crate::unguarded;
use pgrx::pg_sys;
use std::ffi::CStr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

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
    Float4,
    Float8,
    Numeric,
    Timestamp,
    TimestampTz,
    Bytea,
    Jsonb,
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
            pg_sys::FLOAT4OID => ValueKind::Float4,
            pg_sys::FLOAT8OID => ValueKind::Float8,
            pg_sys::NUMERICOID => ValueKind::Numeric,
            pg_sys::TIMESTAMPOID => ValueKind::Timestamp,
            pg_sys::TIMESTAMPTZOID => ValueKind::TimestampTz,
            pg_sys::BYTEAOID => ValueKind::Bytea,
            pg_sys::JSONBOID => ValueKind::Jsonb,
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
    pgrx::varlena::varatt_is_1b_e(p)
        && pgrx::varlena::vartag_external(p) == pg_sys::vartag_external::VARTAG_ONDISK as u8
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

/// wal2json's rendering of a numeric type's output text.
fn push_number(out: &mut Vec<u8>, text: &[u8], numbers_as_string: bool) -> Result<(), NotANumber> {
    match (json::classify_builtin_number(text), numbers_as_string) {
        (NumberText::Invalid, _) => {
            return Err(NotANumber(format!("{} is not a number", String::from_utf8_lossy(text))))
        }
        (_, true) => json::string(out, text),
        (NumberText::Special, false) => out.extend_from_slice(b"null"),
        (NumberText::Plain, false) => json::append(out, text),
    }
    Ok(())
}

/// Points at a varlena's bytes, detoasting (into the current memory context)
/// only compressed or external values; short and plain ones are read in place.
///
/// # Safety
/// `datum` is a non-null varlena that stays valid while the slice is used.
unsafe fn varlena_bytes<'a>(datum: pg_sys::Datum) -> &'a [u8] {
    let p = datum.cast_mut_ptr::<pg_sys::varlena>();
    // The header test is plain Rust, so the common case makes no guarded call.
    let inline =
        (pgrx::varlena::varatt_is_1b(p) && !pgrx::varlena::varatt_is_1b_e(p)) || pgrx::varlena::varatt_is_4b_u(p);
    let v = if inline { p } else { pg_sys::pg_detoast_datum_packed(p) };
    let len = pgrx::varlena::varsize_any_exhdr(v);
    std::slice::from_raw_parts(pgrx::varlena::vardata_any(v) as *const u8, len)
}

/// Appends the JSON token of a non-null value.
///
/// # Safety
/// `datum` is a non-null, not-unchanged-TOAST value of a column whose type
/// matches `kind`; `finfo` is that type's output function (initialised).
/// Palloc'd results go to the current memory context, which the caller resets
/// after each change.
#[inline(always)]
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
        ValueKind::Text => json::string(out, varlena_bytes(datum)),
        ValueKind::Float4 | ValueKind::Float8 if pg_sys::extra_float_digits > 0 => {
            // 32 bytes: the buffer size float4out/float8out allocate.
            let mut buf = [0 as std::ffi::c_char; 32];
            // SAFETY: the routines write at most 25 bytes; see `unguarded`.
            let len = if kind == ValueKind::Float8 {
                unguarded::double_to_shortest_decimal_bufn(f64::from_bits(raw as u64), buf.as_mut_ptr())
            } else {
                unguarded::float_to_shortest_decimal_bufn(f32::from_bits(raw as u32), buf.as_mut_ptr())
            };
            let text = std::slice::from_raw_parts(buf.as_ptr() as *const u8, len as usize);
            return push_number(out, text, numbers_as_string);
        }
        ValueKind::Numeric => {
            let payload = varlena_bytes(datum);
            let start = out.len();
            if numbers_as_string {
                out.push(b'"');
            }
            if crate::numeric::numeric_text(out, payload) {
                // Digits, sign and dot need no escaping.
                if numbers_as_string {
                    out.push(b'"');
                } else if matches!(json::classify_builtin_number(&out[start..]), NumberText::Special) {
                    out.truncate(start);
                    out.extend_from_slice(b"null");
                }
                return Ok(());
            }
            out.truncate(start);
            return output_function(out, kind, finfo, datum, numbers_as_string);
        }
        ValueKind::Timestamp | ValueKind::TimestampTz if pg_sys::DateStyle == pg_sys::USE_ISO_DATES as i32 => {
            let offset = if kind == ValueKind::TimestampTz { fixed_utc_offset() } else { Some(None) };
            if let Some(offset) = offset {
                let start = out.len();
                out.push(b'"');
                // Digits, `-`, `:`, `.`, `+` and spaces need no escaping.
                if crate::datetime::iso_timestamp(out, raw as i64, offset) {
                    out.push(b'"');
                    return Ok(());
                }
                out.truncate(start);
            }
            return encoded_timestamp(out, kind, finfo, datum, numbers_as_string);
        }
        ValueKind::Timestamp | ValueKind::TimestampTz => {
            return encoded_timestamp(out, kind, finfo, datum, numbers_as_string)
        }
        ValueKind::Jsonb => {
            let start = out.len();
            if !crate::jsonb::jsonb_json_string(out, varlena_bytes(datum)) {
                out.truncate(start);
                return output_function(out, kind, finfo, datum, numbers_as_string);
            }
        }
        _ => return output_function(out, kind, finfo, datum, numbers_as_string),
    }
    Ok(())
}

/// timestamp/timestamptz through the two routines their output functions
/// call (so every DateStyle and time zone applies); infinities and
/// out-of-range values go to the output function itself.
unsafe fn encoded_timestamp(
    out: &mut Vec<u8>,
    kind: ValueKind,
    finfo: *mut pg_sys::FmgrInfo,
    datum: pg_sys::Datum,
    numbers_as_string: bool,
) -> Result<(), NotANumber> {
    let raw = datum.value();
    if raw as i64 == i64::MIN || raw as i64 == i64::MAX {
        return output_function(out, kind, finfo, datum, numbers_as_string);
    }
    let with_tz = kind == ValueKind::TimestampTz;
    let mut tm = pg_sys::pg_tm::default();
    let (mut fsec, mut tz, mut tzn) = (0i32, 0, std::ptr::null());
    // SAFETY: all out-parameters are valid locals; see `unguarded`.
    let status = if with_tz {
        unguarded::timestamp2tm(raw as i64, &mut tz, &mut tm, &mut fsec, &mut tzn, std::ptr::null_mut())
    } else {
        unguarded::timestamp2tm(
            raw as i64,
            std::ptr::null_mut(),
            &mut tm,
            &mut fsec,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if status != 0 {
        // Out of range: the output function raises its ERROR.
        return output_function(out, kind, finfo, datum, numbers_as_string);
    }
    let mut buf = [0 as std::ffi::c_char; pg_sys::MAXDATELEN as usize + 1];
    // SAFETY: MAXDATELEN + 1 bytes, as timestamp_out's own buffer.
    unguarded::EncodeDateTime(&mut tm, fsec, with_tz, tz, tzn, pg_sys::DateStyle, buf.as_mut_ptr());
    json::string(out, CStr::from_ptr(buf.as_ptr()).to_bytes());
    Ok(())
}

/// The session time zone last looked at (its address), and its UTC offset
/// if it has only one (`NO_OFFSET` if not). Plain statics rather than
/// thread-locals: a backend is single-threaded, and a thread-local costs a
/// `__tls_get_addr` call per value in a shared library.
static ZONE: AtomicUsize = AtomicUsize::new(0);
static ZONE_OFFSET: AtomicI64 = AtomicI64::new(NO_OFFSET);
const NO_OFFSET: i64 = i64::MIN;

/// `Some(Some(seconds east of UTC))` when the session's time zone uses a
/// single offset at all times (UTC, Etc/GMT+3, fixed POSIX zones), so
/// timestamptz text can be computed without a zone lookup per value;
/// `None` otherwise. Looked up again only when TimeZone changes (each zone
/// is a pg_tz loaded once per backend, so its address identifies it).
unsafe fn fixed_utc_offset() -> Option<Option<i32>> {
    let zone = pg_sys::session_timezone;
    if zone.is_null() {
        return None;
    }
    if ZONE.load(Relaxed) != zone as usize {
        let mut gmtoff: std::ffi::c_long = 0;
        let fixed = pg_sys::pg_get_timezone_offset(zone, &mut gmtoff);
        ZONE_OFFSET.store(if fixed && i32::try_from(gmtoff).is_ok() { gmtoff as i64 } else { NO_OFFSET }, Relaxed);
        ZONE.store(zone as usize, Relaxed);
    }
    match ZONE_OFFSET.load(Relaxed) {
        NO_OFFSET => None,
        offset => Some(Some(offset as i32)),
    }
}

/// The type's output function, then wal2json's rule for the type.
unsafe fn output_function(
    out: &mut Vec<u8>,
    kind: ValueKind,
    finfo: *mut pg_sys::FmgrInfo,
    datum: pg_sys::Datum,
    numbers_as_string: bool,
) -> Result<(), NotANumber> {
    let text = CStr::from_ptr(pg_sys::OutputFunctionCall(finfo, datum)).to_bytes();
    match kind {
        ValueKind::Float4 | ValueKind::Float8 | ValueKind::Numeric => return push_number(out, text, numbers_as_string),
        // wal2json drops the first two characters (the `\x` of the hex
        // format). With bytea_output=escape there is no `\x` and wal2json
        // cuts real data (its issue #301); we keep the whole text then.
        ValueKind::Bytea => match text.strip_prefix(b"\\x") {
            Some(hex) => json::string(out, hex),
            None => json::string(out, text),
        },
        _ => json::string(out, text),
    }
    Ok(())
}
