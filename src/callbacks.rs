//! The output plugin callbacks. Each `extern` callback finds the session
//! and hands the event to it (one static dispatch on the session's format);
//! the session's methods are the policy: what is filtered, what is decoded,
//! which transaction state applies. They know no format: the session's
//! `Format` writes the JSON, through `output.rs`.
//!
//! Every callback is `#[pg_guard]`: a Rust panic becomes a PostgreSQL ERROR.

use crate::compat;
use crate::format::{each_format, new_by_format, ByFormat, ChangeKind, Env, Family, Format, Message, Skipped, Txn};
use crate::options::{ErrorKind, OptionError, Options};
use crate::output::Output;
use crate::publication::{self, Publisher, Verdict};
use crate::relation::RelationCache;
use crate::settings;
use crate::tuple::Rows;
use crate::txn::Txns;
use pgrx::pg_sys;
use pgrx::{PgLogLevel, PgMemoryContexts, PgSqlErrorCode};
use std::ffi::CStr;

/// Everything a decoding session keeps between callbacks, for its format
/// `F`. It lives in `ctx->output_plugin_private` and is dropped when the
/// decoding context's memory is deleted (also after an ERROR, when shutdown
/// is not called).
pub struct Session<F: Format> {
    opts: Options,
    format: F,
    /// Decides what is published of each relation (cached in `cache`).
    publisher: Publisher,
    cache: RelationCache<F::Rel>,
    txns: Txns<F::Txn>,
    output: Output,
    /// Output functions and detoasting allocate here; reset after each
    /// change that used it.
    change_cxt: pg_sys::MemoryContext,
    rows: Rows,
    progress: u32,
    /// While a transaction (or a stream block) is written: the nest level
    /// of the format's settings.
    settings_level: Option<settings::Level>,
}

/// The session of whichever format the options chose.
pub struct Sessions;

impl Family for Sessions {
    type Of<F: Format> = Session<F>;
}

type State = ByFormat<Sessions>;

/// # Safety
/// `ctx` is the decoding context of a callback after startup ran.
unsafe fn state<'a>(ctx: *mut pg_sys::LogicalDecodingContext) -> &'a mut State {
    // SAFETY: startup stored a valid, exclusively owned State pointer here; the
    // backend is single-threaded and callbacks never nest.
    &mut *((*ctx).output_plugin_private as *mut State)
}

