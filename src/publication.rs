//! What is published of a relation: every table as it is (wal2json), as its
//! partition root (`partition-root`), or as pgoutput decides it from
//! publications (`publication-names`): actions, the relation changes are
//! published as (`publish_via_partition_root`), row filters and column lists.
//!
//! Decided once per relation when its cache entry is (re)built, as pgoutput's
//! relation sync cache does; publication catalog changes invalidate every
//! entry (relation.rs registers the callbacks) and reload the publications.
//! Row filters run on the executor, compiled once per entry.

use crate::compat;
use crate::datum;
use crate::filter::Actions;
use crate::format::ChangeKind;
use pgrx::pg_sys;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Set by the publication catalogs' invalidation callbacks: the named
/// publications must be looked up again.
pub static PUBLICATIONS_STALE: AtomicBool = AtomicBool::new(true);

unsafe extern "C-unwind" {
    /// catalog/partition.h (not in pgrx's bindings): the OIDs of a
    /// partition's ancestors, nearest first. Called through the guarded
    /// `get_partition_ancestors` below.
    #[link_name = "get_partition_ancestors"]
    fn get_partition_ancestors_unguarded(relid: pg_sys::Oid) -> *mut pg_sys::List;
}

unsafe extern "C" {
    /// elog.h's errcontext_msg (variadic, so not in pgrx's bindings).
    fn errcontext_msg(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
}

/// The OIDs of a partition's ancestors, nearest first.
///
/// # Safety
/// In a transaction; `relid` is a partition.
unsafe fn get_partition_ancestors(relid: pg_sys::Oid) -> *mut pg_sys::List {
    // SAFETY: a plain catalog lookup; an ERROR in it becomes a Rust panic
    // that pg_guard turns back into the same ERROR.
    pg_sys::ffi::pg_guard_ffi_boundary(|| get_partition_ancestors_unguarded(relid))
}

/// Which columns of the reported relation are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Columns {
    /// Every live column, generated ones included (wal2json).
    All,
    /// pgoutput without a column list: live columns, generated ones only
    /// when stored and the publication publishes them (PostgreSQL 18).
    Published { stored_generated: bool },
    /// A publication's column list (attribute numbers of the reported relation).
    Listed(Vec<i16>),
}

impl Columns {
    /// # Safety
    /// `att` is a live attribute of the reported relation.
    pub unsafe fn includes(&self, att: *const pg_sys::FormData_pg_attribute) -> bool {
        let generated = (*att).attgenerated as u8;
        match self {
            Columns::All => true,
            Columns::Published { stored_generated } => generated == 0 || (*stored_generated && generated == b's'),
            Columns::Listed(list) => generated != b'v' && list.contains(&(*att).attnum),
        }
    }
}

/// What the session publishes of one relation.
pub struct Decision {
    pub actions: Actions,
    /// The relation the changes are reported as (the relation itself, or a
    /// partition's ancestor).
    pub target: pg_sys::Oid,
    pub columns: Columns,
    pub filter: Option<RowFilter>,
}

impl Decision {
    /// Everything, as the relation itself (or its root, for `partition-root`).
    unsafe fn everything(rel: pg_sys::Relation, partition_root: bool) -> Decision {
        let target = if partition_root && (*(*rel).rd_rel).relispartition {
            topmost_ancestor((*rel).rd_id)
        } else {
            (*rel).rd_id
        };
        Decision { actions: Actions::default(), target, columns: Columns::All, filter: None }
    }

    fn nothing(rel: pg_sys::Oid) -> Decision {
        Decision { actions: Actions::NONE, target: rel, columns: Columns::All, filter: None }
    }
}

/// The last of a partition's ancestors: its root partitioned table.
unsafe fn topmost_ancestor(relid: pg_sys::Oid) -> pg_sys::Oid {
    last_oid(get_partition_ancestors(relid)).unwrap_or(relid)
}

/// The last OID of an OID list (a partition's topmost ancestor).
unsafe fn last_oid(list: *const pg_sys::List) -> Option<pg_sys::Oid> {
    list_len(list).checked_sub(1).map(|i| list_oid(list, i))
}

unsafe fn list_len(list: *const pg_sys::List) -> usize {
    if list.is_null() {
        0
    } else {
        (*list).length as usize
    }
}

unsafe fn list_oid(list: *const pg_sys::List, i: usize) -> pg_sys::Oid {
    (*(*list).elements.add(i)).oid_value
}

