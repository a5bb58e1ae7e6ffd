//! PostgreSQL routines called without pgrx's guarded FFI boundary.
//!
//! pgrx wraps every `pg_sys` call in a sigsetjmp so that an ERROR raised in C
//! becomes a Rust panic instead of a longjmp across Rust frames; at a few
//! calls per column and change that showed in profiles. The routines here
//! are called directly because each one, under the condition stated at its
//! call site, only computes into memory it is given: it never allocates,
//! never raises an ERROR and so never longjmps.

use pgrx::pg_sys;
use std::ffi::{c_char, c_int};

extern "C" {
    /// src/common/d2s.c: float8out's text when extra_float_digits > 0.
    pub fn double_to_shortest_decimal_bufn(f: f64, result: *mut c_char) -> c_int;
    /// src/common/f2s.c: float4out's text when extra_float_digits > 0.
    pub fn float_to_shortest_decimal_bufn(f: f32, result: *mut c_char) -> c_int;
    /// Returns -1 (no ERROR) when out of range; reads session_timezone.
    pub fn timestamp2tm(
        dt: i64,
        tzp: *mut c_int,
        tm: *mut pg_sys::pg_tm,
        fsec: *mut i32,
        tzn: *mut *const c_char,
        attimezone: *mut pg_sys::pg_tz,
    ) -> c_int;
    /// Writes at most MAXDATELEN + 1 bytes into `str`.
    pub fn EncodeDateTime(
        tm: *mut pg_sys::pg_tm,
        fsec: i32,
        print_tz: bool,
        tz: c_int,
        tzn: *const c_char,
        style: c_int,
        str: *mut c_char,
    );
    /// Only for a tuple that stores every attribute of its descriptor: then
    /// it reads the tuple and fills the arrays, nothing else. (Attributes
    /// missing from an older tuple are looked up in a cache that PostgreSQL
    /// 16 and later may allocate; such tuples take the guarded call.)
    pub fn heap_deform_tuple(
        tuple: pg_sys::HeapTuple,
        tuple_desc: pg_sys::TupleDesc,
        values: *mut pg_sys::Datum,
        isnull: *mut bool,
    );
}
