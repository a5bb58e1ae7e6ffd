//! `waljson.snapshot()`: the rows of a table as the calling transaction
//! sees them, written by the session's format as the stream writes an
//! INSERT of each (format 3: Debezium's read events), with the stream's own
//! relation cache, publications, row filters, column lists and value
//! writers. Rows are read and written a few at a time, as the SQL function
//! asks for them: memory stays flat however large the table.
//!
//! A row is written once the next one has been read (so that the last one
//! is known, which format 3 marks); it waits as a copy in the reader's
//! memory.

use crate::callbacks::{check_publication_options, option_error};
use crate::format::{
    each_format, new_by_format, ByFormat, ChangeKind, Env, Family, Format, Piece, Sink, Skipped, SnapshotPosition, Txn,
    TxnInfo,
};
use crate::options::{ErrorKind, OptionError, Options, SNAPSHOT_BATCH_DEFAULT};
use crate::publication::Publisher;
use crate::relation::{self, RelationCache};
use crate::settings;
use crate::tuple::Rows;
use pgrx::pg_sys;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use std::collections::VecDeque;
use std::ffi::CStr;

unsafe extern "C-unwind" {
    /// catalog/pg_inherits.h (not in pgrx's bindings): a table and all
    /// its descendants, the table first. Called through `pg_guard_ffi_boundary`.
    #[link_name = "find_all_inheritors"]
    fn find_all_inheritors_unguarded(
        parent: pg_sys::Oid,
        lockmode: pg_sys::LOCKMODE,
        numparents: *mut *mut pg_sys::List,
    ) -> *mut pg_sys::List;
}

/// Rows written per call of `fill` at most, and bytes: enough to amortise
/// setting the format's settings, little enough to keep memory flat.
const FILL_ROWS: usize = 256;
const FILL_BYTES: usize = 1 << 20;

/// What one output row may hold: a text value is at most 1 GB.
const ROW_LIMIT: usize = 0x3fff_ffff - 64;

/// A row of the result, in the database's encoding (JSON text).
pub struct JsonText(pub Vec<u8>);