unsafe fn list_has_oid(list: *const pg_sys::List, oid: pg_sys::Oid) -> bool {
    (0..list_len(list)).any(|i| list_oid(list, i) == oid)
}

/// One publication, as loaded from the catalog.
#[derive(Debug, Clone)]
struct Publication {
    oid: pg_sys::Oid,
    alltables: bool,
    viaroot: bool,
    actions: Actions,
    /// PostgreSQL 18's `publish_generated_columns = stored`.
    stored_generated: bool,
}

/// How a session decides what is published.
pub struct Publisher {
    partition_root: bool,
    /// `publication-names`, or None: every table.
    names: Option<Vec<CString>>,
    loaded: Vec<Publication>,
}

impl Publisher {
    pub fn new(partition_root: bool, names: Option<&[Vec<u8>]>) -> Publisher {
        let names = names.map(|n| {
            n.iter()
                .map(|s| {
                    CString::new(s.clone()).unwrap_or_else(|_| pgrx::error!("publication name contains a NUL byte"))
                })
                .collect()
        });
        PUBLICATIONS_STALE.store(true, Relaxed);
        Publisher { partition_root, names, loaded: Vec::new() }
    }

    /// What is published of `rel`; a row filter is built in `mcxt`.
    ///
    /// # Safety
    /// `rel` is the open relation of the current callback, in a decoding
    /// transaction (catalog reads use its historic snapshot).
    pub unsafe fn decide(&mut self, rel: pg_sys::Relation, mcxt: pg_sys::MemoryContext) -> Decision {
        if self.names.is_none() {
            return Decision::everything(rel, self.partition_root);
        }
        if !pg_sys::is_publishable_relation(rel) {
            return Decision::nothing((*rel).rd_id);
        }
        if PUBLICATIONS_STALE.swap(false, Relaxed) {
            self.load();
        }
        compat::decide_by_publications(self, rel, mcxt)
    }

    /// Looks the named publications up. One that does not exist is an
    /// ERROR up to PostgreSQL 17 and skipped with a WARNING from 18 on,
    /// as pgoutput does on each version.
    unsafe fn load(&mut self) {
        self.loaded.clear();
        for name in self.names.iter().flatten() {
            let p = pg_sys::GetPublicationByName(name.as_ptr(), compat::MISSING_PUBLICATION_OK);
            if p.is_null() {
                compat::warn_missing_publication(name);
                continue;
            }
            let a = (*p).pubactions;
            self.loaded.push(Publication {
                oid: (*p).oid,
                alltables: (*p).alltables,
                viaroot: (*p).pubviaroot,
                actions: Actions {
                    insert: a.pubinsert,
                    update: a.pubupdate,
                    delete: a.pubdelete,
                    truncate: a.pubtruncate,
                },
                stored_generated: compat::publishes_stored_generated(p),
            });
        }
    }
}

/// pgoutput's `get_rel_sync_entry` on PostgreSQL 15 and later.
///
/// # Safety
/// As `Publisher::decide`.
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
pub unsafe fn decide_15(p: &Publisher, rel: pg_sys::Relation, mcxt: pg_sys::MemoryContext) -> Decision {
    let relid = (*rel).rd_id;
    let form = (*rel).rd_rel;
    let pubids = pg_sys::GetRelationPublications(relid);
    let schema_pubids = pg_sys::GetSchemaPublications((*form).relnamespace);
    let am_partition = (*form).relispartition;
    let partitioned = (*form).relkind as u8 == pg_sys::RELKIND_PARTITIONED_TABLE;
    let ancestors = if am_partition { get_partition_ancestors(relid) } else { std::ptr::null_mut() };

    let mut actions = Actions::NONE;
    let mut target = relid;
    let mut target_level = 0;
    let mut target_pubs: Vec<&Publication> = Vec::new();
    for publication in &p.loaded {
        let mut publish = false;
        let mut pub_relid = relid;
        let mut level = 0;
        if publication.alltables {
            publish = true;
            if publication.viaroot && am_partition {
                pub_relid = last_oid(ancestors).unwrap_or(relid);
                level = list_len(ancestors) as i32;
            }
        }
        if !publish {
            let mut ancestor_published = false;
            if am_partition {
                let mut l = 0;
                let ancestor = pg_sys::GetTopMostAncestorInPublication(publication.oid, ancestors, &mut l);
                if ancestor != pg_sys::InvalidOid {
                    ancestor_published = true;
                    if publication.viaroot {
                        pub_relid = ancestor;
                        level = l;
                    }
                }
            }
            publish = list_has_oid(pubids, publication.oid)
                || list_has_oid(schema_pubids, publication.oid)
                || ancestor_published;
        }
        // A partitioned table's own changes are its partitions', unless
        // they are published through it.
        if !publish || (partitioned && !publication.viaroot) {
            continue;
        }
        actions.insert |= publication.actions.insert;
        actions.update |= publication.actions.update;
        actions.delete |= publication.actions.delete;
        actions.truncate |= publication.actions.truncate;
        // Published as the topmost ancestor over all publications; only the
        // publications at that level give the row filter and column list.
        if target_level > level {
            continue;
        }
        if target_level < level {
            target = pub_relid;
            target_level = level;
            target_pubs.clear();
        }
        target_pubs.push(publication);
    }
    let mut d = Decision { actions, target, columns: Columns::Published { stored_generated: false }, filter: None };
    if actions.insert || actions.update || actions.delete {
        let target_rel = pg_sys::RelationIdGetRelation(target);
        if target_rel.is_null() {
            pgrx::error!("waljson: could not open relation with OID {}", target.to_u32());
        }
        d.columns = column_list(&target_pubs, target_rel, mcxt);
        d.filter = RowFilter::build(&target_pubs, target_rel, rel, mcxt);
        pg_sys::RelationClose(target_rel);
    }
    d
}

