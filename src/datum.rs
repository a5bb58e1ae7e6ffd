//! Datum -> decoded value (`format::Scalar`), which the session format's
//! value style then writes (`format::value`).
//!
//! Common types skip the output function (its fmgr call, palloc and guarded
//! FFI boundary) where the decoded form gives the same text:
//! - int2/int4/int8/oid are integers, bool a bool, text/varchar/bpchar
//!   their bytes;
//! - numeric and jsonb are handed over in their on-disk form, which the
//!   styles print with `numeric.rs` and `jsonb.rs` (the same text as
//!   `numeric_out` and `jsonb_out`);
//! - float4/float8 call the very routine their output functions call when
//!   `extra_float_digits > 0` (the default); other settings use the output
//!   function;
//! - timestamp/timestamptz are handed over as microseconds in DateStyle ISO
//!   when the session time zone has a single UTC offset (`datetime.rs`
//!   prints them), and otherwise go through the same two routines as their
//!   output functions (so every DateStyle and time zone applies); infinities
//!   use the output function.
//!
//! Where a style cannot print a form (a numeric or jsonb it does not read, a
//! timestamp out of range), the output function's text is used instead. The
//! regression suite compares every fast path with the output function on edge
//! values (`pg_test/sql/fastpath.sql`).

use crate::format::value::{NotANumber, Scalar, ValueKind, ValueStyle};
use crate::unguarded;
use pgrx::pg_sys;
use std::ffi::CStr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

/// How values of a type are decoded: by the column's own type OID (so a
/// domain over int takes the output function unless the style decodes
/// domains as their base type).
pub fn kind_for_type(typoid: pg_sys::Oid) -> ValueKind {
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
        pg_sys::JSONOID => ValueKind::Json,
        pg_sys::UUIDOID => ValueKind::Uuid,
        pg_sys::DATEOID => ValueKind::Date,
        pg_sys::TIMEOID => ValueKind::Time,
        pg_sys::TIMETZOID => ValueKind::TimeTz,
        pg_sys::INTERVALOID => ValueKind::Interval,
        _ => ValueKind::Other,
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

/// How values of a type are decoded, arrays and composites included, and
/// for an array what its elements need.
///
/// # Safety
/// Catalog lookups: call where the syscache may be used (a callback).
pub unsafe fn decoding_of(typoid: pg_sys::Oid, mcxt: pg_sys::MemoryContext) -> (ValueKind, Option<Box<ArrayElem>>) {
    let elem = array_elem(typoid, mcxt);
    if elem.is_some() {
        (ValueKind::Array, elem)
    } else if pg_sys::get_typtype(typoid) as u8 == pg_sys::TYPTYPE_COMPOSITE {
        (ValueKind::Composite, None)
    } else {
        (kind_for_type(typoid), None)
    }
}

/// The element type of an array type (None for other types).
unsafe fn array_elem(typoid: pg_sys::Oid, mcxt: pg_sys::MemoryContext) -> Option<Box<ArrayElem>> {
    let typid = pg_sys::get_element_type(typoid);
    if typid == pg_sys::InvalidOid {
        return None;
    }
    let (mut len, mut byval, mut align) = (0i16, false, 0 as std::ffi::c_char);
    pg_sys::get_typlenbyvalalign(typid, &mut len, &mut byval, &mut align);
    let finfo = output_function_info(typid, mcxt);
    let kind = if pg_sys::get_typtype(typid) as u8 == pg_sys::TYPTYPE_COMPOSITE {
        ValueKind::Composite
    } else {
        kind_for_type(typid)
    };
    Some(Box::new(ArrayElem { typid, kind, len, byval, align, finfo }))
}

/// A type's output function, looked up (its private data in `mcxt`).
pub unsafe fn output_function_info(typoid: pg_sys::Oid, mcxt: pg_sys::MemoryContext) -> Box<pg_sys::FmgrInfo> {
    let (mut out_func, mut is_varlena) = (pg_sys::InvalidOid, false);
    pg_sys::getTypeOutputInfo(typoid, &mut out_func, &mut is_varlena);
    let mut finfo = Box::new(pg_sys::FmgrInfo::default());
    pg_sys::fmgr_info_cxt(out_func, &mut *finfo, mcxt);
    finfo
}

/// What decoding an array's elements needs, looked up once per column.
pub struct ArrayElem {
    pub typid: pg_sys::Oid,
    pub kind: ValueKind,
    pub len: i16,
    pub byval: bool,
    pub align: std::ffi::c_char,
    /// The element type's output function.
    pub finfo: Box<pg_sys::FmgrInfo>,
}

/// A non-null value of a column, ready to be decoded.
pub struct Value<'a> {
    pub kind: ValueKind,
    /// The column type's output function (initialised).
    pub finfo: *mut pg_sys::FmgrInfo,
    /// Neither NULL nor an unchanged TOAST pointer.
    pub datum: pg_sys::Datum,
    /// For an array: its elements' type.
    pub elem: Option<&'a ArrayElem>,
}