pub(crate) fn option_error(e: OptionError) -> ! {
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

/// What `publication-names` cannot be combined with (a slot's options or
/// `waljson.snapshot()`'s).
pub(crate) fn check_publication_options(opts: &Options) {
    if opts.publication_names.is_some() {
        if cfg!(any(feature = "pg13", feature = "pg14")) {
            option_error(OptionError {
                kind: ErrorKind::FeatureNotSupported,
                message: "waljson: publication-names needs PostgreSQL 15 or later".into(),
                hint: Some("Use add-tables, filter-tables and actions to choose what is written.".into()),
            });
        }
        if opts.partition_root {
            option_error(OptionError {
                kind: ErrorKind::InvalidParameterValue,
                message: "waljson: partition-root cannot be combined with publication-names".into(),
                hint: Some("With publications, a partition's changes are published as its root when the publication has publish_via_partition_root.".into()),
            });
        }
    }
}

/// The database's name. A walsender runs startup outside any transaction,
/// where the catalog cannot be read: the lookup then runs in a short
/// transaction of its own. At slot creation (`is_init`, where only the
/// options are checked) it is not needed.
unsafe fn database_name(is_init: bool) -> Vec<u8> {
    if is_init {
        return Vec::new();
    }
    let own_transaction = !pg_sys::IsTransactionState();
    if own_transaction {
        pg_sys::StartTransactionCommand();
    }
    let name = pg_sys::get_database_name(pg_sys::MyDatabaseId);
    let name = if name.is_null() { Vec::new() } else { CStr::from_ptr(name).to_bytes().to_vec() };
    if own_transaction {
        pg_sys::CommitTransactionCommand();
    }
    name
}

/// What format `F` needs to know of the database; the names only when it
/// prints them (reading the database's name may take a transaction).
///
/// # Safety
/// `ctx` is the decoding context being started.
unsafe fn env<F: Format>(ctx: *mut pg_sys::LogicalDecodingContext, is_init: bool) -> Env {
    let mut env = Env { utf8_db: pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32, ..Env::default() };
    if F::NAMES_SOURCE {
        env.slot = CStr::from_ptr((*(*ctx).slot).data.name.data.as_ptr()).to_bytes().to_vec();
        env.database = database_name(is_init);
    }
    env
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn startup(
    ctx: *mut pg_sys::LogicalDecodingContext,
    opt: *mut pg_sys::OutputPluginOptions,
    is_init: bool, // options are parsed (and checked) at slot creation too; the list is empty then
) {
    (*opt).output_type = pg_sys::OutputPluginOutputType::OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
    (*opt).receive_rewrites = false;

    let items = option_items((*ctx).output_plugin_options);
    let opts =
        Options::parse(items.iter().map(|(n, v)| (n.as_str(), v.as_deref()))).unwrap_or_else(|e| option_error(e));
    crate::relation::register_callbacks();
    decoding_modes(ctx, &opts, is_init);
    let state: State = new_by_format!(opts.format, F => Session::<F>::new(ctx, opts, &env::<F>(ctx, is_init)));
    // The State is dropped when the decoding context's memory is deleted,
    // whether decoding ends normally or with an ERROR.
    let ptr = PgMemoryContexts::For((*ctx).context).leak_and_drop_on_delete(state);
    (*ctx).output_plugin_private = ptr.cast();
}

/// Whether the server streams large transactions and decodes prepared ones
/// at PREPARE: it turns both on when the callbacks are registered (and, for
/// two-phase, the slot asks for it); the session narrows them. Never while
/// the slot is being created (as pgoutput). A format that writes one
/// document per transaction gets prepared transactions at COMMIT PREPARED.
///
/// # Safety
/// `ctx` is the decoding context being started.
unsafe fn decoding_modes(ctx: *mut pg_sys::LogicalDecodingContext, opts: &Options, is_init: bool) {
    #[cfg(feature = "pg13")]
    {
        let _ = (ctx, is_init);
        if opts.stream_changes {
            option_error(OptionError {
                kind: ErrorKind::FeatureNotSupported,
                message: "waljson: stream-changes needs PostgreSQL 14 or later".into(),
                hint: Some("PostgreSQL 13 sends each transaction whole, at its commit.".into()),
            });
        }
    }
    #[cfg(not(feature = "pg13"))]
    {
        let streams = opts.format.streams();
        (*ctx).streaming = opts.stream_changes && streams && !is_init;
        if is_init || !streams {
            (*ctx).twophase = false;
        }
    }
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn shutdown(_ctx: *mut pg_sys::LogicalDecodingContext) {
    // Nothing to do: the State goes with the decoding context's memory.
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn begin(ctx: *mut pg_sys::LogicalDecodingContext, txn: *mut pg_sys::ReorderBufferTXN) {
    each_format!(state(ctx), s => s.begin(ctx, txn))
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn commit(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    commit_lsn: pg_sys::XLogRecPtr,
) {
    each_format!(state(ctx), s => s.commit(ctx, txn, commit_lsn))
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn change(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    relation: pg_sys::Relation,
    change: *mut pg_sys::ReorderBufferChange,
) {
    each_format!(state(ctx), s => s.change(ctx, txn, relation, change, false))
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn truncate(
    ctx: *mut pg_sys::LogicalDecodingContext,
    txn: *mut pg_sys::ReorderBufferTXN,
    nrelations: i32,
    relations: *mut pg_sys::Relation,
    change: *mut pg_sys::ReorderBufferChange,
) {
    let rels = std::slice::from_raw_parts(relations, nrelations.max(0) as usize);
    each_format!(state(ctx), s => s.truncate(ctx, txn, rels, (*change).lsn, None))
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
    // SAFETY: the payload is `size` bytes (not NUL-terminated), valid during the callback.
    let content: &[u8] = if size == 0 { &[] } else { std::slice::from_raw_parts(content.cast(), size) };
    let m = Message { transactional, lsn, prefix: CStr::from_ptr(prefix).to_bytes(), content };
    each_format!(state(ctx), s => s.message(ctx, txn, &m, false))
}

#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn filter_by_origin(
    ctx: *mut pg_sys::LogicalDecodingContext,
    origin_id: pg_sys::RepOriginId,
) -> bool {
    // Changes made locally (origin 0) are never filtered.
    origin_id as u32 != 0 && each_format!(state(ctx), s => s.opts.filter_origins.contains(&(origin_id as u32)))
}

/// The kind of a row change; None for the other change types this
/// callback never receives.
unsafe fn change_kind(change: *const pg_sys::ReorderBufferChange) -> Option<ChangeKind> {
    match (*change).action {
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_INSERT => Some(ChangeKind::Insert),
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_UPDATE => Some(ChangeKind::Update),
        pg_sys::ReorderBufferChangeType::REORDER_BUFFER_CHANGE_DELETE => Some(ChangeKind::Delete),
        _ => None,
    }
}

/// Resets a context that was allocated in (most changes allocate nothing,
/// thanks to the fast paths: the call is skipped then).
unsafe fn reset_if_used(cxt: pg_sys::MemoryContext) {
    if !(*cxt).isReset {
        pg_sys::MemoryContextReset(cxt);
    }
}

impl<F: Format> Session<F> {
    /// # Safety
    /// `ctx` is the decoding context being started.
    unsafe fn new(ctx: *mut pg_sys::LogicalDecodingContext, opts: Options, env: &Env) -> Self {
        if let Some(name) = opts.snapshot_only() {
            option_error(OptionError {
                kind: ErrorKind::InvalidParameterValue,
                message: format!("waljson: option \"{name}\" applies to waljson.snapshot() only"),
                hint: Some("A slot takes the other options; waljson.snapshot() takes them all.".into()),
            });
        }
        let format = F::new(&opts, env).unwrap_or_else(|e| option_error(e));
        check_publication_options(&opts);
        Session {
            publisher: Publisher::new(opts.partition_root, opts.publication_names.as_deref()),
            format,
            cache: RelationCache::new((*ctx).context),
            txns: Txns::new(opts.include_timestamp),
            output: Output::new((*ctx).context),
            change_cxt: pg_sys::AllocSetContextCreateExtended(
                (*ctx).context,
                c"waljson change".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            ),
            rows: Rows::default(),
            progress: 0,
            settings_level: None,
            opts,
        }
    }

    unsafe fn begin(&mut self, ctx: *mut pg_sys::LogicalDecodingContext, txn: *mut pg_sys::ReorderBufferTXN) {
        self.fix_settings();
        let t = self.txns.begin(txn);
        // Without empty transactions, the opening waits for the first thing
        // written in the transaction (as pgoutput's deferred BEGIN).
        if !self.opts.include_empty_transaction {
            self.output.start_capture();
        }
        self.format.begin(&mut self.output.sink(ctx), t);
        self.output.end_capture();
    }

    unsafe fn commit(
        &mut self,
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        commit_lsn: pg_sys::XLogRecPtr,
    ) {
        let mut t = self.txns.end(txn);
        // Nothing was written: the transaction is left out, and its progress
        // is still reported so the client can confirm past it.
        let skipped = self.output.discard_held();
        compat::update_progress(ctx, &mut self.progress, true, skipped);
        if !skipped {
            self.format.commit(&mut self.output.sink(ctx), &mut t, commit_lsn);
        }
        self.restore_settings();
    }

    /// Sets the format's settings for the transaction being written (see `settings`).
    unsafe fn fix_settings(&mut self) {
        self.settings_level = settings::push(self.format.settings());
    }

    /// Restores the session's settings after a transaction.
    unsafe fn restore_settings(&mut self) {
        settings::pop(self.settings_level.take());
    }

    unsafe fn change(
        &mut self,
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        relation: pg_sys::Relation,
        change: *mut pg_sys::ReorderBufferChange,
        streamed: bool,
    ) {
        compat::update_progress(ctx, &mut self.progress, false, false);
        #[cfg(feature = "fault-injection")]
        if self.opts.fault_panic_on_change {
            panic!("waljson: injected failure in the change callback (waljson-test-panic)");
        }
        let Some(kind) = change_kind(change).filter(|&k| self.opts.actions.wants(k)) else { return };
        let old_cxt = pg_sys::MemoryContextSwitchTo(self.change_cxt);
        let format = &self.format;
        let entry = self.cache.get(relation, &mut self.publisher, |meta| format.relation(meta));
        if entry.writes(kind, &self.opts.tables) {
            // SAFETY: the change and its tuples belong to this callback.
            self.rows.deform(relation, entry, change);
            let kind = match &entry.decision.filter {
                None => Some(kind),
                Some(filter) => {
                    let (new, old) = self.rows.values();
                    match publication::verdict(filter, kind, new, old, &entry.attlens) {
                        Verdict::Drop => None,
                        Verdict::Keep => Some(kind),
                        Verdict::AsDelete => {
                            self.rows.drop_new();
                            Some(ChangeKind::Delete)
                        }
                        Verdict::AsInsert => {
                            self.rows.drop_old();
                            Some(ChangeKind::Insert)
                        }
                    }
                }
            };
            if let Some(kind) = kind {
                let t: &mut Txn<F::Txn> = if streamed {
                    let t = self.txns.streamed(txn);
                    // The (sub)transaction the change was made in.
                    t.info.subxid = (*(*change).txn).xid.into_inner();
                    t
                } else {
                    self.txns.get(txn)
                };
                let sink = &mut self.output.sink(ctx);
                let written = self
                    .rows
                    .with_change(entry, kind, (*change).lsn, format.style(), |c| format.change(sink, t, c, &entry.fmt));
                if let Err(Skipped(warning)) | Ok(Some(warning)) = written {
                    pgrx::warning!("{}", warning);
                }
            }
        }
        pg_sys::MemoryContextSwitchTo(old_cxt);
        reset_if_used(self.change_cxt);
    }

    unsafe fn truncate(
        &mut self,
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        relations: &[pg_sys::Relation],
        lsn: pg_sys::XLogRecPtr,
        streamed_in: Option<u32>,
    ) {
        compat::update_progress(ctx, &mut self.progress, false, false);
        if !self.opts.actions.truncate || !self.format.writes_truncate() {
            return;
        }
        let old_cxt = pg_sys::MemoryContextSwitchTo(self.change_cxt);
        let t = match streamed_in {
            Some(subxid) => {
                let t = self.txns.streamed(txn);
                t.info.subxid = subxid;
                t
            }
            None => self.txns.get(txn),
        };
        let format = &self.format;
        for &rel in relations {
            let entry = self.cache.get(rel, &mut self.publisher, |meta| format.relation(meta));
            let d = &entry.decision;
            // With publications, a partition published as its ancestor is
            // not truncated on its own (pgoutput). With partition-root each
            // truncated relation is written under its root's name, once per
            // relation truncated (as wal2json 2.7 writes it).
            if !d.actions.truncate || (self.opts.publication_names.is_some() && d.target != (*rel).rd_id) {
                continue;
            }
            if !self.opts.tables.wants(&entry.meta.raw_schema, &entry.meta.raw_table) {
                continue;
            }
            format.truncate(&mut self.output.sink(ctx), t, lsn, &entry.meta, &entry.fmt);
        }
        pg_sys::MemoryContextSwitchTo(old_cxt);
        reset_if_used(self.change_cxt);
    }

    unsafe fn message(
        &mut self,
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        m: &Message<'_>,
        streamed: bool,
    ) {
        compat::update_progress(ctx, &mut self.progress, false, false);
        if !self.opts.prefixes.wants(m.prefix) {
            return;
        }
        // A non-transactional message may come without a transaction (txn
        // NULL). A streamed one names its top-level transaction only: the
        // server does not say which subtransaction emitted it.
        let t = match (m.transactional && !txn.is_null(), streamed) {
            (false, _) => None,
            (true, false) => Some(self.txns.get(txn)),
            (true, true) => {
                let t = self.txns.streamed(txn);
                t.info.subxid = t.info.xid;
                Some(t)
            }
        };
        self.format.message(&mut self.output.sink(ctx), t, m);
    }
}

/// Streaming of in-progress transactions and two-phase commit (PostgreSQL
/// 14+): the callbacks, and the session's policy for their events.
#[cfg(not(feature = "pg13"))]
pub mod streams {
    use super::*;
    use crate::format::TxnEvent;

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_start(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
    ) {
        each_format!(state(ctx), s => s.stream_start(ctx, txn))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_stop(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
    ) {
        each_format!(state(ctx), s => s.stream_stop(ctx, txn))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_abort(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        abort_lsn: pg_sys::XLogRecPtr,
    ) {
        each_format!(state(ctx), s => s.stream_abort(ctx, txn, abort_lsn))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_commit(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        commit_lsn: pg_sys::XLogRecPtr,
    ) {
        each_format!(state(ctx), s => s.stream_end(ctx, txn, TxnEvent::StreamCommit { lsn: commit_lsn }))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_prepare(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        prepare_lsn: pg_sys::XLogRecPtr,
    ) {
        each_format!(state(ctx), s => s.stream_end(ctx, txn, TxnEvent::Prepare { lsn: prepare_lsn, streamed: true }))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_change(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        relation: pg_sys::Relation,
        change: *mut pg_sys::ReorderBufferChange,
    ) {
        each_format!(state(ctx), s => s.change(ctx, txn, relation, change, true))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_truncate(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        nrelations: i32,
        relations: *mut pg_sys::Relation,
        change: *mut pg_sys::ReorderBufferChange,
    ) {
        let rels = std::slice::from_raw_parts(relations, nrelations.max(0) as usize);
        let subxid = (*(*change).txn).xid.into_inner();
        each_format!(state(ctx), s => s.truncate(ctx, txn, rels, (*change).lsn, Some(subxid)))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn stream_message(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        lsn: pg_sys::XLogRecPtr,
        transactional: bool,
        prefix: *const std::ffi::c_char,
        size: pg_sys::Size,
        content: *const std::ffi::c_char,
    ) {
        // SAFETY: as in `message`.
        let content: &[u8] = if size == 0 { &[] } else { std::slice::from_raw_parts(content.cast(), size) };
        let m = Message { transactional, lsn, prefix: CStr::from_ptr(prefix).to_bytes(), content };
        each_format!(state(ctx), s => s.message(ctx, txn, &m, true))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn begin_prepare(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
    ) {
        each_format!(state(ctx), s => s.begin_prepare(ctx, txn))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn prepare(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        prepare_lsn: pg_sys::XLogRecPtr,
    ) {
        each_format!(state(ctx), s => s.prepare(ctx, txn, prepare_lsn))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn commit_prepared(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        commit_lsn: pg_sys::XLogRecPtr,
    ) {
        each_format!(state(ctx), s => s.finish_prepared(ctx, txn, TxnEvent::CommitPrepared { lsn: commit_lsn }))
    }

    #[pgrx::pg_guard]
    pub unsafe extern "C-unwind" fn rollback_prepared(
        ctx: *mut pg_sys::LogicalDecodingContext,
        txn: *mut pg_sys::ReorderBufferTXN,
        _prepare_end_lsn: pg_sys::XLogRecPtr,
        _prepare_time: pg_sys::TimestampTz,
    ) {
        // The rollback record's own LSN (the prepared transaction's is in the gid's past).
        let lsn = (*txn).final_lsn;
        each_format!(state(ctx), s => s.finish_prepared(ctx, txn, TxnEvent::RollbackPrepared { lsn }))
    }

    /// The top-level transaction of `txn` (itself if it is one).
    unsafe fn top_txn(txn: *mut pg_sys::ReorderBufferTXN) -> *mut pg_sys::ReorderBufferTXN {
        if (*txn).toptxn.is_null() {
            txn
        } else {
            (*txn).toptxn
        }
    }

    impl<F: Format> Session<F> {
        /// A block of a streamed transaction opens. Its format settings hold
        /// for the block only: other transactions are written between blocks.
        unsafe fn stream_start(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
        ) {
            self.fix_settings();
            let t = self.txns.streamed(txn);
            // The first block written of the transaction in this session
            // (the server's own flag, RBTXN_IS_STREAMED, counts the blocks
            // left out as empty too).
            let first = !t.written;
            // A block may hold no change at all (the server opens one for
            // internal changes too): without empty transactions, its opening
            // waits for the first thing written in it.
            if !self.opts.include_empty_transaction {
                self.output.start_capture();
            }
            self.format.txn_event(&mut self.output.sink(ctx), t, TxnEvent::StreamStart { first });
            self.output.end_capture();
        }

        unsafe fn stream_stop(&mut self, ctx: *mut pg_sys::LogicalDecodingContext, txn: *mut pg_sys::ReorderBufferTXN) {
            let t = self.txns.streamed(txn);
            if !self.output.discard_held() {
                t.written = true;
                self.format.txn_event(&mut self.output.sink(ctx), t, TxnEvent::StreamStop);
            }
            self.restore_settings();
            compat::update_progress(ctx, &mut self.progress, false, false);
        }

        /// A streamed (sub)transaction aborted: `txn` is the transaction
        /// itself or one of its subtransactions.
        unsafe fn stream_abort(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
            abort_lsn: pg_sys::XLogRecPtr,
        ) {
            let top = top_txn(txn);
            let event = TxnEvent::StreamAbort { subxid: (*txn).xid.into_inner(), lsn: abort_lsn };
            // The whole transaction aborted: its state ends here.
            let whole = top == txn;
            let mut ended;
            let t: &mut Txn<F::Txn> = if whole {
                ended = self.txns.end(top);
                ended.info.streamed = true;
                &mut ended
            } else {
                self.txns.streamed(top)
            };
            let written = t.written;
            if written || self.opts.include_empty_transaction {
                self.format.txn_event(&mut self.output.sink(ctx), t, event);
            }
            compat::update_progress(ctx, &mut self.progress, whole, whole && !written);
        }

        /// A streamed transaction commits, or is prepared (`event`).
        unsafe fn stream_end(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
            event: TxnEvent,
        ) {
            let mut t = self.txns.end_refreshed(txn);
            t.info.streamed = true;
            // A prepared transaction is always announced: its COMMIT or
            // ROLLBACK PREPARED follows, maybe in another session.
            let skipped =
                matches!(event, TxnEvent::StreamCommit { .. }) && !t.written && !self.opts.include_empty_transaction;
            compat::update_progress(ctx, &mut self.progress, true, skipped);
            if !skipped {
                self.format.txn_event(&mut self.output.sink(ctx), &mut t, event);
            }
        }

        /// A prepared transaction is decoded at PREPARE TRANSACTION. Its
        /// opening is always written, empty or not (as pgoutput does): after
        /// a restart the session cannot know whether it was sent before, and
        /// its COMMIT PREPARED must find it.
        unsafe fn begin_prepare(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
        ) {
            self.fix_settings();
            let t = self.txns.begin(txn);
            self.format.txn_event(&mut self.output.sink(ctx), t, TxnEvent::BeginPrepare);
        }

        unsafe fn prepare(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
            prepare_lsn: pg_sys::XLogRecPtr,
        ) {
            let mut t = self.txns.end(txn);
            compat::update_progress(ctx, &mut self.progress, true, false);
            self.format.txn_event(
                &mut self.output.sink(ctx),
                &mut t,
                TxnEvent::Prepare { lsn: prepare_lsn, streamed: false },
            );
            self.restore_settings();
        }

        /// COMMIT PREPARED or ROLLBACK PREPARED: an event of its own, after
        /// the PREPARE (in this session or an earlier one, or never sent:
        /// a rollback of a transaction prepared before the slot decoded
        /// prepared transactions).
        unsafe fn finish_prepared(
            &mut self,
            ctx: *mut pg_sys::LogicalDecodingContext,
            txn: *mut pg_sys::ReorderBufferTXN,
            event: TxnEvent,
        ) {
            let mut t = self.txns.detached(txn);
            compat::update_progress(ctx, &mut self.progress, true, false);
            self.format.txn_event(&mut self.output.sink(ctx), &mut t, event);
        }
    }
}
