//! Per-relation cache: names, columns, type names, output functions, key
//! columns, defaults and the session format's own data (`Format::Rel`),
//! built once per relation and rebuilt after a relcache
//! or syscache invalidation (so ALTER TABLE inside the decoded stream is seen
//! at the right change, as the reorder buffer replays invalidations).
//!
//! Invalidation callbacks only record what became stale, in a small queue of
//! their own: they can fire while an entry is being built (any syscache access
//! may process invalidations), so they never touch the cache itself.

use crate::compat;
use crate::datum::{decoding_of, output_function_info, ArrayElem};
use crate::filter::TableFilter;
use crate::format::{ChangeKind, ColumnMeta, RelMeta, ValueKind};
use crate::json;
use crate::publication::{self, Decision, Publisher};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

#[derive(Default)]
struct Pending {
    all: bool,
    relids: Vec<pg_sys::Oid>,
}

/// Set whenever PENDING gets something: checked once per change, and a plain
/// static is far cheaper than a thread-local in a shared library.
static PENDING_ANY: AtomicBool = AtomicBool::new(false);

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    static REGISTERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn relcache_callback(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    PENDING_ANY.store(true, Relaxed);
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if relid == pg_sys::InvalidOid {
            p.all = true;
        } else if !p.all && p.relids.len() < 1024 {
            p.relids.push(relid);
        } else {
            p.all = true;
        }
    });
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn syscache_callback(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    // A type or schema changed (rename, domain change): cached type names and
    // schema names may be stale everywhere.
    PENDING_ANY.store(true, Relaxed);
    PENDING.with(|p| p.borrow_mut().all = true);
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn publication_callback(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    // A publication, its tables or its schemas changed: what is published
    // may have changed for any relation.
    publication::PUBLICATIONS_STALE.store(true, Relaxed);
    PENDING_ANY.store(true, Relaxed);
    PENDING.with(|p| p.borrow_mut().all = true);
}

/// Registers the invalidation callbacks once per backend (they cannot be
/// unregistered, and PostgreSQL allows only a few per backend).
pub fn register_callbacks() {
    if REGISTERED.with(|r| r.replace(true)) {
        return;
    }
    // SAFETY: plain registration calls with static function pointers.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(relcache_callback), pg_sys::Datum::from(0));
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::TYPEOID as i32,
            Some(syscache_callback),
            pg_sys::Datum::from(0),
        );
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::NAMESPACEOID as i32,
            Some(syscache_callback),
            pg_sys::Datum::from(0),
        );
        for cache in crate::compat::PUBLICATION_CACHES {
            pg_sys::CacheRegisterSyscacheCallback(*cache as i32, Some(publication_callback), pg_sys::Datum::from(0));
        }
    }
}

/// Runtime data of one column, parallel to `RelMeta::columns`.
pub struct ColumnRuntime {
    /// Index into the tuple descriptor (and the deformed values).
    pub att_index: usize,
    pub attlen: i16,
    pub kind: ValueKind,
    /// For a domain: how its base type decodes (for styles that decode domains as their base).
    pub base_kind: Option<ValueKind>,
    /// The type's output function, looked up once (used for kinds without a fast path).
    pub finfo: Box<pg_sys::FmgrInfo>,
    /// For an array type: its elements' type.
    pub elem: Option<Box<ArrayElem>>,
}

/// A relation as the session writes it; `R` is the format's own data.
pub struct RelEntry<R> {
    /// What is published of it, and as which relation (`meta` describes that one).
    pub decision: Decision,
    /// Attribute lengths of the changed relation's tuples (for the row filter).
    pub attlens: Vec<i16>,
    pub meta: RelMeta,
    pub columns: Vec<ColumnRuntime>,
    pub natts: usize,
    pub fmt: R,
    valid: bool,
    /// Holds the output functions' private data (fn_extra); deleted on rebuild.
    mcxt: pg_sys::MemoryContext,
}

impl<R> RelEntry<R> {
    /// The session writes changes of `kind` to this relation: what is
    /// published of it, and the table filters (`add-tables`,
    /// `filter-tables`), which name the relation it is reported as.
    #[inline(always)]
    pub fn writes(&self, kind: ChangeKind, tables: &TableFilter) -> bool {
        self.decision.actions.wants(kind) && tables.wants(&self.meta.raw_schema, &self.meta.raw_table)
    }
}

/// Hashes a relation OID with one multiplication: the keys are few, not
/// attacker-chosen, and looked up once per change (SipHash showed in profiles).
#[derive(Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type OidMap<V> = HashMap<pg_sys::Oid, V, std::hash::BuildHasherDefault<OidHasher>>;

pub struct RelationCache<R> {
    entries: OidMap<RelEntry<R>>,
    /// Parent of the entries' contexts; lives as long as the decoding context.
    parent: pg_sys::MemoryContext,
}

impl<R> RelationCache<R> {
    pub fn new(parent: pg_sys::MemoryContext) -> Self {
        PENDING.with(|p| *p.borrow_mut() = Pending::default());
        RelationCache { entries: OidMap::default(), parent }
    }