impl Value<'_> {
    /// Decodes the value and appends it in `style`.
    ///
    /// # Safety
    /// The datum is a value of a column whose type matches `kind`, valid
    /// while this runs. Palloc'd results go to the current memory context,
    /// which the caller resets after each change.
    #[inline(always)]
    pub unsafe fn write<S: ValueStyle>(&self, out: &mut Vec<u8>, style: &S) -> Result<(), NotANumber> {
        let raw = self.datum.value();
        let scalar = match self.kind {
            ValueKind::Int2 => Scalar::Int(raw as i16 as i64),
            ValueKind::Int4 => Scalar::Int(raw as i32 as i64),
            ValueKind::Int8 => Scalar::Int(raw as i64),
            ValueKind::Oid => Scalar::Int(raw as u32 as i64),
            ValueKind::Bool => Scalar::Bool(raw as u8 != 0),
            ValueKind::Text => Scalar::Text(varlena_bytes(self.datum)),
            ValueKind::Float4 | ValueKind::Float8 if S::SESSION_INDEPENDENT || pg_sys::extra_float_digits > 0 => {
                // 32 bytes: the buffer size float4out/float8out allocate.
                let mut buf = [0 as std::ffi::c_char; 32];
                // SAFETY: the routines write at most 25 bytes; see `unguarded`.
                let len = if self.kind == ValueKind::Float8 {
                    unguarded::double_to_shortest_decimal_bufn(f64::from_bits(raw as u64), buf.as_mut_ptr())
                } else {
                    unguarded::float_to_shortest_decimal_bufn(f32::from_bits(raw as u32), buf.as_mut_ptr())
                };
                let text = std::slice::from_raw_parts(buf.as_ptr() as *const u8, len as usize);
                style.write(out, Scalar::Output { kind: self.kind, text })?;
                return Ok(());
            }
            ValueKind::Numeric => Scalar::Numeric(varlena_bytes(self.datum)),
            ValueKind::Jsonb => Scalar::Jsonb(varlena_bytes(self.datum)),
            // SAFETY: a uuid datum points to its 16 bytes.
            ValueKind::Uuid => Scalar::Uuid(&*self.datum.cast_mut_ptr::<[u8; 16]>()),
            ValueKind::Timestamp | ValueKind::TimestampTz if S::SESSION_INDEPENDENT => {
                Scalar::Timestamp { micros: raw as i64, with_tz: self.kind == ValueKind::TimestampTz }
            }
            ValueKind::Timestamp | ValueKind::TimestampTz if pg_sys::DateStyle == pg_sys::USE_ISO_DATES as i32 => {
                match self.session_offset() {
                    Some(utc_offset) => Scalar::IsoTimestamp { micros: raw as i64, utc_offset },
                    None => return self.encoded_timestamp(out, style),
                }
            }
            ValueKind::Timestamp | ValueKind::TimestampTz => return self.encoded_timestamp(out, style),
            ValueKind::Array if S::SESSION_INDEPENDENT && self.elem.is_some() => return self.array(out, style),
            ValueKind::Composite if S::SESSION_INDEPENDENT => return self.composite(out, style),
            _ if S::SESSION_INDEPENDENT => self.session_independent(),
            _ => return self.output_function(out, style),
        };
        if style.write(out, scalar)? {
            Ok(())
        } else if matches!(self.kind, ValueKind::Timestamp | ValueKind::TimestampTz) {
            self.encoded_timestamp(out, style)
        } else {
            self.output_function(out, style)
        }
    }

    /// The forms only session-independent styles decode (the others print
    /// these types with their output functions, in the session's settings).
    ///
    /// # Safety
    /// As for `write`.
    #[inline(always)]
    unsafe fn session_independent<'b>(&self) -> Scalar<'b> {
        let raw = self.datum.value();
        match self.kind {
            ValueKind::Bytea => Scalar::Bytes(varlena_bytes(self.datum)),
            ValueKind::Json => Scalar::Json(varlena_bytes(self.datum)),
            ValueKind::Date => Scalar::Date(raw as i32),
            ValueKind::Time => Scalar::Time { micros: raw as i64, zone_west: None },
            ValueKind::TimeTz => {
                // SAFETY: a timetz datum points to a TimeTzADT.
                let t = &*self.datum.cast_mut_ptr::<pg_sys::TimeTzADT>();
                Scalar::Time { micros: t.time, zone_west: Some(t.zone) }
            }
            ValueKind::Interval => {
                // SAFETY: an interval datum points to an Interval.
                let i = &*self.datum.cast_mut_ptr::<pg_sys::Interval>();
                Scalar::Interval { months: i.month, days: i.day, micros: i.time }
            }
            _ => Scalar::Output { kind: self.kind, text: self.output_text() },
        }
    }

    /// An array as nested JSON arrays, one level per dimension (lower
    /// bounds are not kept, as in `to_jsonb`), NULL elements `null`.
    #[inline(never)]
    unsafe fn array<S: ValueStyle>(&self, out: &mut Vec<u8>, style: &S) -> Result<(), NotANumber> {
        let elem = self.elem.expect("checked by the caller");
        let arr = pg_sys::pg_detoast_datum(self.datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
        let ndim = (*arr).ndim.max(0) as usize;
        // SAFETY: ARR_DIMS: the dimensions follow the fixed header.
        let dims = std::slice::from_raw_parts(
            (arr as *const u8).add(std::mem::size_of::<pg_sys::ArrayType>()) as *const i32,
            ndim,
        );
        let (mut values, mut nulls, mut n) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(
            arr,
            elem.typid,
            elem.len as i32,
            elem.byval,
            elem.align,
            &mut values,
            &mut nulls,
            &mut n,
        );
        let n = n.max(0) as usize;
        // SAFETY: deconstruct_array returned n datums and n null flags (or none for n = 0).
        let (values, nulls) = if n == 0 {
            (&[][..], &[][..])
        } else {
            (std::slice::from_raw_parts(values, n), std::slice::from_raw_parts(nulls, n))
        };
        let mut next = 0;
        self.array_level(out, style, elem, dims, values, nulls, &mut next)
    }

    /// A composite value as a JSON object keyed by field name (dropped
    /// fields left out), each field decoded by its own type. Types are
    /// looked up per value: composites are not on the fast path.
    #[inline(never)]
    unsafe fn composite<S: ValueStyle>(&self, out: &mut Vec<u8>, style: &S) -> Result<(), NotANumber> {
        let td = pg_sys::pg_detoast_datum(self.datum.cast_mut_ptr()) as pg_sys::HeapTupleHeader;
        // HeapTupleHeaderGetTypeId / GetTypMod / GetDatumLength.
        let (typid, typmod) = ((*td).t_choice.t_datum.datum_typeid, (*td).t_choice.t_datum.datum_typmod);
        let len = pgrx::varlena::varsize(td as *const pg_sys::varlena);
        let desc = pg_sys::lookup_rowtype_tupdesc(typid, typmod);
        let mut tuple = pg_sys::HeapTupleData { t_len: len as u32, t_data: td, ..Default::default() };
        let natts = (*desc).natts as usize;
        let (mut values, mut nulls) = (vec![pg_sys::Datum::from(0); natts], vec![true; natts]);
        pg_sys::heap_deform_tuple(&mut tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        let mut fields = Vec::with_capacity(natts);
        for i in 0..natts {
            let att = crate::compat::attr(desc, i);
            if !(*att).attisdropped {
                fields.push((CStr::from_ptr((*att).attname.data.as_ptr()).to_bytes().to_vec(), (*att).atttypid, i));
            }
        }
        pg_sys::DecrTupleDescRefCount(desc);
        out.push(b'{');
        for (n, (name, typoid, i)) in fields.into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            crate::json::string(out, &name);
            out.push(b':');
            if nulls[i] {
                out.extend_from_slice(b"null");
                continue;
            }
            let (kind, elem) = decoding_of(typoid, pg_sys::CurrentMemoryContext);
            let finfo = output_function_info(typoid, pg_sys::CurrentMemoryContext);
            let finfo = &*finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo;
            Value { kind, finfo, datum: values[i], elem: elem.as_deref() }.write(out, style)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// One dimension of an array: `[` its items `]`, each an element or the next dimension.
    #[allow(clippy::too_many_arguments)]
    unsafe fn array_level<S: ValueStyle>(
        &self,
        out: &mut Vec<u8>,
        style: &S,
        elem: &ArrayElem,
        dims: &[i32],
        values: &[pg_sys::Datum],
        nulls: &[bool],
        next: &mut usize,
    ) -> Result<(), NotANumber> {
        out.push(b'[');
        let count = dims.first().copied().unwrap_or(0).max(0);
        for i in 0..count {
            if i > 0 {
                out.push(b',');
            }
            if dims.len() > 1 {
                self.array_level(out, style, elem, &dims[1..], values, nulls, next)?;
                continue;
            }
            let k = *next;
            *next += 1;
            if nulls.get(k).copied().unwrap_or(true) {
                out.extend_from_slice(b"null");
            } else {
                let finfo = &*elem.finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo;
                Value { kind: elem.kind, finfo, datum: values[k], elem: None }.write(out, style)?;
            }
        }
        out.push(b']');
        Ok(())
    }

    /// The output function's text (palloc'd in the current context).
    unsafe fn output_text<'b>(&self) -> &'b [u8] {
        CStr::from_ptr(pg_sys::OutputFunctionCall(self.finfo, self.datum)).to_bytes()
    }

    /// The UTC offset a timestamp of this kind is printed with: None
    /// (no offset) for timestamp; for timestamptz the session zone's, when
    /// it has a single one. Outer None: the zone's offset varies.
    unsafe fn session_offset(&self) -> Option<Option<i32>> {
        if self.kind == ValueKind::TimestampTz {
            fixed_utc_offset().map(Some)
        } else {
            Some(None)
        }
    }

    /// timestamp/timestamptz through the two routines their output functions
    /// call (so every DateStyle and time zone applies); infinities and
    /// out-of-range values go to the output function itself.
    unsafe fn encoded_timestamp<S: ValueStyle>(&self, out: &mut Vec<u8>, style: &S) -> Result<(), NotANumber> {
        let raw = self.datum.value() as i64;
        if raw == i64::MIN || raw == i64::MAX {
            return self.output_function(out, style);
        }
        let with_tz = self.kind == ValueKind::TimestampTz;
        let mut tm = pg_sys::pg_tm::default();
        let (mut fsec, mut tz, mut tzn) = (0i32, 0, std::ptr::null());
        // SAFETY: all out-parameters are valid locals; see `unguarded`.
        let status = if with_tz {
            unguarded::timestamp2tm(raw, &mut tz, &mut tm, &mut fsec, &mut tzn, std::ptr::null_mut())
        } else {
            unguarded::timestamp2tm(
                raw,
                std::ptr::null_mut(),
                &mut tm,
                &mut fsec,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if status != 0 {
            // Out of range: the output function raises its ERROR.
            return self.output_function(out, style);
        }
        let mut buf = [0 as std::ffi::c_char; pg_sys::MAXDATELEN as usize + 1];
        // SAFETY: MAXDATELEN + 1 bytes, as timestamp_out's own buffer.
        unguarded::EncodeDateTime(&mut tm, fsec, with_tz, tz, tzn, pg_sys::DateStyle, buf.as_mut_ptr());
        let text = CStr::from_ptr(buf.as_ptr()).to_bytes();
        style.write(out, Scalar::Output { kind: self.kind, text })?;
        Ok(())
    }

    /// The type's output function.
    unsafe fn output_function<S: ValueStyle>(&self, out: &mut Vec<u8>, style: &S) -> Result<(), NotANumber> {
        style.write(out, Scalar::Output { kind: self.kind, text: self.output_text() })?;
        Ok(())
    }
}

/// The session time zone last looked at (its address), and its UTC offset
/// if it has only one (`NO_OFFSET` if not). Plain statics rather than
/// thread-locals: a backend is single-threaded, and a thread-local costs a
/// `__tls_get_addr` call per value in a shared library.
static ZONE: AtomicUsize = AtomicUsize::new(0);
static ZONE_OFFSET: AtomicI64 = AtomicI64::new(NO_OFFSET);
const NO_OFFSET: i64 = i64::MIN;

/// `Some(seconds east of UTC)` when the session's time zone uses a
/// single offset at all times (UTC, Etc/GMT+3, fixed POSIX zones), so
/// timestamptz text can be computed without a zone lookup per value;
/// `None` otherwise. Looked up again only when TimeZone changes (each zone
/// is a pg_tz loaded once per backend, so its address identifies it).
unsafe fn fixed_utc_offset() -> Option<i32> {
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
        offset => Some(offset as i32),
    }
}