/// Attribute `prqual` (4) and `prattrs` (5) of pg_publication_rel (15+;
/// the `Anum_` constants are not in pgrx's bindings).
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
const ANUM_PRQUAL: i16 = 4;
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
const ANUM_PRATTRS: i16 = 5;

/// An attribute of the publication's pg_publication_rel row for `relid`
/// (None: no row, or the attribute is NULL), as text for prqual or as the
/// int2vector datum for prattrs; `f` reads it while the row is held.
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
unsafe fn publication_rel_attr<T>(
    relid: pg_sys::Oid,
    puboid: pg_sys::Oid,
    attnum: i16,
    f: impl FnOnce(pg_sys::Datum) -> T,
) -> Option<T> {
    let cache = pg_sys::SysCacheIdentifier::PUBLICATIONRELMAP as i32;
    let tup = pg_sys::SearchSysCache2(cache, pg_sys::Datum::from(relid), pg_sys::Datum::from(puboid));
    if tup.is_null() {
        return None;
    }
    let mut isnull = true;
    let datum = pg_sys::SysCacheGetAttr(cache, tup, attnum, &mut isnull);
    let value = if isnull { None } else { Some(f(datum)) };
    pg_sys::ReleaseSysCache(tup);
    value
}

/// True if `puboid` publishes the whole schema `schema` (FOR TABLES IN SCHEMA).
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
unsafe fn publishes_schema(schema: pg_sys::Oid, puboid: pg_sys::Oid) -> bool {
    pg_sys::SearchSysCacheExists(
        pg_sys::SysCacheIdentifier::PUBLICATIONNAMESPACEMAP as i32,
        pg_sys::Datum::from(schema),
        pg_sys::Datum::from(puboid),
        pg_sys::Datum::from(0),
        pg_sys::Datum::from(0),
    )
}

/// The column list of the reported relation over the publications that
/// publish it; different lists are pgoutput's ERROR.
#[cfg(not(any(feature = "pg13", feature = "pg14")))]
unsafe fn column_list(pubs: &[&Publication], target: pg_sys::Relation, mcxt: pg_sys::MemoryContext) -> Columns {
    let desc = (*target).rd_att;
    let natts = (*desc).natts as usize;
    let live = |stored_generated: bool| -> Vec<i16> {
        (0..natts)
            .map(|i| compat::attr(desc, i))
            .filter(|&a| !(*a).attisdropped && Columns::Published { stored_generated }.includes(a))
            .map(|a| (*a).attnum)
            .collect()
    };
    let mut chosen: Option<Vec<i16>> = None;
    let mut first = true;
    let mut any_list = false;
    let mut stored_generated = false;
    for publication in pubs {
        let mut list = if publication.alltables {
            None
        } else {
            publication_rel_attr((*target).rd_id, publication.oid, ANUM_PRATTRS, |d| {
                let set = pg_sys::pub_collist_to_bitmapset(std::ptr::null_mut(), d, mcxt);
                let mut members = Vec::new();
                let mut m = -1;
                loop {
                    m = pg_sys::bms_next_member(set, m);
                    if m < 0 {
                        break;
                    }
                    members.push(m as i16);
                }
                members
            })
        };
        any_list |= list.is_some();
        // A list of every column is no list (compared as pgoutput does on
        // this version); from 18 on, no list is compared as every column.
        if compat::COLUMN_LIST_AS_ALL_COLUMNS {
            if list.is_none() {
                list = Some(live(publication.stored_generated));
            }
        } else if list.as_ref().is_some_and(|l| l.len() == compat::columns_counted(desc, &live(false))) {
            list = None;
        }
        if first {
            chosen = list;
            stored_generated = publication.stored_generated;
            first = false;
        } else if chosen != list {
            pgrx::ereport!(
                ERROR,
                pgrx::PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "cannot use different column lists for table \"{}.{}\" in different publications",
                    relation_schema(target),
                    relation_name(target)
                )
            );
        }
    }
    match chosen {
        Some(l) if any_list => Columns::Listed(l),
        _ => Columns::Published { stored_generated },
    }
}

