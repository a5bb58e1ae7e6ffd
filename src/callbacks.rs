//! The output plugin callbacks: the one place that reads the reorder buffer's
//! structs. Each callback builds the safe model (format::*) and hands it to
//! the emitter of the chosen format, then writes the bytes with one
//! PrepareWrite / appendBinaryStringInfo / Write.
//!
//! Every callback is `#[pg_guard]`: a Rust panic becomes a PostgreSQL ERROR.

use crate::compat;
use crate::datum::{self, NotANumber};
use crate::format::{self, v1, v2, Cell, Change, ChangeKind, Render, Row, TxnInfo};
use crate::options::{ErrorKind, OptionError, Options};
use crate::relation::{RelEntry, RelationCache};
use pgrx::pg_sys;
use pgrx::{PgLogLevel, PgMemoryContexts, PgSqlErrorCode};
use std::ffi::CStr;

/// Everything a decoding session keeps between callbacks. It lives in
/// `ctx->output_plugin_private` and is dropped when the decoding context's
/// memory is deleted (also after an ERROR, when shutdown is not called).
pub struct State {
    opts: Options,
    cache: RelationCache,
    /// Reset after every change: output functions and detoasting allocate here.
    change_cxt: pg_sys::MemoryContext,
    /// Where PostgreSQL copies each written message (see `Writes`).
    writes: Writes,
    /// The message being built (reused; keeps its capacity).
    out: Vec<u8>,
    /// The current change's new and old tuples.
    new_row: Deformed,
    old_row: Deformed,
    txn: TxnInfo,
    /// (xid, commit time) the cached timestamp text belongs to.
    txn_ts_key: Option<(u32, i64)>,
    progress: u32,
    /// Entries written in the current format-version 1 document (decides commas).
    entries: u64,
    /// Message payloads are checked (and made valid) in a UTF-8 database.
    utf8_db: bool,
}

/// # Safety
/// `ctx` is the decoding context of a callback after startup ran.
unsafe fn state<'a>(ctx: *mut pg_sys::LogicalDecodingContext) -> &'a mut State {
    // SAFETY: startup stored a valid, exclusively owned State pointer here; the
    // backend is single-threaded and callbacks never nest.
    &mut *((*ctx).output_plugin_private as *mut State)
}