/// An ERROR with an SQLSTATE.
fn error(code: PgSqlErrorCode, message: String, hint: Option<&str>) -> ! {
    let mut report = pgrx::pg_sys::panic::ErrorReport::new(code, message, "waljson.snapshot");
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

unsafe fn relation_name(relid: pg_sys::Oid) -> String {
    let name = pg_sys::get_rel_name(relid);
    if name.is_null() {
        format!("{}", relid.to_u32())
    } else {
        CStr::from_ptr(name).to_string_lossy().into_owned()
    }
}

/// Checks that `relid` is a table whose changes logical decoding writes,
/// that the current role may read all of it, and that no row-level
/// security policy applies (the snapshot would bypass it); returns the
/// relations to read: the table, or a partitioned table's leaf partitions.
///
/// # Safety
/// In a transaction.
unsafe fn relations_to_read(relid: pg_sys::Oid) -> Vec<pg_sys::Oid> {
    let relkind = pg_sys::get_rel_relkind(relid) as u8;
    let name = relation_name(relid);
    if relkind == 0 {
        error(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("waljson.snapshot: relation with OID {} does not exist", relid.to_u32()),
            None,
        );
    }
    if relkind != pg_sys::RELKIND_RELATION && relkind != pg_sys::RELKIND_PARTITIONED_TABLE {
        let what = match relkind {
            pg_sys::RELKIND_VIEW => "a view",
            pg_sys::RELKIND_MATVIEW => "a materialized view",
            pg_sys::RELKIND_FOREIGN_TABLE => "a foreign table",
            pg_sys::RELKIND_SEQUENCE => "a sequence",
            pg_sys::RELKIND_INDEX | pg_sys::RELKIND_PARTITIONED_INDEX => "an index",
            pg_sys::RELKIND_COMPOSITE_TYPE => "a composite type",
            _ => "not a table",
        };
        error(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            format!("waljson.snapshot: \"{name}\" is {what}"),
            Some("Only tables and partitioned tables have rows in the stream."),
        );
    }
    let user = pg_sys::GetUserId();
    if pg_sys::pg_class_aclcheck(relid, user, pg_sys::ACL_SELECT as pg_sys::AclMode) != pg_sys::AclResult::ACLCHECK_OK
        && pg_sys::pg_attribute_aclcheck_all(
            relid,
            user,
            pg_sys::ACL_SELECT as pg_sys::AclMode,
            pg_sys::AclMaskHow::ACLMASK_ALL,
        ) != pg_sys::AclResult::ACLCHECK_OK
    {
        let cname = std::ffi::CString::new(name.clone()).unwrap_or_default();
        pg_sys::aclcheck_error(
            pg_sys::AclResult::ACLCHECK_NO_PRIV,
            pg_sys::get_relkind_objtype(relkind as std::ffi::c_char),
            cname.as_ptr(),
        );
    }
    if pg_sys::check_enable_rls(relid, pg_sys::InvalidOid, false) == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32 {
        error(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("waljson.snapshot: row-level security applies to table \"{name}\" for the current role"),
            Some("The snapshot reads every row, as the stream does: run it as a role that bypasses row-level security (the table's owner or a role with BYPASSRLS)."),
        );
    }
    let persistence = pg_sys::get_rel_persistence(relid) as u8;
    let catalog = pg_sys::IsCatalogRelationOid(relid);
    if persistence != pg_sys::RELPERSISTENCE_PERMANENT || catalog {
        let what = if catalog {
            "a system catalog"
        } else if persistence == pg_sys::RELPERSISTENCE_TEMP {
            "a temporary table"
        } else {
            "an unlogged table"
        };
        error(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            format!("waljson.snapshot: \"{name}\" is {what}, whose changes logical decoding does not write"),
            None,
        );
    }
    if relkind != pg_sys::RELKIND_PARTITIONED_TABLE {
        return vec![relid];
    }
    // SAFETY: a catalog lookup that locks the partitions; an ERROR in it
    // becomes a Rust panic that pg_guard turns back into the same ERROR.
    let all = pg_sys::ffi::pg_guard_ffi_boundary(|| {
        find_all_inheritors_unguarded(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE, std::ptr::null_mut())
    });
    let n = if all.is_null() { 0 } else { (*all).length as usize };
    (0..n)
        .map(|i| (*(*all).elements.add(i)).oid_value)
        .filter(|&oid| pg_sys::get_rel_relkind(oid) as u8 == pg_sys::RELKIND_RELATION)
        .collect()
}

/// Where the format writes: whole messages become result rows, a message
/// built in pieces (a format-1 document) one row when closed.
struct QueueSink<'a> {
    buf: Vec<u8>,
    open: &'a mut Option<Vec<u8>>,
    queue: &'a mut VecDeque<Vec<u8>>,
    queued_bytes: &'a mut usize,
}

impl QueueSink<'_> {
    fn too_big(size: usize) -> ! {
        error(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("waljson.snapshot: a result row would exceed 1 GB ({size} bytes so far)"),
            Some("With format-version 1, use a smaller batch-size or write-in-chunks=1."),
        )
    }

    fn push(&mut self, row: Vec<u8>) {
        *self.queued_bytes += row.len();
        self.queue.push_back(row);
    }
}

impl Sink for QueueSink<'_> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self.buf.clear();
        &mut self.buf
    }

    fn send(&mut self, piece: Piece) {
        if self.buf.len() >= ROW_LIMIT {
            Self::too_big(self.buf.len());
        }
        match piece {
            Piece::Whole => {
                let row = std::mem::take(&mut self.buf);
                self.push(row);
            }
            Piece::Open(_) => *self.open = Some(std::mem::take(&mut self.buf)),
            Piece::Append | Piece::Close => {
                let doc = self.open.get_or_insert_with(Vec::new);
                if doc.len() + self.buf.len() >= ROW_LIMIT {
                    Self::too_big(doc.len() + self.buf.len());
                }
                doc.extend_from_slice(&self.buf);
                if piece == Piece::Close {
                    let row = self.open.take().unwrap_or_default();
                    self.push(row);
                }
            }
        }
    }
}

