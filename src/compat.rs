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

/// The two-phase transaction identifier of `txn` (empty when it has none).
///
/// # Safety
/// `txn` points to a live ReorderBufferTXN.
pub unsafe fn gid(txn: *const pg_sys::ReorderBufferTXN) -> Vec<u8> {
    #[cfg(feature = "pg13")]
    {
        let _ = txn;
        Vec::new()
    }
    #[cfg(not(feature = "pg13"))]
    {
        let gid = (*txn).gid;
        if gid.is_null() {
            Vec::new()
        } else {
            std::ffi::CStr::from_ptr(gid).to_bytes().to_vec()
        }
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
/// `skipped`: at a commit, the transaction was not written at all
/// (include-empty-transaction=0); 15 and later tell a synchronous standby.
///
/// # Safety
/// `ctx` is the decoding context of the current callback.
pub unsafe fn update_progress(
    ctx: *mut pg_sys::LogicalDecodingContext,
    counter: &mut u32,
    at_commit: bool,
    skipped: bool,
) {
    #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15"))]
    {
        *counter += 1;
        if at_commit || (*ctx).end_xact || *counter >= PROGRESS_EVERY {
            *counter = 0;
            #[cfg(any(feature = "pg13", feature = "pg14"))]
            {
                let _ = skipped;
                pg_sys::OutputPluginUpdateProgress(ctx);
            }
            #[cfg(feature = "pg15")]
            pg_sys::OutputPluginUpdateProgress(ctx, skipped);
        }
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14", feature = "pg15")))]
    {
        let _ = (counter, PROGRESS_EVERY);
        if at_commit {
            pg_sys::OutputPluginUpdateProgress(ctx, skipped);
        }
    }
}

/// A publication that does not exist is skipped (with a WARNING) from
/// PostgreSQL 18 on, and an ERROR before, as pgoutput does on each version.
pub const MISSING_PUBLICATION_OK: bool = cfg!(feature = "pg18");

/// PostgreSQL 18's WARNING for a publication that does not exist (yet) at
/// this point of the WAL (never called before 18: the lookup raised an ERROR).
pub fn warn_missing_publication(name: &std::ffi::CStr) {
    pgrx::ereport!(
        pgrx::PgLogLevel::WARNING,
        pgrx::PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("skipped loading publication \"{}\"", name.to_string_lossy()),
        "The publication does not exist at this point in the WAL."
    );
}

/// PostgreSQL 18's `publish_generated_columns = stored`.
///
/// # Safety
/// `p` is a Publication returned by GetPublicationByName.
pub unsafe fn publishes_stored_generated(p: *const pg_sys::Publication) -> bool {
    #[cfg(feature = "pg18")]
    {
        (*p).pubgencols_type as u8 == b's'
    }
    #[cfg(not(feature = "pg18"))]
    {
        let _ = p;
        false
    }
}

/// From 18 on, pgoutput compares a publication without a column list as a
/// list of every published column; before, a list of every column counts
/// as no list.
pub const COLUMN_LIST_AS_ALL_COLUMNS: bool = cfg!(feature = "pg18");

/// What a column list is compared with to count as "every column": 15
/// counts dropped columns too (RelationGetNumberOfAttributes), 16 and 17
/// the live ones that can be published.
///
/// # Safety
/// `desc` is a valid tuple descriptor.
pub unsafe fn columns_counted(desc: pg_sys::TupleDesc, live: &[i16]) -> usize {
    if cfg!(feature = "pg15") {
        (*desc).natts as usize
    } else {
        live.len()
    }
}

/// pgoutput's `create_estate_for_relation`: an executor state whose range
/// table holds `rel`, for compiling and running row filters.
///
/// # Safety
/// `rel` is an open relation; called in a transaction.
pub unsafe fn estate_for_relation(rel: pg_sys::Relation) -> *mut pg_sys::EState {
    let estate = pg_sys::CreateExecutorState();
    let rte = pg_sys::palloc0(std::mem::size_of::<pg_sys::RangeTblEntry>()) as *mut pg_sys::RangeTblEntry;
    (*rte).type_ = pg_sys::NodeTag::T_RangeTblEntry;
    (*rte).rtekind = pg_sys::RTEKind::RTE_RELATION;
    (*rte).relid = (*rel).rd_id;
    (*rte).relkind = (*(*rel).rd_rel).relkind;
    (*rte).rellockmode = pg_sys::AccessShareLock as i32;
    let rtable = pg_sys::lappend(std::ptr::null_mut(), rte.cast());
    #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15"))]
    pg_sys::ExecInitRangeTable(estate, rtable);
    #[cfg(any(feature = "pg16", feature = "pg17", feature = "pg18"))]
    {
        let mut perminfos: *mut pg_sys::List = std::ptr::null_mut();
        pg_sys::addRTEPermissionInfo(&mut perminfos, rte);
        #[cfg(not(feature = "pg18"))]
        pg_sys::ExecInitRangeTable(estate, rtable, perminfos);
        #[cfg(feature = "pg18")]
        pg_sys::ExecInitRangeTable(estate, rtable, perminfos, pg_sys::bms_make_singleton(1));
    }
    (*estate).es_output_cid = pg_sys::GetCurrentCommandId(false);
    estate
}

/// A row filter's expression as it is compiled: 18 expands virtual
/// generated columns in it.
///
/// # Safety
/// `node` is a parsed filter of `rel`.
pub unsafe fn filter_node(node: *mut pg_sys::Node, rel: pg_sys::Relation) -> *mut pg_sys::Node {
    #[cfg(feature = "pg18")]
    {
        pg_sys::expand_generated_columns_in_expr(node, rel, 1)
    }
    #[cfg(not(feature = "pg18"))]
    {
        let _ = rel;
        node
    }
}

/// Publications decide what is published (15 and later: pgoutput's row
/// filters, column lists and schema publications exist from 15 on).
///
/// # Safety
/// As `Publisher::decide`.
pub unsafe fn decide_by_publications(
    p: &crate::publication::Publisher,
    rel: pg_sys::Relation,
    mcxt: pg_sys::MemoryContext,
) -> crate::publication::Decision {
    #[cfg(any(feature = "pg13", feature = "pg14"))]
    {
        let _ = (p, rel, mcxt);
        pgrx::ereport!(
            ERROR,
            pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "waljson: publication-names needs PostgreSQL 15 or later"
        );
        unreachable!()
    }
    #[cfg(not(any(feature = "pg13", feature = "pg14")))]
    {
        crate::publication::decide_15(p, rel, mcxt)
    }
}

/// The syscaches whose invalidations change what publications publish:
/// pg_publication, pg_publication_rel and (15+) pg_publication_namespace.
#[cfg(any(feature = "pg13", feature = "pg14"))]
pub const PUBLICATION_CACHES: &[pg_sys::SysCacheIdentifier::Type] =
    &[pg_sys::SysCacheIdentifier::PUBLICATIONOID, pg_sys::SysCacheIdentifier::PUBLICATIONRELMAP];
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
pub const PUBLICATION_CACHES: &[pg_sys::SysCacheIdentifier::Type] = &[
    pg_sys::SysCacheIdentifier::PUBLICATIONOID,
    pg_sys::SysCacheIdentifier::PUBLICATIONRELMAP,
    pg_sys::SysCacheIdentifier::PUBLICATIONNAMESPACEMAP,
];