fn option_error(e: OptionError) -> ! {
    let code = match e.kind {
        ErrorKind::InvalidParameterValue => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        ErrorKind::InvalidName => PgSqlErrorCode::ERRCODE_INVALID_NAME,
        ErrorKind::FeatureNotSupported => PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
    };
    let mut report = pgrx::pg_sys::panic::ErrorReport::new(code, e.message, "waljson startup");
    if let Some(h) = e.hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Reads the DefElem list into (name, value) pairs.
///
/// # Safety
/// `list` is the plugin option list (NIL or a List of DefElem).
unsafe fn option_items(list: *mut pg_sys::List) -> Vec<(String, Option<Vec<u8>>)> {
    let mut items = Vec::new();
    if list.is_null() {
        return items;
    }
    for i in 0..(*list).length as usize {
        // SAFETY: PostgreSQL 13+ lists are arrays of ListCell of `length` elements.
        let elem = (*(*list).elements.add(i)).ptr_value as *const pg_sys::DefElem;
        let name = String::from_utf8_lossy(CStr::from_ptr((*elem).defname).to_bytes()).into_owned();
        let value = compat::defelem_value(elem).map(|p| CStr::from_ptr(p).to_bytes().to_vec());
        items.push((name, value));
    }
    items
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn startup(
    ctx: *mut pg_sys::LogicalDecodingContext,
    opt: *mut pg_sys::OutputPluginOptions,
    _is_init: bool, // options are parsed (and checked) at slot creation too; the list is empty then
) {
    (*opt).output_type = pg_sys::OutputPluginOutputType::OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
    (*opt).receive_rewrites = false;

    let items = option_items((*ctx).output_plugin_options);
    let opts = match Options::parse(items.iter().map(|(n, v)| (n.as_str(), v.as_deref()))) {
        Ok(o) => o,
        Err(e) => option_error(e),
    };
    crate::relation::register_callbacks();
    let change_cxt = pg_sys::AllocSetContextCreateExtended(
        (*ctx).context,
        c"waljson change".as_ptr(),
        pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
    );
    let state = State {
        opts,
        cache: RelationCache::new((*ctx).context),
        change_cxt,
        writes: Writes {
            cxt: pg_sys::AllocSetContextCreateExtended(
                (*ctx).context,
                c"waljson writes".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            ),
            since_reset: 0,
        },
        out: Vec::with_capacity(8192),
        new_row: Deformed::default(),
        old_row: Deformed::default(),
        txn: TxnInfo::default(),
        txn_ts_key: None,
        progress: 0,
        entries: 0,
        utf8_db: pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32,
    };
    // The State is dropped when the decoding context's memory is deleted,
    // whether decoding ends normally or with an ERROR.
    let ptr = PgMemoryContexts::For((*ctx).context).leak_and_drop_on_delete(state);
    (*ctx).output_plugin_private = ptr.cast();
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn shutdown(_ctx: *mut pg_sys::LogicalDecodingContext) {
    // Nothing to do: the State goes with the decoding context's memory.
}

/// How a piece of output reaches PostgreSQL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A whole message: PrepareWrite, append, Write.
    Whole,
    /// The start of a format-version 1 document written at commit: PrepareWrite, append.
    Open,
    /// More of that document.
    Append,
    /// Its end: append, Write.
    Close,
}

/// What `ctx->out` can hold: PostgreSQL's MaxAllocSize (1 GB - 1), less room
/// for the walsender's message header.
const OUT_LIMIT: usize = 0x3fff_ffff - 64;

fn too_big(size: usize, whole_transaction: bool) -> ! {
    let (message, hint) = if whole_transaction {
        (
            format!(
                "waljson: the format-version 1 document of this transaction would exceed 1 GB ({size} bytes so far)"
            ),
            "Use write-in-chunks=1 (one message per change) or format-version=2 for transactions this large.",
        )
    } else {
        (
            format!("waljson: a single output message would be {size} bytes, over PostgreSQL's 1 GB limit"),
            "A single row this large cannot be sent by a logical decoding plugin.",
        )
    };
    pgrx::pg_sys::panic::ErrorReport::new(PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED, message, "waljson write")
        .set_hint(hint)
        .report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// The memory context current while PostgreSQL takes a message: the SQL
/// functions copy every message there (as a text datum for their result
/// rows). Reset once `WRITES_RESET_BYTES` have been written rather than
/// after every message, which saves a reset (and a guarded call) per change
/// while keeping the memory bounded (and the reused memory in cache).
struct Writes {
    cxt: pg_sys::MemoryContext,
    since_reset: usize,
}

const WRITES_RESET_BYTES: usize = 1 << 16;

/// Hands a piece of output to PostgreSQL.
///
/// # Safety
/// Called from a begin/change/commit/truncate/message callback with its `ctx`;
/// `Append`/`Close` only after an `Open` in the same transaction.
unsafe fn emit(ctx: *mut pg_sys::LogicalDecodingContext, writes: &mut Writes, piece: Piece, bytes: &[u8]) {
    if matches!(piece, Piece::Whole | Piece::Open) {
        if bytes.len() >= OUT_LIMIT {
            too_big(bytes.len(), false);
        }
        pg_sys::OutputPluginPrepareWrite(ctx, true);
    }
    let out = (*ctx).out;
    // Checked before the StringInfo grows, so the user gets a clear ERROR and
    // never an allocator message.
    let size = (*out).len as usize + bytes.len();
    if size >= OUT_LIMIT {
        too_big(size, piece != Piece::Whole);
    }
    // Copied in Rust when the buffer has room (nearly always: ctx->out keeps
    // its size between messages); only growing it calls into PostgreSQL.
    if ((*out).maxlen - (*out).len) as usize <= bytes.len() {
        pg_sys::enlargeStringInfo(out, bytes.len() as i32);
    }
    // SAFETY: the StringInfo now has room for bytes.len() + its trailing NUL.
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*out).data.add((*out).len as usize) as *mut u8, bytes.len());
    (*out).len += bytes.len() as i32;
    *(*out).data.add((*out).len as usize) = 0;
    if matches!(piece, Piece::Whole | Piece::Close) {
        let written = (*out).len as usize;
        let old_cxt = pg_sys::MemoryContextSwitchTo(writes.cxt);
        pg_sys::OutputPluginWrite(ctx, true);
        pg_sys::MemoryContextSwitchTo(old_cxt);
        writes.since_reset += written;
        if writes.since_reset >= WRITES_RESET_BYTES {
            pg_sys::MemoryContextReset(writes.cxt);
            writes.since_reset = 0;
        }
    }
}

/// Fills `info` for `txn`; the commit timestamp text is computed once per transaction.
unsafe fn fill_txn(info: &mut TxnInfo, key: &mut Option<(u32, i64)>, o: &Options, txn: *mut pg_sys::ReorderBufferTXN) {
    info.xid = (*txn).xid.into_inner();
    info.origin = (*txn).origin_id as u32;
    info.final_lsn = (*txn).final_lsn;
    info.end_lsn = (*txn).end_lsn;
    if o.include_timestamp {
        let t = compat::commit_time(txn);
        if *key != Some((info.xid, t)) {
            info.timestamp.clear();
            info.timestamp.extend_from_slice(CStr::from_ptr(pg_sys::timestamptz_to_str(t)).to_bytes());
            *key = Some((info.xid, t));
        }
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn begin(ctx: *mut pg_sys::LogicalDecodingContext, txn: *mut pg_sys::ReorderBufferTXN) {
    let s = state(ctx);
    fill_txn(&mut s.txn, &mut s.txn_ts_key, &s.opts, txn);
    s.out.clear();
    if s.opts.format_version == 1 {
        s.entries = 0;
        v1::begin(&mut s.out, &s.opts, &s.txn);
        emit(ctx, &mut s.writes, if s.opts.write_in_chunks { Piece::Whole } else { Piece::Open }, &s.out);
    } else if v2::begin(&mut s.out, &s.opts, &s.txn) {
        emit(ctx, &mut s.writes, Piece::Whole, &s.out);
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn commit(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    commit_lsn: pg_sys::XLogRecPtr,
) {
    let s = state(ctx);
    compat::update_progress(ctx, &mut s.progress, true);
    fill_txn(&mut s.txn, &mut s.txn_ts_key, &s.opts, txn);
    s.out.clear();
    if s.opts.format_version == 1 {
        v1::commit(&mut s.out, &s.opts);
        emit(ctx, &mut s.writes, if s.opts.write_in_chunks { Piece::Whole } else { Piece::Close }, &s.out);
    } else if v2::commit(&mut s.out, &s.opts, &s.txn, commit_lsn) {
        emit(ctx, &mut s.writes, Piece::Whole, &s.out);
    }
}

/// Where a format-version 1 entry goes: its own message with write-in-chunks,
/// else appended to the transaction's document.
fn v1_entry_piece(o: &Options) -> Piece {
    if o.write_in_chunks {
        Piece::Whole
    } else {
        Piece::Append
    }
}

/// A tuple split into its attributes; values are rendered only when the
/// emitter prints them, straight into the message.
#[derive(Default)]
struct Deformed {
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    /// One per live column: Null, Unchanged or Value(live column index).
    cells: Vec<Cell>,
}

/// Deforms `tuple` into `row`.
unsafe fn deform(tuple: pg_sys::HeapTuple, rel: pg_sys::Relation, entry: &RelEntry, row: &mut Deformed) {
    // heap_deform_tuple sets all natts entries: only the length matters.
    if row.values.len() != entry.natts {
        row.values.clear();
        row.values.resize(entry.natts, pg_sys::Datum::from(0));
        row.nulls.clear();
        row.nulls.resize(entry.natts, true);
    }
    // heap_deform_tuple also fills attributes added after the tuple was
    // written (fast defaults), unlike a hand-rolled loop.
    let stored = ((*(*tuple).t_data).t_infomask2 & pg_sys::HEAP_NATTS_MASK as u16) as usize;
    let (values, nulls) = (row.values.as_mut_ptr(), row.nulls.as_mut_ptr());
    if stored >= entry.natts {
        // SAFETY: every attribute is in the tuple; see `unguarded`.
        crate::unguarded::heap_deform_tuple(tuple, (*rel).rd_att, values, nulls);
    } else {
        pg_sys::heap_deform_tuple(tuple, (*rel).rd_att, values, nulls);
    }
    let (values, nulls) = (&row.values[..], &row.nulls[..]);
    row.cells.clear();
    row.cells.extend(entry.columns.iter().enumerate().map(|(k, col)| {
        let i = col.att_index;
        if nulls[i] {
            Cell::Null
        } else if datum::is_unchanged_toast(values[i], col.attlen) {
            Cell::Unchanged
        } else {
            Cell::Value(k as u32)
        }
    }));
}

/// Renders the values of a deformed row as the emitter prints them.
struct DatumRender<'a> {
    entry: &'a RelEntry,
    values: &'a [pg_sys::Datum],
    as_string: bool,
    as_base: bool,
}

impl<'a> DatumRender<'a> {
    /// # Safety
    /// `values` were deformed from a tuple of `entry`'s relation and stay
    /// valid while the renderer is used (the change callback's tuples).
    unsafe fn new(entry: &'a RelEntry, values: &'a [pg_sys::Datum], o: &Options) -> Self {
        DatumRender { entry, values, as_string: o.numeric_data_types_as_string, as_base: v1::domains_as_base(o) }
    }
}

impl Render for DatumRender<'_> {
    /// The JSON token of live column `k` (a `Cell::Value`: neither NULL
    /// nor unchanged TOAST).
    #[inline(always)]
    fn render(&self, out: &mut Vec<u8>, k: usize) {
        let col = &self.entry.columns[k];
        let finfo = &*col.finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo;
        let kind = match col.base_kind {
            Some(base) if self.as_base => base,
            _ => col.kind,
        };
        // SAFETY: the datum belongs to this column of a live tuple (see `new`),
        // and finfo is the column type's output function.
        let written = unsafe { datum::write_value(out, kind, finfo, self.values[col.att_index], self.as_string) };
        if let Err(NotANumber(msg)) = written {
            pgrx::error!("{}", msg);
        }
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn change(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    relation: pg_sys::Relation,
    change: *mut pg_sys::ReorderBufferChange,
) {
    let s = state(ctx);
    compat::update_progress(ctx, &mut s.progress, false);
    #[cfg(feature = "fault-injection")]
    if s.opts.fault_panic_on_change {
        panic!("waljson: injected failure in the change callback (waljson-test-panic)");
    }
    let kind = match (*change).action {
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_INSERT => ChangeKind::Insert,
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_UPDATE => ChangeKind::Update,
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_DELETE => ChangeKind::Delete,
        _ => return,
    };
    let wanted = match kind {
        ChangeKind::Insert => s.opts.actions.insert,
        ChangeKind::Update => s.opts.actions.update,
        ChangeKind::Delete => s.opts.actions.delete,
    };
    if !wanted {
        return;
    }

    let change_cxt = s.change_cxt;
    let old_cxt = pg_sys::MemoryContextSwitchTo(change_cxt);
    let State { opts, cache, out, writes, new_row, old_row, txn: info, txn_ts_key, entries, .. } = &mut *s;
    let entry = cache.get(relation, opts);
    if opts.tables.wants(&entry.meta.raw_schema, &entry.meta.raw_table) {
        // SAFETY: the change's tuples stay valid for the whole callback.
        let tp = (*change).data.tp;
        let new = compat::heap_tuple(tp.newtuple);
        let old = compat::heap_tuple(tp.oldtuple);
        if let Some(t) = new {
            deform(t, relation, entry, new_row);
        }
        if let Some(t) = old {
            deform(t, relation, entry, old_row);
        }
        fill_txn(info, txn_ts_key, opts, txn);
        let entry: &RelEntry = entry;
        // SAFETY (both): the rows were just deformed from this change's tuples.
        let render_new = DatumRender::new(entry, &new_row.values, opts);
        let render_old = DatumRender::new(entry, &old_row.values, opts);
        let c = Change {
            kind,
            lsn: (*change).lsn,
            rel: &entry.meta,
            new: new.map(|_| Row { cells: &new_row.cells, render: &render_new }),
            old: old.map(|_| Row { cells: &old_row.cells, render: &render_old }),
        };
        out.clear();
        let result = if opts.format_version == 1 {
            v1::change(out, opts, entries, &c).map(|()| (None, v1_entry_piece(opts)))
        } else {
            v2::change(out, opts, info, &c).map(|warning| (warning, Piece::Whole))
        };
        match result {
            Ok((warning, piece)) => {
                if let Some(w) = warning {
                    pgrx::warning!("{}", w);
                }
                emit(ctx, writes, piece, out);
            }
            Err(format::Skipped(w)) => pgrx::warning!("{}", w),
        }
    }
    pg_sys::MemoryContextSwitchTo(old_cxt);
    // Most changes allocate nothing (the fast paths); skip the call then.
    if !(*change_cxt).isReset {
        pg_sys::MemoryContextReset(change_cxt);
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn truncate(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    nrelations: i32,
    relations: *mut pg_sys::Relation,
    change: *mut pg_sys::ReorderBufferChange,
) {
    let s = state(ctx);
    compat::update_progress(ctx, &mut s.progress, false);
    // wal2json never writes TRUNCATE in format version 1; include-truncate opts in.
    let v1 = s.opts.format_version == 1;
    if !s.opts.actions.truncate || (v1 && !s.opts.include_truncate) {
        return;
    }
    let old_cxt = pg_sys::MemoryContextSwitchTo(s.change_cxt);
    fill_txn(&mut s.txn, &mut s.txn_ts_key, &s.opts, txn);
    let rels = std::slice::from_raw_parts(relations, nrelations.max(0) as usize);
    for &rel in rels {
        let entry = s.cache.get(rel, &s.opts);
        if !s.opts.tables.wants(&entry.meta.raw_schema, &entry.meta.raw_table) {
            continue;
        }
        s.out.clear();
        if v1 {
            v1::truncate(&mut s.out, &s.opts, &mut s.entries, &entry.meta);
            emit(ctx, &mut s.writes, v1_entry_piece(&s.opts), &s.out);
        } else {
            v2::truncate(&mut s.out, &s.opts, &s.txn, (*change).lsn, &entry.meta);
            emit(ctx, &mut s.writes, Piece::Whole, &s.out);
        }
    }
    pg_sys::MemoryContextSwitchTo(old_cxt);
    pg_sys::MemoryContextReset(s.change_cxt);
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn message(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    lsn: pg_sys::XLogRecPtr,
    transactional: bool,
    prefix: *const std::ffi::c_char,
    size: pg_sys::Size,
    content: *const std::ffi::c_char,
) {
    let s = state(ctx);
    compat::update_progress(ctx, &mut s.progress, false);
    let prefix = CStr::from_ptr(prefix).to_bytes();
    if !s.opts.prefixes.wants(prefix) {
        return;
    }
    // SAFETY: the payload is `size` bytes (not NUL-terminated), valid during the callback.
    let content: &[u8] = if size == 0 { &[] } else { std::slice::from_raw_parts(content.cast(), size) };
    // A non-transactional message may come without a transaction (txn NULL).
    let txn_info = if transactional && !txn.is_null() {
        fill_txn(&mut s.txn, &mut s.txn_ts_key, &s.opts, txn);
        Some(&s.txn)
    } else {
        None
    };
    s.out.clear();
    if s.opts.format_version == 1 {
        v1::message(&mut s.out, &s.opts, &mut s.entries, transactional, prefix, content, s.utf8_db);
        // A non-transactional message is a document of its own.
        emit(ctx, &mut s.writes, if transactional { v1_entry_piece(&s.opts) } else { Piece::Whole }, &s.out);
    } else {
        v2::message(&mut s.out, &s.opts, txn_info, lsn, prefix, content, s.utf8_db);
        emit(ctx, &mut s.writes, Piece::Whole, &s.out);
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn filter_by_origin(
    ctx: *mut pg_sys::LogicalDecodingContext,
    origin_id: pg_sys::RepOriginId,
) -> bool {
    let s = state(ctx);
    // Changes made locally (origin 0) are never filtered.
    origin_id as u32 != 0 && s.opts.filter_origins.contains(&(origin_id as u32))
}