unsafe fn relation_name(rel: pg_sys::Relation) -> String {
    CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr()).to_string_lossy().into_owned()
}

unsafe fn relation_schema(rel: pg_sys::Relation) -> String {
    let s = pg_sys::get_namespace_name((*(*rel).rd_rel).relnamespace);
    if s.is_null() {
        String::new()
    } else {
        CStr::from_ptr(s).to_string_lossy().into_owned()
    }
}

/// The row filters of a relation, one per action (pgoutput's), compiled
/// for the executor, over the reported relation's row type.
pub struct RowFilter {
    /// The per-tuple context the filters run in (of the filters' EState).
    econtext: *mut pg_sys::ExprContext,
    /// INSERT, UPDATE, DELETE; null: that action is not filtered.
    exprs: [*mut pg_sys::ExprState; 3],
    /// A virtual slot of the reported relation's row type, kept stored:
    /// each evaluation only overwrites its values (see `matches`).
    slot: *mut pg_sys::TupleTableSlot,
    /// For each attribute of the reported relation, the index of the same
    /// column in the changed relation's tuples (None: no such column).
    map: Vec<Option<usize>>,
    /// The map is the identity (the relation is reported as itself): rows
    /// are copied whole.
    same_layout: bool,
    /// The reported relation's name, for the ERROR context.
    table: CString,
}

fn action_index(kind: ChangeKind) -> usize {
    match kind {
        ChangeKind::Insert => 0,
        ChangeKind::Update => 1,
        ChangeKind::Delete => 2,
    }
}

/// For each attribute of `to`, the index of the attribute of `from` with
/// the same name (partitions may order or number their columns
/// differently from their root).
///
/// # Safety
/// Both are valid tuple descriptors.
pub unsafe fn attribute_map(from: pg_sys::TupleDesc, to: pg_sys::TupleDesc) -> Vec<Option<usize>> {
    let from_n = (*from).natts as usize;
    (0..(*to).natts as usize)
        .map(|i| {
            let a = compat::attr(to, i);
            if (*a).attisdropped {
                return None;
            }
            let name = CStr::from_ptr((*a).attname.data.as_ptr());
            (0..from_n).find(|&j| {
                let b = compat::attr(from, j);
                !(*b).attisdropped && CStr::from_ptr((*b).attname.data.as_ptr()) == name
            })
        })
        .collect()
}