    fn apply_invalidations(&mut self) {
        if !PENDING_ANY.swap(false, Relaxed) {
            return;
        }
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if pending.all {
            self.entries.values_mut().for_each(|e| e.valid = false);
        } else {
            // An entry also describes the relation it is reported as (a
            // partition's root): that one's changes (a rename) count too.
            for (relid, e) in self.entries.iter_mut() {
                if pending.relids.contains(relid) || pending.relids.contains(&e.decision.target) {
                    e.valid = false;
                }
            }
        }
    }

    /// The entry for `rel`, built or rebuilt as needed (`format_data` makes
    /// the format's part).
    ///
    /// # Safety
    /// `rel` is the open relation handed to the current callback.
    pub unsafe fn get(
        &mut self,
        rel: pg_sys::Relation,
        publisher: &mut Publisher,
        format_data: impl FnOnce(&RelMeta) -> R,
    ) -> &RelEntry<R> {
        self.apply_invalidations();
        let relid = (*rel).rd_id;
        let natts = (*(*rel).rd_att).natts as usize;
        if let Some(e) = self.entries.get(&relid) {
            if e.valid && e.natts == natts {
                // SAFETY: a plain reborrow of `e` for the lifetime of `&self`
                // (works around the borrow checker's conditional-return limit).
                return &*(e as *const RelEntry<R>);
            }
        }
        if let Some(old) = self.entries.remove(&relid) {
            pg_sys::MemoryContextDelete(old.mcxt);
        }
        let entry = build(rel, self.parent, publisher, format_data);
        self.entries.entry(relid).or_insert(entry)
    }
}

unsafe fn cstr_bytes(p: *const std::ffi::c_char) -> Vec<u8> {
    if p.is_null() {
        Vec::new()
    } else {
        CStr::from_ptr(p).to_bytes().to_vec()
    }
}

/// Key columns (attnums) of an index, read from the index's own relcache entry
/// (only that index is opened: opening every index of the table can fail under
/// a historic snapshot when an index was built concurrently later).
unsafe fn index_columns(indexoid: pg_sys::Oid) -> Vec<i16> {
    if indexoid == pg_sys::InvalidOid {
        return Vec::new();
    }
    let index = pg_sys::RelationIdGetRelation(indexoid);
    if index.is_null() {
        return Vec::new();
    }
    let form = (*index).rd_index;
    let n = (*form).indnkeyatts as usize;
    let keys = (*form).indkey.values.as_slice(n).iter().copied().filter(|&a| a > 0).collect();
    pg_sys::RelationClose(index);
    keys
}

/// pg_get_expr(pg_node_tree, oid): the same OID in every PostgreSQL release.
const F_PG_GET_EXPR: u32 = 1716;

/// The default expression of column `attnum` as `pg_get_expr` prints it.
unsafe fn default_expr(rel: pg_sys::Relation, attnum: i16) -> Option<Vec<u8>> {
    let constr = (*(*rel).rd_att).constr;
    if constr.is_null() || (*constr).defval.is_null() {
        return None;
    }
    let defs = std::slice::from_raw_parts((*constr).defval, (*constr).num_defval as usize);
    let def = defs.iter().find(|d| d.adnum == attnum)?;
    if def.adbin.is_null() {
        return None;
    }
    let expr = pg_sys::cstring_to_text(def.adbin);
    let text = pg_sys::OidFunctionCall2Coll(
        pg_sys::Oid::from(F_PG_GET_EXPR),
        pg_sys::InvalidOid,
        pg_sys::Datum::from(expr),
        pg_sys::Datum::from((*rel).rd_id),
    );
    Some(cstr_bytes(pg_sys::text_to_cstring(text.cast_mut_ptr())))
}

/// What pg_type says of a type: its `typname`, and for a domain the
/// (typbasetype, typtypmod) of that one level, as wal2json reads them.
unsafe fn type_facts(typoid: pg_sys::Oid) -> (Vec<u8>, Option<(pg_sys::Oid, i32)>) {
    let tup = pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::TYPEOID as i32, pg_sys::Datum::from(typoid));
    if tup.is_null() {
        pgrx::error!("cache lookup failed for type {}", typoid.to_u32());
    }
    let form = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_type>(tup);
    let typname = cstr_bytes((*form).typname.data.as_ptr());
    let base = if (*form).typtype as u8 == pg_sys::TYPTYPE_DOMAIN {
        Some(((*form).typbasetype, (*form).typtypmod))
    } else {
        None
    };
    pg_sys::ReleaseSysCache(tup);
    (typname, base)
}