/// A relation being read.
struct Reading {
    rel: pg_sys::Relation,
    /// None once every row was read.
    scan: Option<pg_sys::TableScanDesc>,
}

/// The snapshot of one table in format `F`, read as the result rows are asked for.
pub struct Reader<F: Format> {
    opts: Options,
    format: F,
    publisher: Publisher,
    cache: RelationCache<F::Rel>,
    rows: Rows,
    txn: Txn<F::Txn>,
    /// The relations still to open, in order.
    to_read: VecDeque<pg_sys::Oid>,
    /// The relations opened (kept open until the end: a waiting row
    /// may belong to one whose scan has ended).
    opened: Vec<Reading>,
    /// The row read and not yet written: a copy (in `cxt`) and the index
    /// of its relation in `opened`.
    waiting: Option<(pg_sys::HeapTuple, usize)>,
    written: u64,
    /// Rows in the open format-1 document.
    in_batch: u32,
    batch_size: u32,
    /// A message being built in pieces.
    open: Option<Vec<u8>>,
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    /// The reader's own context (the SQL function's multi-call context):
    /// scans and waiting rows live here. Child contexts are deleted
    /// before the reader is dropped, this one after.
    cxt: pg_sys::MemoryContext,
    /// Output functions, detoasting and row filters allocate here; reset per row.
    row_cxt: pg_sys::MemoryContext,
    snapshot: pg_sys::Snapshot,
    finished: bool,
}

pub struct Readers;

impl Family for Readers {
    type Of<F: Format> = Reader<F>;
}

/// The reader of whichever format the options chose.
pub type AnyReader = ByFormat<Readers>;

/// Starts the snapshot of `relid` with the given options (name/value pairs).
///
/// # Safety
/// Called from the SQL function, in a transaction, with the multi-call
/// memory context current.
pub unsafe fn start(relid: pg_sys::Oid, items: &[(String, Option<Vec<u8>>)]) -> AnyReader {
    let opts =
        Options::parse(items.iter().map(|(n, v)| (n.as_str(), v.as_deref()))).unwrap_or_else(|e| option_error(e));
    check_publication_options(&opts);
    let relids = relations_to_read(relid);
    let database = pg_sys::get_database_name(pg_sys::MyDatabaseId);
    let env = Env {
        utf8_db: pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32,
        slot: Vec::new(),
        database: if database.is_null() { Vec::new() } else { CStr::from_ptr(database).to_bytes().to_vec() },
    };
    relation::register_callbacks();
    new_by_format!(opts.format, F => Reader::<F>::new(opts, &env, relids))
}