impl RowFilter {
    /// pgoutput's `pgoutput_row_filter_init`: a publication without a
    /// filter for an action it publishes (or publishing all tables, or the
    /// table's schema) means no filter for that action; the others' filters
    /// are OR-ed.
    ///
    /// # Safety
    /// `target` is the reported relation, `rel` the changed one; in a
    /// decoding transaction.
    #[cfg(not(any(feature = "pg13", feature = "pg14")))]
    unsafe fn build(
        pubs: &[&Publication],
        target: pg_sys::Relation,
        rel: pg_sys::Relation,
        mcxt: pg_sys::MemoryContext,
    ) -> Option<RowFilter> {
        let schema = (*(*target).rd_rel).relnamespace;
        let mut texts: [Vec<String>; 3] = Default::default();
        let mut no_filter = [false; 3];
        for publication in pubs {
            let qual = if publication.alltables || publishes_schema(schema, publication.oid) {
                None
            } else {
                publication_rel_attr((*target).rd_id, publication.oid, ANUM_PRQUAL, |d| {
                    CStr::from_ptr(pg_sys::text_to_cstring(d.cast_mut_ptr())).to_string_lossy().into_owned()
                })
            };
            let published = [publication.actions.insert, publication.actions.update, publication.actions.delete];
            for a in 0..3 {
                if !published[a] {
                    continue;
                }
                match &qual {
                    None => no_filter[a] = true,
                    Some(q) => texts[a].push(q.clone()),
                }
            }
        }
        for a in 0..3 {
            if no_filter[a] {
                texts[a].clear();
            }
        }
        if texts.iter().all(Vec::is_empty) {
            return None;
        }
        let old_cxt = pg_sys::MemoryContextSwitchTo(mcxt);
        let estate = compat::estate_for_relation(target);
        let mut exprs = [std::ptr::null_mut(); 3];
        for a in 0..3 {
            if texts[a].is_empty() {
                continue;
            }
            let mut nodes: *mut pg_sys::List = std::ptr::null_mut();
            for t in &texts[a] {
                let c = CString::new(t.as_str()).unwrap_or_default();
                let node = compat::filter_node(pg_sys::stringToNode(c.as_ptr()).cast(), target);
                nodes = pg_sys::lappend(nodes, node.cast());
            }
            let expr = pg_sys::make_orclause(nodes);
            exprs[a] = pg_sys::ExecPrepareExpr(expr, estate);
        }
        let desc = pg_sys::CreateTupleDescCopy((*target).rd_att);
        let slot = pg_sys::MakeSingleTupleTableSlot(desc, &raw const pg_sys::TTSOpsVirtual);
        // Stored once, all NULL: the slot then stays a valid virtual tuple
        // whose values `matches` overwrites in place.
        for i in 0..(*desc).natts as usize {
            *(*slot).tts_isnull.add(i) = true;
        }
        pg_sys::ExecStoreVirtualTuple(slot);
        let econtext = pg_sys::MakePerTupleExprContext(estate);
        (*econtext).ecxt_scantuple = slot;
        let map = attribute_map((*rel).rd_att, (*target).rd_att);
        let same_layout = (*rel).rd_att.as_ref().is_some_and(|d| d.natts as usize == map.len())
            && map
                .iter()
                .enumerate()
                .all(|(i, m)| *m == Some(i) || (m.is_none() && (*compat::attr((*rel).rd_att, i)).attisdropped));
        pg_sys::MemoryContextSwitchTo(old_cxt);
        let table = CString::new(format!("{}.{}", relation_schema(target), relation_name(target))).unwrap_or_default();
        Some(RowFilter { econtext, exprs, slot, map, same_layout, table })
    }

    pub fn filters(&self, kind: ChangeKind) -> bool {
        !self.exprs[action_index(kind)].is_null()
    }

    /// Evaluates the filter of `kind` on a row of the changed relation
    /// (NULL counts as false). An ERROR in the filter propagates, with a
    /// context line naming the table.
    ///
    /// # Safety
    /// `values`/`nulls` are a deformed tuple of the changed relation, valid
    /// during the callback; `self.filters(kind)`.
    pub unsafe fn matches(&self, kind: ChangeKind, values: &[pg_sys::Datum], nulls: &[bool]) -> bool {
        // The slot holds a stored virtual tuple of all the attributes
        // (tts_nvalid = natts), so the expression reads tts_values and
        // tts_isnull directly: overwriting them is storing the new row,
        // without a guarded call per row. Its values are by reference into
        // the change's tuples, which outlive the evaluation.
        let slot = self.slot;
        let n = self.map.len();
        if self.same_layout {
            // SAFETY: the slot's arrays have the descriptor's natts = n
            // entries, and so do the deformed rows of the same relation
            // (dropped columns are NULL there).
            std::ptr::copy_nonoverlapping(values.as_ptr(), (*slot).tts_values, n);
            std::ptr::copy_nonoverlapping(nulls.as_ptr(), (*slot).tts_isnull, n);
        } else {
            for (i, m) in self.map.iter().enumerate() {
                let (v, n) = match *m {
                    Some(j) => (values[j], nulls[j]),
                    None => (pg_sys::Datum::from(0), true),
                };
                *(*slot).tts_values.add(i) = v;
                *(*slot).tts_isnull.add(i) = n;
            }
        }
        let econtext = self.econtext;
        // Most filters allocate nothing (comparisons of by-value columns).
        let tuple_memory = (*econtext).ecxt_per_tuple_memory;
        if !(*tuple_memory).isReset {
            pg_sys::MemoryContextReset(tuple_memory);
        }
        let mut callback = pg_sys::ErrorContextCallback {
            previous: pg_sys::error_context_stack,
            callback: Some(filter_error_context),
            arg: self.table.as_ptr() as *mut std::ffi::c_void,
        };
        // Popped when this frame ends, also when an ERROR unwinds through it
        // (the stack must never keep a pointer to this frame).
        struct Pop(*mut pg_sys::ErrorContextCallback);
        impl Drop for Pop {
            fn drop(&mut self) {
                // SAFETY: restores the stack as it was before the push below.
                unsafe { pg_sys::error_context_stack = self.0 }
            }
        }
        let _pop = Pop(callback.previous);
        pg_sys::error_context_stack = &mut callback;
        let mut isnull = false;
        let result = pg_sys::ExecEvalExprSwitchContext(self.exprs[action_index(kind)], econtext, &mut isnull);
        !isnull && result.value() != 0
    }
}

