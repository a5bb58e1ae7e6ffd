//! Every difference between PostgreSQL 13..18 that waljson touches, in one
//! place, so the callbacks read the same on every version.

use pgrx::pg_sys;

#[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15", feature = "pg16"))]
pub type TpTuple = *mut pg_sys::ReorderBufferTupleBuf;
#[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15", feature = "pg16")))]
pub type TpTuple = pg_sys::HeapTuple;

/// The heap tuple of a change's new/old tuple, or None.
///
/// # Safety
/// `p` is a tuple pointer of a change handed to the current callback; the
/// reorder buffer owns it and keeps it valid until the callback returns.
pub unsafe fn heap_tuple(p: TpTuple) -> Option<pg_sys::HeapTuple> {
    if p.is_null() {
        return None;
    }
    #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15", feature = "pg16"))]
    {
        Some(&raw mut (*p).tuple)
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15", feature = "pg16")))]
    {
        Some(p)
    }
}

/// The commit time of a transaction.
///
/// # Safety
/// `txn` points to a live ReorderBufferTXN.
pub unsafe fn commit_time(txn: *const pg_sys::ReorderBufferTXN) -> pg_sys::TimestampTz {
    #[cfg(any(feature = "pg13", feature = "pg14"))]
    {
        (*txn).commit_time
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14")))]
    {
        (*txn).xact_time.commit_time
    }
}

/// Attribute `i` of a tuple descriptor (C's `TupleDescAttr`).
///
/// # Safety
/// `desc` is a valid tuple descriptor and `i < natts`.
pub unsafe fn attr(desc: pg_sys::TupleDesc, i: usize) -> *const pg_sys::FormData_pg_attribute {
    #[cfg(not(feature = "pg18"))]
    {
        (*desc).attrs.as_ptr().add(i)
    }
    #[cfg(feature = "pg18")]
    {
        pg_sys::TupleDescAttr(desc, i as _)
    }
}

/// The string value of a DefElem's argument, or None when the option was
/// given without a value.
///
/// # Safety
/// `elem` is a valid DefElem from the plugin's option list, whose `arg` is NULL
/// or a String node (the replication grammar and the SQL functions only build those).
pub unsafe fn defelem_value(elem: *const pg_sys::DefElem) -> Option<*const std::ffi::c_char> {
    let arg = (*elem).arg;
    if arg.is_null() {
        return None;
    }
    #[cfg(any(feature = "pg13", feature = "pg14"))]
    {
        Some((*(arg as *const pg_sys::Value)).val.str_)
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14")))]
    {
        Some((*(arg as *const pg_sys::String)).sval)
    }
}

/// Changes between two progress reports while nothing is written.
const PROGRESS_EVERY: u32 = 100;

/// Progress/keepalive reporting so a walsender decoding a long transaction
/// whose changes are all filtered out does not hit wal_sender_timeout.
/// PostgreSQL 16 and later do this in the core; 13 to 15 need the plugin to
/// call OutputPluginUpdateProgress now and then (as pgoutput does there).
///
/// # Safety
/// `ctx` is the decoding context of the current callback.
pub unsafe fn update_progress(ctx: *mut pg_sys::LogicalDecodingContext, counter: &mut u32, at_commit: bool) {
    #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15"))]
    {
        *counter += 1;
        if at_commit || (*ctx).end_xact || *counter >= PROGRESS_EVERY {
            *counter = 0;
            #[cfg(any(feature = "pg13", feature = "pg14"))]
            pg_sys::OutputPluginUpdateProgress(ctx);
            #[cfg(feature = "pg15")]
            pg_sys::OutputPluginUpdateProgress(ctx, false);
        }
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15")))]
    {
        let _ = (counter, PROGRESS_EVERY);
        if at_commit {
            pg_sys::OutputPluginUpdateProgress(ctx, false);
        }
    }
}