impl<F: Format> Reader<F> {
    unsafe fn new(opts: Options, env: &Env, relids: Vec<pg_sys::Oid>) -> Self {
        let format = F::new(&opts.for_snapshot(), env).unwrap_or_else(|e| option_error(e));
        let cxt = pg_sys::CurrentMemoryContext;
        // A query has one; a procedure between its transactions may not.
        if !pg_sys::ActiveSnapshotSet() {
            error(
                PgSqlErrorCode::ERRCODE_INVALID_TRANSACTION_STATE,
                "waljson.snapshot: no snapshot is set".into(),
                None,
            );
        }
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetActiveSnapshot());
        let info = TxnInfo { commit_time: pg_sys::GetCurrentTransactionStartTimestamp(), ..TxnInfo::default() };
        Reader {
            publisher: Publisher::new(opts.partition_root, opts.publication_names.as_deref()),
            cache: RelationCache::new(cxt),
            rows: Rows::default(),
            txn: Txn { info, fmt: Default::default(), written: false },
            to_read: relids.into(),
            opened: Vec::new(),
            waiting: None,
            written: 0,
            in_batch: 0,
            batch_size: opts.batch_size.unwrap_or(SNAPSHOT_BATCH_DEFAULT),
            open: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            cxt,
            row_cxt: pg_sys::AllocSetContextCreateExtended(
                cxt,
                c"waljson snapshot row".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            ),
            snapshot,
            finished: false,
            format,
            opts,
        }
    }

    /// The next result row.
    unsafe fn next_row(&mut self) -> Option<Vec<u8>> {
        if self.queue.is_empty() && !self.finished {
            let level = settings::push(self.format.settings());
            self.fill();
            settings::pop(level);
            if self.finished {
                self.release();
            }
        }
        let row = self.queue.pop_front()?;
        self.queued_bytes -= row.len();
        Some(row)
    }

    /// Reads and writes rows until some are queued, or the table is read.
    unsafe fn fill(&mut self) {
        while !self.finished && self.queue.len() < FILL_ROWS && self.queued_bytes < FILL_BYTES {
            pgrx::check_for_interrupts!();
            let next = self.read();
            if let Some((tuple, at)) = self.waiting.take() {
                self.write(tuple, at, next.is_none());
                pg_sys::heap_freetuple(tuple);
            }
            match next {
                Some(n) => self.waiting = Some(n),
                None => self.finished = true,
            }
        }
    }

    /// The next row to write, copied into the reader's context, and its
    /// relation; None when every relation was read.
    unsafe fn read(&mut self) -> Option<(pg_sys::HeapTuple, usize)> {
        loop {
            // Relations are read one after the other: only the last one
            // opened can be being read.
            if let Some(at) = self.opened.len().checked_sub(1).filter(|&i| self.opened[i].scan.is_some()) {
                let reading = &mut self.opened[at];
                let scan = reading.scan.expect("checked");
                let tuple = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
                if tuple.is_null() {
                    pg_sys::heap_endscan(scan);
                    reading.scan = None;
                    continue;
                }
                if !self.passes(tuple, at) {
                    continue;
                }
                let old = pg_sys::MemoryContextSwitchTo(self.cxt);
                let copy = pg_sys::heap_copytuple(tuple);
                pg_sys::MemoryContextSwitchTo(old);
                return Some((copy, at));
            }
            let relid = self.to_read.pop_front()?;
            let rel = pg_sys::relation_open(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
            // What the stream writes of the relation is decided per
            // relation (tables, actions, publications): a relation of
            // which it writes no INSERT is not read at all.
            let format = &self.format;
            let entry = self.cache.get(rel, &mut self.publisher, |meta| format.relation(meta));
            let wanted =
                self.opts.actions.wants(ChangeKind::Insert) && entry.writes(ChangeKind::Insert, &self.opts.tables);
            let scan = if wanted {
                let old = pg_sys::MemoryContextSwitchTo(self.cxt);
                let flags = pg_sys::ScanOptions::SO_TYPE_SEQSCAN
                    | pg_sys::ScanOptions::SO_ALLOW_STRAT
                    | pg_sys::ScanOptions::SO_ALLOW_SYNC
                    | pg_sys::ScanOptions::SO_ALLOW_PAGEMODE;
                let scan =
                    pg_sys::heap_beginscan(rel, self.snapshot, 0, std::ptr::null_mut(), std::ptr::null_mut(), flags);
                pg_sys::MemoryContextSwitchTo(old);
                Some(scan)
            } else {
                None
            };
            self.opened.push(Reading { rel, scan });
        }
    }

    /// The row passes the publications' row filter for an INSERT.
    unsafe fn passes(&mut self, tuple: pg_sys::HeapTuple, at: usize) -> bool {
        let rel = self.opened[at].rel;
        let format = &self.format;
        let entry = self.cache.get(rel, &mut self.publisher, |meta| format.relation(meta));
        let Some(filter) = entry.decision.filter.as_ref().filter(|f| f.filters(ChangeKind::Insert)) else {
            return true;
        };
        let old = pg_sys::MemoryContextSwitchTo(self.row_cxt);
        self.rows.deform_row(rel, entry, tuple);
        let (new, _) = self.rows.values();
        let new = new.expect("a read row is a new row");
        let pass = filter.matches(ChangeKind::Insert, new.values, new.nulls);
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::MemoryContextReset(self.row_cxt);
        pass
    }

    /// Writes a row (`last`: no other row follows).
    unsafe fn write(&mut self, tuple: pg_sys::HeapTuple, at: usize, last: bool) {
        let rel = self.opened[at].rel;
        let old = pg_sys::MemoryContextSwitchTo(self.row_cxt);
        let format = &self.format;
        let entry = self.cache.get(rel, &mut self.publisher, |meta| format.relation(meta));
        self.rows.deform_row(rel, entry, tuple);
        let position = SnapshotPosition { first: self.written == 0, last };
        let (txn, in_batch, batch_size) = (&mut self.txn, &mut self.in_batch, self.batch_size);
        let sink = &mut QueueSink {
            buf: Vec::new(),
            open: &mut self.open,
            queue: &mut self.queue,
            queued_bytes: &mut self.queued_bytes,
        };
        let written = self.rows.with_change(entry, ChangeKind::Insert, 0, format.style(), |c| {
            if *in_batch == 0 {
                format.snapshot_open(sink, txn);
            }
            let written = format.snapshot_row(sink, txn, c, &entry.fmt, position);
            *in_batch += 1;
            if *in_batch >= batch_size || last {
                format.snapshot_close(sink, txn);
                *in_batch = 0;
            }
            written
        });
        self.written += 1;
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::MemoryContextReset(self.row_cxt);
        if let Err(Skipped(warning)) | Ok(Some(warning)) = written {
            pgrx::warning!("{}", warning);
        }
    }

    /// Ends the scans, closes the relations, releases the snapshot.
    unsafe fn release(&mut self) {
        if let Some((tuple, _)) = self.waiting.take() {
            pg_sys::heap_freetuple(tuple);
        }
        for r in self.opened.drain(..) {
            if let Some(scan) = r.scan {
                pg_sys::heap_endscan(scan);
            }
            pg_sys::relation_close(r.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
        if !self.snapshot.is_null() {
            pg_sys::UnregisterSnapshot(self.snapshot);
            self.snapshot = std::ptr::null_mut();
        }
    }
}

impl<F: Format> Drop for Reader<F> {
    /// The SQL function stopped early (a LIMIT, a closed cursor): its
    /// memory is deleted, and the reader with it. After an ERROR the
    /// transaction's abort has released the scans, relations and snapshot
    /// already (and nothing may be released twice): only then is the
    /// transaction not in progress here.
    fn drop(&mut self) {
        // SAFETY: the handles were made in this transaction, which is
        // still in progress (checked), and are released once.
        unsafe {
            if pg_sys::IsTransactionState() {
                self.release();
            }
        }
    }
}

impl Iterator for AnyReader {
    type Item = JsonText;

    fn next(&mut self) -> Option<JsonText> {
        // SAFETY: called by the SQL function's calls, in its transaction.
        each_format!(self, r => unsafe { r.next_row() }).map(JsonText)
    }
}

/// An option list of name/value pairs, as `pg_logical_slot_get_changes` takes it.
pub fn option_pairs(items: Vec<Option<String>>) -> Vec<(String, Option<Vec<u8>>)> {
    if items.len() % 2 != 0 {
        option_error(OptionError {
            kind: ErrorKind::InvalidParameterValue,
            message: "waljson.snapshot: the options must be name/value pairs (an even number of elements)".into(),
            hint: Some("For example: waljson.snapshot('t', 'format-version', '2', 'include-types', '0')".into()),
        });
    }
    items
        .chunks(2)
        .map(|pair| {
            let name = pair[0].clone().unwrap_or_else(|| {
                option_error(OptionError {
                    kind: ErrorKind::InvalidParameterValue,
                    message: "waljson.snapshot: an option name must not be null".into(),
                    hint: None,
                })
            });
            (name, pair[1].clone().map(String::into_bytes))
        })
        .collect()
}