/// Builds the entry of the changed relation `changed`: what is published
/// of it, described as the relation it is reported as (itself, or a
/// partition's ancestor), with each column pointing into the changed
/// relation's tuples.
unsafe fn build<R>(
    changed: pg_sys::Relation,
    parent: pg_sys::MemoryContext,
    publisher: &mut Publisher,
    format_data: impl FnOnce(&RelMeta) -> R,
) -> RelEntry<R> {
    let mcxt = pg_sys::AllocSetContextCreateExtended(
        parent,
        c"waljson relation".as_ptr(),
        0,
        pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
    );
    let decision = publisher.decide(changed, mcxt);
    let changed_desc = (*changed).rd_att;
    let changed_natts = (*changed_desc).natts as usize;
    let attlens = (0..changed_natts).map(|i| (*compat::attr(changed_desc, i)).attlen).collect();
    let rel = if decision.target == (*changed).rd_id {
        changed
    } else {
        let r = pg_sys::RelationIdGetRelation(decision.target);
        if r.is_null() {
            pgrx::error!("waljson: could not open relation with OID {}", decision.target.to_u32());
        }
        r
    };
    // For each column of the reported relation, where it is in the changed one's tuples.
    let positions = if rel == changed { None } else { Some(publication::attribute_map(changed_desc, (*rel).rd_att)) };
    let form = (*rel).rd_rel;
    let raw_schema = cstr_bytes(pg_sys::get_namespace_name((*form).relnamespace));
    let raw_table = cstr_bytes((*form).relname.data.as_ptr());

    // Fills rd_pkindex and rd_replidindex.
    let list = pg_sys::RelationGetIndexList(rel);
    pg_sys::list_free(list);
    let pk = index_columns((*rel).rd_pkindex);
    // The old row was logged by the changed relation's replica identity (a
    // partition's may differ from its root's): identity facts are its own,
    // its key columns taken by position into its tuples.
    if changed != rel {
        pg_sys::list_free(pg_sys::RelationGetIndexList(changed));
    }
    let identity_rel = changed;
    let identity_positions: Vec<usize> =
        index_columns((*identity_rel).rd_replidindex).iter().map(|&attnum| attnum as usize - 1).collect();
    let identity_form = (*identity_rel).rd_rel;

    let desc = (*rel).rd_att;
    let natts = (*desc).natts as usize;
    let mut meta = RelMeta {
        oid: (*rel).rd_id.to_u32(),
        replident: (*identity_form).relreplident as u8,
        schema: json::string_owned(&raw_schema),
        table: json::string_owned(&raw_table),
        raw_schema,
        raw_table,
        columns: Vec::with_capacity(natts),
        has_identity_index: (*identity_rel).rd_replidindex != pg_sys::InvalidOid,
        has_pk: (*rel).rd_pkindex != pg_sys::InvalidOid,
        replident_full: (*identity_form).relreplident as u8 == pg_sys::REPLICA_IDENTITY_FULL,
        replident_default: (*identity_form).relreplident as u8 == pg_sys::REPLICA_IDENTITY_DEFAULT,
    };
    let mut columns = Vec::with_capacity(natts);
    for i in 0..natts {
        let att = compat::attr(desc, i);
        if (*att).attisdropped || (*att).attnum <= 0 || !decision.columns.includes(att) {
            continue;
        }
        let att_index = match &positions {
            None => i,
            Some(map) => match map[i] {
                Some(j) => j,
                None => continue,
            },
        };
        let typoid = (*att).atttypid;
        let raw_name = cstr_bytes((*att).attname.data.as_ptr());
        let type_name = cstr_bytes(pg_sys::format_type_with_typemod(typoid, (*att).atttypmod));
        let (typname, base) = type_facts(typoid);
        let base_type_name = base.map(|(b, typmod)| cstr_bytes(pg_sys::format_type_with_typemod(b, typmod)));
        let base_typname = base.map(|(b, _)| type_facts(b).0);
        let default = if (*att).atthasdef && (*att).attgenerated == 0 {
            default_expr(rel, (*att).attnum).map(|d| json::string_owned(&d))
        } else {
            None
        };
        let finfo = output_function_info(typoid, mcxt);
        meta.columns.push(ColumnMeta {
            name: json::string_owned(&raw_name),
            type_name,
            base_type_name,
            typname,
            base_typname,
            typeoid: typoid.to_u32(),
            typmod: (*att).atttypmod,
            base_typeoid: base.map(|(b, _)| b.to_u32()),
            attnum: (*att).attnum,
            not_null: (*att).attnotnull,
            default,
            in_identity: identity_positions.contains(&att_index),
            in_pk: pk.contains(&(*att).attnum),
        });
        let (kind, elem) = decoding_of(typoid, mcxt);
        // A domain decoded as its base type: an array's elements are the base's.
        let (base_kind, base_elem) = match base {
            Some((b, _)) => {
                let (k, e) = decoding_of(b, mcxt);
                (Some(k), e)
            }
            None => (None, None),
        };
        columns.push(ColumnRuntime {
            att_index,
            attlen: (*att).attlen,
            kind,
            base_kind,
            elem: elem.or(base_elem),
            finfo,
        });
    }
    if rel != changed {
        pg_sys::RelationClose(rel);
    }
    let fmt = format_data(&meta);
    RelEntry { decision, attlens, meta, columns, natts: changed_natts, fmt, valid: true, mcxt }
}