/// Names the table whose row filter raised an ERROR.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn filter_error_context(arg: *mut std::ffi::c_void) {
    errcontext_msg(c"waljson: row filter of the publications of table %s".as_ptr(), arg as *const std::ffi::c_char);
}

/// What a row filter makes of a change: pgoutput's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not sent.
    Drop,
    /// Sent as it is.
    Keep,
    /// An UPDATE whose old row passes and new row fails: sent as a DELETE of the old row.
    AsDelete,
    /// An UPDATE whose new row passes and old row fails: sent as an INSERT
    /// of the new row, with key columns the new tuple lacks (unchanged
    /// TOAST logged only in the old tuple) taken from the old one.
    AsInsert,
}

/// A deformed tuple of the changed relation.
pub struct TupleValues<'a> {
    pub values: &'a mut [pg_sys::Datum],
    pub nulls: &'a mut [bool],
}

/// Applies the row filter to a change.
///
/// # Safety
/// The rows are deformed tuples of the changed relation (whose attribute
/// lengths `attlens` gives), valid during the callback.
pub unsafe fn verdict(
    filter: &RowFilter,
    kind: ChangeKind,
    new: Option<TupleValues<'_>>,
    old: Option<TupleValues<'_>>,
    attlens: &[i16],
) -> Verdict {
    if !filter.filters(kind) {
        return Verdict::Keep;
    }
    let pass = |b: bool| if b { Verdict::Keep } else { Verdict::Drop };
    match (kind, new, old) {
        (ChangeKind::Insert, Some(n), _) => pass(filter.matches(kind, n.values, n.nulls)),
        // A DELETE without its old row is not sent by pgoutput; the format
        // reports it as it does without publications.
        (ChangeKind::Delete, _, Some(o)) => pass(filter.matches(kind, o.values, o.nulls)),
        (ChangeKind::Delete, _, None) => Verdict::Keep,
        (ChangeKind::Update, Some(n), None) => pass(filter.matches(kind, n.values, n.nulls)),
        (ChangeKind::Update, Some(n), Some(o)) => {
            // Unchanged TOASTed key columns are only in the old tuple.
            let mut patched: Option<(Vec<pg_sys::Datum>, Vec<bool>)> = None;
            for (i, &len) in attlens.iter().enumerate() {
                if n.nulls[i] || o.nulls[i] {
                    continue;
                }
                if datum::is_unchanged_toast(n.values[i], len) && !datum::is_unchanged_toast(o.values[i], len) {
                    let p = patched.get_or_insert_with(|| (n.values.to_vec(), n.nulls.to_vec()));
                    p.0[i] = o.values[i];
                    p.1[i] = false;
                }
            }
            let old_matched = filter.matches(kind, o.values, o.nulls);
            let new_matched = match &patched {
                Some((v, nl)) => filter.matches(kind, v, nl),
                None => filter.matches(kind, n.values, n.nulls),
            };
            match (old_matched, new_matched) {
                (false, false) => Verdict::Drop,
                (true, true) => Verdict::Keep,
                (true, false) => Verdict::AsDelete,
                (false, true) => {
                    if let Some((v, nl)) = patched {
                        n.values.copy_from_slice(&v);
                        n.nulls.copy_from_slice(&nl);
                    }
                    Verdict::AsInsert
                }
            }
        }
        _ => Verdict::Keep,
    }
}
