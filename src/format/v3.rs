//! Format version 3, waljson's own: one JSON object per message, change
//! events in the before/after envelope of Debezium, transaction boundaries
//! in Debezium's transaction-metadata shape, relation records, and typed,
//! lossless values (`value::Typed`).
//!
//! ```text
//! {"status":"BEGIN","id":"742:24037912","ts_ms":1767225600000}
//! {"op":"relation","source":{..},"relation":{"oid":16384,"schema":"public","table":"t",..},"ts_ms":..}
//! {"before":null,"after":{"id":1,"t":"x"},"source":{..},"op":"c","ts_ms":..,"transaction":{"id":"742:24037912","total_order":1,"data_collection_order":1}}
//! {"status":"END","id":"742:24037912","ts_ms":..,"event_count":1,"data_collections":[{"data_collection":"public.t","event_count":1}]}
//! ```

use super::value::Typed;
use super::{
    Cell, Change, ChangeKind, Env, Format, Message, Piece, RelMeta, Render, Row, Sink, Skipped, SnapshotPosition, Txn,
    TxnEvent, TxnInfo,
};
use crate::json::{self, MessageContent};
use crate::options::{OptionError, Options};
use std::cell::Cell as Flag;
use std::ffi::CStr;

/// The format-version 3 writer for a session.
pub struct V3 {
    o: Options,
    style: Typed,
    utf8_db: bool,
    message_content: MessageContent,
    /// `"source":{"version":..,"connector":"waljson","name":..,"ts_ms":`
    source_head: Vec<u8>,
    /// `,"snapshot":"false","db":..`
    source_db: Vec<u8>,
    /// `","db":..` (after the snapshot marker of a snapshot row).
    snapshot_db: Vec<u8>,
    /// The placeholder's JSON token, when one replaces unchanged TOAST values.
    placeholder: Option<Vec<u8>>,
    /// Milliseconds since the Unix epoch, now (the events' top-level ts_ms).
    clock: fn() -> i64,
    /// The last `clock` reading and its digits (many events share a millisecond).
    last_now: std::cell::RefCell<(i64, Vec<u8>)>,
    /// The last relation record written of each relation (by oid).
    records_sent: std::cell::RefCell<std::collections::HashMap<u32, Vec<u8>>>,
}

/// Unix milliseconds from the system clock.
fn system_clock() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// PostgreSQL's epoch (2000-01-01) in Unix microseconds.
const PG_EPOCH_UNIX_US: i64 = 946_684_800_000_000;

/// What format 3 precomputes per relation.
#[derive(Debug)]
pub struct Rel {
    /// Per live column, `"name":`.
    keys: Vec<Vec<u8>>,
    /// `,"schema":..,"table":..`
    source_rel: Vec<u8>,
    /// The Debezium data collection, `schema.table`, as a JSON string.
    collection: Vec<u8>,
    oid: u32,
    /// The relation record's `"relation":{..}` member.
    record: Vec<u8>,
    /// The relation record was checked against the last one written (a
    /// rebuilt relation is checked again).
    record_sent: Flag<bool>,
}

/// What format 3 counts per transaction.
#[derive(Debug, Default)]
pub struct Counts {
    /// The transaction's id, `"xid:commit LSN"`, as a JSON string.
    id: Vec<u8>,
    events: u64,
    /// Per relation (oid): its data collection and how many of its events.
    collections: Vec<(u32, Vec<u8>, u64)>,
    /// The transaction's parts of `source`, built at its first event:
    /// `"source":{..,"ts_ms":..,"snapshot":"false","db":..`, then after the
    /// relation's part `,"txId":..,"lsn":`, then after the LSN
    /// `,"commit_lsn":..,"ts_us":..}`.
    source_head: Vec<u8>,
    source_txid: Vec<u8>,
    source_tail: Vec<u8>,
    /// In a streamed transaction, the events per (subxid, relation oid) of
    /// its subtransactions (not of its top level), taken off the counts when
    /// one aborts.
    in_subxacts: Vec<(u32, u32, u64)>,
}

impl Counts {
    /// `"xid:LSN"`: the LSN of the record that ends the transaction (its
    /// commit, or its PREPARE); a streamed transaction's, unknown until its
    /// end, is `"xid"`.
    fn id(&mut self, info: &TxnInfo) -> &[u8] {
        if self.id.is_empty() {
            let text = if info.streamed { info.xid.to_string() } else { format!("{}:{}", info.xid, info.final_lsn) };
            json::string(&mut self.id, text.as_bytes());
        }
        &self.id
    }

    /// Counts an event of `rel` (None: a message), made in subtransaction
    /// `sub` of a streamed transaction (None otherwise); returns its
    /// (total_order, data_collection_order).
    fn count(&mut self, rel: Option<&Rel>, sub: Option<u32>) -> (u64, u64) {
        self.events += 1;
        let Some(rel) = rel else { return (self.events, 0) };
        if let Some(sub) = sub {
            match self.in_subxacts.iter_mut().find(|(x, oid, _)| *x == sub && *oid == rel.oid) {
                Some((_, _, n)) => *n += 1,
                None => self.in_subxacts.push((sub, rel.oid, 1)),
            }
        }
        let n = match self.collections.iter_mut().find(|(oid, _, _)| *oid == rel.oid) {
            Some((_, _, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.collections.push((rel.oid, rel.collection.clone(), 1));
                1
            }
        };
        (self.events, n)
    }

    /// Takes the events of the aborted subtransaction `sub` off the counts
    /// (their order numbers are not reused).
    fn forget(&mut self, sub: u32) {
        for (x, oid, n) in &self.in_subxacts {
            if *x != sub {
                continue;
            }
            self.events -= n;
            if let Some(i) = self.collections.iter().position(|(o, _, _)| o == oid) {
                self.collections[i].2 -= n;
                if self.collections[i].2 == 0 {
                    self.collections.remove(i);
                }
            }
        }
        self.in_subxacts.retain(|(x, _, _)| *x != sub);
    }
}

impl Format for V3 {
    type Rel = Rel;
    type Txn = Counts;
    type Style = Typed;
    const NAMES_SOURCE: bool = true;

    fn new(o: &Options, env: &Env) -> Result<V3, OptionError> {
        let mut source_head = b"\"source\":{\"version\":".to_vec();
        json::string(&mut source_head, env!("CARGO_PKG_VERSION").as_bytes());
        source_head.extend_from_slice(b",\"connector\":\"waljson\",\"name\":");
        // The slot's name; a snapshot (`waljson.snapshot()`) knows it only
        // from its `slot-name` option (a slot's name is never empty).
        match o.slot_name.as_deref().unwrap_or(&env.slot) {
            b"" => source_head.extend_from_slice(b"null"),
            name => json::string(&mut source_head, name),
        }
        source_head.extend_from_slice(b",\"ts_ms\":");
        let mut snapshot_db = b"\",\"db\":".to_vec();
        json::string(&mut snapshot_db, &env.database);
        let mut source_db = b",\"snapshot\":\"false".to_vec();
        source_db.extend_from_slice(&snapshot_db);
        Ok(V3 {
            o: o.clone(),
            style: Typed { numbers_as_string: o.numeric_data_types_as_string, binary: o.binary_encoding },
            utf8_db: env.utf8_db,
            message_content: o.message_content.unwrap_or(MessageContent::Base64),
            source_head,
            source_db,
            snapshot_db,
            placeholder: o.unchanged_toast_placeholder.as_deref().map(json::string_owned),
            clock: system_clock,
            last_now: Default::default(),
            records_sent: Default::default(),
        })
    }

    fn style(&self) -> &Typed {
        &self.style
    }

    /// What the types without a decoder of their own (ranges, geometric
    /// types, money, network types, extensions' types) print with the
    /// output function, made the same in every session.
    fn settings(&self) -> &'static [(&'static CStr, &'static CStr)] {
        &[
            (c"DateStyle", c"ISO, YMD"),
            (c"IntervalStyle", c"iso_8601"),
            (c"TimeZone", c"UTC"),
            (c"extra_float_digits", c"1"),
            (c"bytea_output", c"hex"),
            (c"lc_monetary", c"C"),
        ]
    }

    fn relation(&self, rel: &RelMeta) -> Rel {
        let keys = rel.columns.iter().map(|c| [c.name.as_slice(), b":"].concat()).collect();
        let mut source_rel = b",\"schema\":".to_vec();
        source_rel.extend_from_slice(&rel.schema);
        source_rel.extend_from_slice(b",\"table\":");
        source_rel.extend_from_slice(&rel.table);
        let collection = json::string_owned(&[rel.raw_schema.as_slice(), b".", &rel.raw_table].concat());
        Rel { keys, source_rel, collection, oid: rel.oid, record: relation_record(rel), record_sent: Flag::new(false) }
    }

    fn begin(&self, sink: &mut impl Sink, txn: &mut Txn<Counts>) {
        if self.o.include_transaction {
            let out = sink.buf();
            status_head(out, b"BEGIN", txn);
            out.push(b'}');
            sink.send(Piece::Whole);
        }
    }

    fn commit(&self, sink: &mut impl Sink, txn: &mut Txn<Counts>, _commit_lsn: u64) {
        if self.o.include_transaction {
            let out = sink.buf();
            status_head(out, b"END", txn);
            event_counts(out, &txn.fmt);
            out.push(b'}');
            sink.send(Piece::Whole);
        }
    }

    fn change<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<Counts>,
        c: &Change<'_, R>,
        rel: &Rel,
    ) -> Result<Option<String>, Skipped> {
        self.relation_once(sink, txn, c.lsn, rel);
        let out = sink.buf();
        let unchanged = self.change_rows(out, c, rel);
        self.source(out, Some(txn), c.lsn, Some(rel));
        out.extend_from_slice(match c.kind {
            ChangeKind::Insert => b",\"op\":\"c\"",
            ChangeKind::Update => b",\"op\":\"u\"",
            ChangeKind::Delete => b",\"op\":\"d\"",
        });
        self.tail(out, txn, Some(rel));
        if let Some(cols) = unchanged {
            out.extend_from_slice(b",\"unchanged_toast\":[");
            for (i, k) in cols.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&c.rel.columns[k].name);
            }
            out.push(b']');
        }
        out.push(b'}');
        sink.send(Piece::Whole);
        Ok(None)
    }

    fn truncate(&self, sink: &mut impl Sink, txn: &mut Txn<Counts>, lsn: u64, _meta: &RelMeta, rel: &Rel) {
        self.relation_once(sink, txn, lsn, rel);
        let out = sink.buf();
        out.extend_from_slice(b"{\"before\":null,\"after\":null,");
        self.source(out, Some(txn), lsn, Some(rel));
        out.extend_from_slice(b",\"op\":\"t\"");
        self.tail(out, txn, Some(rel));
        out.push(b'}');
        sink.send(Piece::Whole);
    }

    fn message(&self, sink: &mut impl Sink, txn: Option<&mut Txn<Counts>>, m: &Message<'_>) {
        let out = sink.buf();
        out.extend_from_slice(b"{\"op\":\"m\",");
        let mut txn = txn.filter(|_| m.transactional);
        self.source(out, txn.as_deref_mut(), m.lsn, None);
        out.extend_from_slice(b",\"message\":{\"prefix\":");
        json::string(out, m.prefix);
        out.extend_from_slice(b",\"content\":");
        json::message_content(out, self.message_content, m.content, self.utf8_db);
        out.push(b'}');
        match txn {
            Some(t) => self.tail(out, t, None),
            None => {
                out.extend_from_slice(b",\"ts_ms\":");
                self.now(out);
                out.extend_from_slice(b",\"transaction\":null");
            }
        }
        out.push(b'}');
        sink.send(Piece::Whole);
    }

    /// Debezium's read event: `"op":"r"`, `source.snapshot` marking the
    /// table's first and last rows, the time the snapshot was taken (the
    /// reading transaction's start), no transaction, no LSN.
    fn snapshot_row<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<Counts>,
        c: &Change<'_, R>,
        rel: &Rel,
        at: SnapshotPosition,
    ) -> Result<Option<String>, Skipped> {
        let out = sink.buf();
        out.extend_from_slice(b"{\"before\":null,\"after\":");
        match c.new {
            Some(row) => object(out, rel, row, |_| true),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b',');
        out.extend_from_slice(&self.source_head);
        json::push_i64(out, unix_ms(txn.info.commit_time));
        out.extend_from_slice(match (at.first, at.last) {
            (true, _) => b",\"snapshot\":\"first_in_data_collection".as_slice(),
            (false, true) => b",\"snapshot\":\"last_in_data_collection",
            (false, false) => b",\"snapshot\":\"true",
        });
        out.extend_from_slice(&self.snapshot_db);
        out.extend_from_slice(&rel.source_rel);
        out.extend_from_slice(b",\"txId\":null,\"lsn\":null,\"commit_lsn\":null,\"ts_us\":");
        json::push_i64(out, txn.info.commit_time + PG_EPOCH_UNIX_US);
        out.extend_from_slice(b"},\"op\":\"r\",\"ts_ms\":");
        self.now(out);
        out.extend_from_slice(b",\"transaction\":null}");
        sink.send(Piece::Whole);
        Ok(None)
    }

    /// Status events beside BEGIN and END, in their style:
    /// `{"status":"STREAM_START","id":..,"xid":..,..,"ts_ms":..}`. They are
    /// written whatever include-transaction says: without them the changes
    /// around them cannot be applied correctly.
    fn txn_event(&self, sink: &mut impl Sink, txn: &mut Txn<Counts>, event: TxnEvent) {
        let out = sink.buf();
        let status: &[u8] = match event {
            TxnEvent::StreamStart { .. } => b"STREAM_START",
            TxnEvent::StreamStop => b"STREAM_STOP",
            TxnEvent::StreamAbort { .. } => b"STREAM_ABORT",
            TxnEvent::StreamCommit { .. } => b"STREAM_COMMIT",
            TxnEvent::BeginPrepare => b"BEGIN_PREPARE",
            TxnEvent::Prepare { streamed: false, .. } => b"PREPARE",
            TxnEvent::Prepare { streamed: true, .. } => b"STREAM_PREPARE",
            TxnEvent::CommitPrepared { .. } => b"COMMIT_PREPARED",
            TxnEvent::RollbackPrepared { .. } => b"ROLLBACK_PREPARED",
        };
        out.extend_from_slice(b"{\"status\":\"");
        out.extend_from_slice(status);
        out.extend_from_slice(b"\",\"id\":");
        out.extend_from_slice(txn.fmt.id(&txn.info));
        out.extend_from_slice(b",\"xid\":");
        json::push_u64(out, txn.info.xid as u64);
        let two_phase = !matches!(
            event,
            TxnEvent::StreamStart { .. }
                | TxnEvent::StreamStop
                | TxnEvent::StreamAbort { .. }
                | TxnEvent::StreamCommit { .. }
        );
        if two_phase {
            out.extend_from_slice(b",\"gid\":");
            json::string(out, &txn.info.gid);
        }
        let lsn = |out: &mut Vec<u8>, lsn: u64, end: bool| {
            out.extend_from_slice(b",\"lsn\":");
            json::push_u64(out, lsn);
            if end {
                out.extend_from_slice(b",\"end_lsn\":");
                json::push_u64(out, txn.info.end_lsn);
            }
        };
        match event {
            TxnEvent::StreamStart { first } => {
                out.extend_from_slice(if first { b",\"first_segment\":true" } else { b",\"first_segment\":false" });
            }
            TxnEvent::StreamStop => {}
            TxnEvent::StreamAbort { subxid, lsn: l } => {
                out.extend_from_slice(b",\"subxid\":");
                json::push_u64(out, subxid as u64);
                lsn(out, l, false);
                txn.fmt.forget(subxid);
            }
            TxnEvent::BeginPrepare => lsn(out, txn.info.final_lsn, true),
            TxnEvent::StreamCommit { lsn: l }
            | TxnEvent::Prepare { lsn: l, .. }
            | TxnEvent::CommitPrepared { lsn: l }
            | TxnEvent::RollbackPrepared { lsn: l } => lsn(out, l, true),
        }
        out.extend_from_slice(b",\"ts_ms\":");
        match event {
            // Within a stream the transaction's time is not known yet.
            TxnEvent::StreamStart { .. } | TxnEvent::StreamStop | TxnEvent::StreamAbort { .. } => self.now(out),
            _ => json::push_i64(out, unix_ms(txn.info.commit_time)),
        }
        if matches!(event, TxnEvent::StreamCommit { .. } | TxnEvent::Prepare { .. }) {
            event_counts(out, &txn.fmt);
        }
        out.push(b'}');
        sink.send(Piece::Whole);
    }
}

/// `,"event_count":..,"data_collections":[..]` of an END event.
fn event_counts(out: &mut Vec<u8>, c: &Counts) {
    out.extend_from_slice(b",\"event_count\":");
    json::push_u64(out, c.events);
    out.extend_from_slice(b",\"data_collections\":[");
    for (i, (_, name, n)) in c.collections.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"{\"data_collection\":" } else { b",{\"data_collection\":" });
        out.extend_from_slice(name);
        out.extend_from_slice(b",\"event_count\":");
        json::push_u64(out, *n);
        out.push(b'}');
    }
    out.push(b']');
}

/// `{"status":..,"id":..,"ts_ms":..` of a BEGIN or END event.
fn status_head(out: &mut Vec<u8>, status: &[u8], txn: &mut Txn<Counts>) {
    out.extend_from_slice(b"{\"status\":\"");
    out.extend_from_slice(status);
    out.extend_from_slice(b"\",\"id\":");
    out.extend_from_slice(txn.fmt.id(&txn.info));
    out.extend_from_slice(b",\"ts_ms\":");
    json::push_i64(out, unix_ms(txn.info.commit_time));
}

/// Unix milliseconds of a PostgreSQL timestamp.
fn unix_ms(pg_us: i64) -> i64 {
    (pg_us + PG_EPOCH_UNIX_US).div_euclid(1000)
}

impl V3 {
    /// Appends the current time in Unix milliseconds.
    fn now(&self, out: &mut Vec<u8>) {
        let ms = (self.clock)();
        let mut last = self.last_now.borrow_mut();
        if last.0 != ms || last.1.is_empty() {
            last.1.clear();
            json::push_i64(&mut last.1, ms);
            last.0 = ms;
        }
        json::push_bytes(out, &last.1);
    }

    /// The relation record, before the relation's first event in this
    /// session and again when the relation has changed since the last one
    /// written (checked once per rebuild of its cache entry: the server
    /// rebuilds relations for reasons that change nothing printed, such
    /// as at each block of a streamed transaction).
    fn relation_once(&self, sink: &mut impl Sink, txn: &mut Txn<Counts>, lsn: u64, rel: &Rel) {
        if !self.o.include_relations || rel.record_sent.replace(true) {
            return;
        }
        let mut sent = self.records_sent.borrow_mut();
        if sent.get(&rel.oid) == Some(&rel.record) {
            return;
        }
        sent.insert(rel.oid, rel.record.clone());
        drop(sent);
        let out = sink.buf();
        out.extend_from_slice(b"{\"op\":\"relation\",");
        self.source(out, Some(txn), lsn, Some(rel));
        out.push(b',');
        out.extend_from_slice(&rel.record);
        out.extend_from_slice(b",\"ts_ms\":");
        self.now(out);
        out.push(b'}');
        sink.send(Piece::Whole);
    }

    /// `{"before":..,"after":..,` of a change; returns the columns of `after`
    /// left out as unchanged TOAST (None when there are none).
    fn change_rows<R: Render>(&self, out: &mut Vec<u8>, c: &Change<'_, R>, rel: &Rel) -> Option<Vec<usize>> {
        out.extend_from_slice(b"{\"before\":");
        match (c.kind, c.old) {
            (ChangeKind::Update | ChangeKind::Delete, Some(old)) => {
                let meta = c.rel;
                // The WAL holds the identity's columns, or with REPLICA IDENTITY FULL all.
                let all = meta.replident_full || !meta.has_identity_index;
                object(out, rel, old, |k| all || meta.columns[k].in_identity);
            }
            _ => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"after\":");
        let mut unchanged = None;
        match c.new {
            Some(new) if c.kind != ChangeKind::Delete => unchanged = self.after(out, rel, new, c.old),
            _ => out.extend_from_slice(b"null"),
        }
        out.push(b',');
        unchanged
    }

    /// The new row; an unchanged TOAST value is taken from the old row when
    /// the WAL has it (REPLICA IDENTITY FULL), else written as the
    /// placeholder or left out (and returned).
    fn after<R: Render>(
        &self,
        out: &mut Vec<u8>,
        rel: &Rel,
        new: Row<'_, R>,
        old: Option<Row<'_, R>>,
    ) -> Option<Vec<usize>> {
        let mut left_out = Vec::new();
        out.push(b'{');
        let mut first = true;
        for (k, (key, &cell)) in rel.keys.iter().zip(new.cells).enumerate() {
            let from_old = old.map(|o| o.cells[k]).filter(|c| matches!(c, Cell::Value(_)));
            if cell == Cell::Unchanged && from_old.is_none() && self.placeholder.is_none() {
                left_out.push(k);
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            json::push_bytes(out, key);
            match (cell, from_old, old) {
                (Cell::Unchanged, Some(c), Some(o)) => o.write(out, c),
                (Cell::Unchanged, _, _) => out.extend_from_slice(self.placeholder.as_deref().unwrap_or(b"null")),
                _ => new.write(out, cell),
            }
        }
        out.push(b'}');
        (!left_out.is_empty()).then_some(left_out)
    }

    /// `"source":{..}`: the transaction's facts (null without one), the
    /// relation's (left out without one), the event's LSN.
    fn source(&self, out: &mut Vec<u8>, txn: Option<&mut Txn<Counts>>, lsn: u64, rel: Option<&Rel>) {
        let Some(txn) = txn else {
            out.extend_from_slice(&self.source_head);
            out.extend_from_slice(b"null");
            out.extend_from_slice(&self.source_db);
            out.extend_from_slice(b",\"txId\":null,\"lsn\":");
            json::push_u64(out, lsn);
            out.push(b'}');
            return;
        };
        if txn.fmt.source_head.is_empty() {
            self.source_parts(txn);
        }
        json::push_bytes(out, &txn.fmt.source_head);
        if let Some(rel) = rel {
            json::push_bytes(out, &rel.source_rel);
        }
        json::push_bytes(out, &txn.fmt.source_txid);
        json::push_u64(out, lsn);
        if txn.info.streamed {
            out.extend_from_slice(b",\"subxid\":");
            json::push_u64(out, txn.info.subxid as u64);
        }
        json::push_bytes(out, &txn.fmt.source_tail);
    }

    /// Builds the transaction's parts of `source` (see `Counts`).
    fn source_parts(&self, txn: &mut Txn<Counts>) {
        let (info, c) = (&txn.info, &mut txn.fmt);
        c.source_head.extend_from_slice(&self.source_head);
        // A streamed transaction's commit time and LSN are not known yet.
        if info.streamed {
            c.source_head.extend_from_slice(b"null");
        } else {
            json::push_i64(&mut c.source_head, unix_ms(info.commit_time));
        }
        c.source_head.extend_from_slice(&self.source_db);
        c.source_txid.extend_from_slice(b",\"txId\":");
        json::push_u64(&mut c.source_txid, info.xid as u64);
        c.source_txid.extend_from_slice(b",\"lsn\":");
        if info.streamed {
            c.source_tail.extend_from_slice(b",\"commit_lsn\":null,\"ts_us\":null");
        } else {
            c.source_tail.extend_from_slice(b",\"commit_lsn\":");
            json::push_u64(&mut c.source_tail, info.final_lsn);
            c.source_tail.extend_from_slice(b",\"ts_us\":");
            json::push_i64(&mut c.source_tail, info.commit_time + PG_EPOCH_UNIX_US);
        }
        if self.o.include_origin {
            c.source_tail.extend_from_slice(b",\"origin\":");
            json::push_u64(&mut c.source_tail, info.origin as u64);
        }
        c.source_tail.push(b'}');
    }

    /// `,"ts_ms":..,"transaction":{..}` of an event in a transaction.
    fn tail(&self, out: &mut Vec<u8>, txn: &mut Txn<Counts>, rel: Option<&Rel>) {
        out.extend_from_slice(b",\"ts_ms\":");
        self.now(out);
        // Only subtransactions' events are kept apart: a whole
        // transaction's abort ends its counts anyway.
        let sub = Some(txn.info.subxid).filter(|&s| txn.info.streamed && s != txn.info.xid);
        let (total, in_collection) = txn.fmt.count(rel, sub);
        if !self.o.include_transaction {
            out.extend_from_slice(b",\"transaction\":null");
            return;
        }
        out.extend_from_slice(b",\"transaction\":{\"id\":");
        out.extend_from_slice(txn.fmt.id(&txn.info));
        out.extend_from_slice(b",\"total_order\":");
        json::push_u64(out, total);
        if rel.is_some() {
            out.extend_from_slice(b",\"data_collection_order\":");
            json::push_u64(out, in_collection);
        }
        out.push(b'}');
    }
}

/// `{"a":1,..}` over the columns of `row` that `member` selects (unchanged
/// TOAST values, which the WAL does not carry, left out).
fn object<R: Render>(out: &mut Vec<u8>, rel: &Rel, row: Row<'_, R>, member: impl Fn(usize) -> bool) {
    out.push(b'{');
    let mut first = true;
    for (k, (key, &cell)) in rel.keys.iter().zip(row.cells).enumerate() {
        if cell == Cell::Unchanged || !member(k) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json::push_bytes(out, key);
        row.write(out, cell);
    }
    out.push(b'}');
}

/// The relation record's `"relation":{..}` member.
fn relation_record(rel: &RelMeta) -> Vec<u8> {
    let mut out = b"\"relation\":{\"oid\":".to_vec();
    json::push_u64(&mut out, rel.oid as u64);
    out.extend_from_slice(b",\"schema\":");
    out.extend_from_slice(&rel.schema);
    out.extend_from_slice(b",\"table\":");
    out.extend_from_slice(&rel.table);
    out.extend_from_slice(b",\"replica_identity\":");
    out.extend_from_slice(match rel.replident {
        b'd' => b"\"default\"".as_slice(),
        b'n' => b"\"nothing\"",
        b'f' => b"\"full\"",
        b'i' => b"\"index\"",
        _ => b"null",
    });
    out.extend_from_slice(b",\"columns\":[");
    for (i, c) in rel.columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        out.extend_from_slice(&c.name);
        out.extend_from_slice(b",\"type\":");
        json::string(&mut out, &c.type_name);
        out.extend_from_slice(b",\"type_oid\":");
        json::push_u64(&mut out, c.typeoid as u64);
        out.extend_from_slice(b",\"typmod\":");
        json::push_i64(&mut out, c.typmod as i64);
        out.extend_from_slice(b",\"position\":");
        json::push_i64(&mut out, c.attnum as i64);
        out.extend_from_slice(if c.not_null { b",\"nullable\":false" } else { b",\"nullable\":true" });
        out.extend_from_slice(b",\"default\":");
        out.extend_from_slice(c.default.as_deref().unwrap_or(b"null"));
        out.extend_from_slice(if c.in_identity { b",\"key\":true" } else { b",\"key\":false" });
        out.extend_from_slice(if c.in_pk { b",\"primary_key\":true}" } else { b",\"primary_key\":false}" });
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Tokens, VecSink, Version};

    fn rel() -> RelMeta {
        crate::format::test_relation()
    }

    fn v3(o: Options) -> V3 {
        let env = Env { utf8_db: true, slot: b"s".to_vec(), database: b"db".to_vec() };
        let mut f = V3::new(&Options { format: Version::V3, ..o }, &env).unwrap();
        f.clock = || 1_000;
        f
    }

    const NEW: Tokens = Tokens(&["1", "\"hi\""]);
    const OLD: Tokens = Tokens(&["2", "\"old\""]);
    const SOURCE: &str = r#""source":{"version":"0.2.0","connector":"waljson","name":"s","ts_ms":946684800001,"snapshot":"false","db":"db","schema":"public","table":"t","txId":7,"lsn":48,"commit_lsn":32,"ts_us":946684800001000}"#;

    fn txn() -> Txn<Counts> {
        Txn {
            info: TxnInfo { xid: 7, final_lsn: 32, commit_time: 1_000, ..Default::default() },
            fmt: Counts::default(),
            written: false,
        }
    }

    #[test]
    fn a_transaction_with_a_relation_record() {
        let f = v3(Options::default());
        let r = rel();
        let fr = f.relation(&r);
        let (mut sink, mut t) = (VecSink::default(), txn());
        let cells = [Cell::Value(0), Cell::Value(1)];
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 48,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        f.begin(&mut sink, &mut t);
        assert_eq!(f.change(&mut sink, &mut t, &c, &fr), Ok(None));
        assert_eq!(f.change(&mut sink, &mut t, &c, &fr), Ok(None));
        f.commit(&mut sink, &mut t, 32);
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(sent.len(), 5, "{sent:#?}");
        assert_eq!(sent[0], r#"{"status":"BEGIN","id":"7:32","ts_ms":946684800001}"#);
        assert_eq!(
            sent[1],
            format!(
                r#"{{"op":"relation",{SOURCE},"relation":{{"oid":16384,"schema":"public","table":"t","replica_identity":"default","columns":[{{"name":"a","type":"integer","type_oid":23,"typmod":-1,"position":1,"nullable":false,"default":null,"key":true,"primary_key":true}},{{"name":"b","type":"text","type_oid":25,"typmod":-1,"position":3,"nullable":true,"default":"'x'::text","key":false,"primary_key":false}}]}},"ts_ms":1000}}"#
            )
        );
        let event = |n: u32| {
            format!(
                r#"{{"before":null,"after":{{"a":1,"b":"hi"}},{SOURCE},"op":"c","ts_ms":1000,"transaction":{{"id":"7:32","total_order":{n},"data_collection_order":{n}}}}}"#
            )
        };
        assert_eq!(sent[2], event(1));
        assert_eq!(sent[3], event(2));
        assert_eq!(
            sent[4],
            r#"{"status":"END","id":"7:32","ts_ms":946684800001,"event_count":2,"data_collections":[{"data_collection":"public.t","event_count":2}]}"#
        );
    }

    #[test]
    fn updates_deletes_and_unchanged_toast() {
        let quiet = Options { include_transaction: false, include_relations: false, ..Options::default() };
        let f = v3(quiet.clone());
        let r = rel();
        let fr = f.relation(&r);
        let mut t = txn();
        let write = |f: &V3, c: &Change<'_, Tokens>, t: &mut Txn<Counts>| {
            let mut sink = VecSink::default();
            f.change(&mut sink, t, c, &fr).unwrap();
            assert_eq!(sink.sent.len(), 1);
            let text = sink.text();
            let (rows, rest) = text.split_once(SOURCE).unwrap();
            (rows.to_string(), rest.to_string())
        };
        let toasted = [Cell::Value(0), Cell::Unchanged];
        let key = [Cell::Value(0), Cell::Null];
        let u = Change {
            kind: ChangeKind::Update,
            lsn: 48,
            rel: &r,
            new: Some(Row { cells: &toasted, render: &NEW }),
            old: Some(Row { cells: &key, render: &OLD }),
        };
        assert_eq!(
            write(&f, &u, &mut t),
            (
                r#"{"before":{"a":2},"after":{"a":1},"#.into(),
                r#","op":"u","ts_ms":1000,"transaction":null,"unchanged_toast":["b"]}"#.into()
            )
        );
        // No old tuple (the key did not change): before is null.
        let u2 = Change { old: None, ..u };
        assert_eq!(write(&f, &u2, &mut t).0, r#"{"before":null,"after":{"a":1},"#);
        // REPLICA IDENTITY FULL: the old row has every column, and the unchanged value.
        let mut full = rel();
        full.replident_full = true;
        full.has_identity_index = false;
        let whole = [Cell::Value(0), Cell::Value(1)];
        let u3 = Change { rel: &full, old: Some(Row { cells: &whole, render: &OLD }), ..u };
        assert_eq!(write(&f, &u3, &mut t).0, r#"{"before":{"a":2,"b":"old"},"after":{"a":1,"b":"old"},"#);
        // A placeholder instead of the list.
        let p = v3(Options { unchanged_toast_placeholder: Some(b"__debezium_unavailable_value".to_vec()), ..quiet });
        let (rows, rest) = write(&p, &u, &mut t);
        assert_eq!(rows, r#"{"before":{"a":2},"after":{"a":1,"b":"__debezium_unavailable_value"},"#);
        assert!(!rest.contains("unchanged_toast"));
        let d = Change { kind: ChangeKind::Delete, new: None, ..u };
        assert_eq!(write(&f, &d, &mut t).0, r#"{"before":{"a":2},"after":null,"#);
    }

    #[test]
    fn snapshot_rows_are_read_events() {
        let env = Env { utf8_db: true, slot: Vec::new(), database: b"db".to_vec() };
        let mut f = V3::new(&Options { format: Version::V3, ..Options::default() }.for_snapshot(), &env).unwrap();
        f.clock = || 1_000;
        let r = rel();
        let fr = f.relation(&r);
        let mut t = Txn { info: TxnInfo { commit_time: 1_000, ..TxnInfo::default() }, ..Txn::default() };
        let cells = [Cell::Value(0), Cell::Null];
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 0,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        let mut sink = VecSink::default();
        for at in [(true, false), (false, false), (false, true), (true, true)] {
            f.snapshot_row(&mut sink, &mut t, &c, &fr, SnapshotPosition { first: at.0, last: at.1 }).unwrap();
        }
        let marker = |s: &str| {
            format!(
                r#"{{"before":null,"after":{{"a":1,"b":null}},"source":{{"version":"{}","connector":"waljson","name":null,"ts_ms":946684800001,"snapshot":"{s}","db":"db","schema":"public","table":"t","txId":null,"lsn":null,"commit_lsn":null,"ts_us":946684800001000}},"op":"r","ts_ms":1000,"transaction":null}}"#,
                env!("CARGO_PKG_VERSION")
            )
        };
        let sent: Vec<String> = sink.sent.iter().map(|(_, s)| s.clone()).collect();
        assert_eq!(
            sent,
            [
                marker("first_in_data_collection"),
                marker("true"),
                marker("last_in_data_collection"),
                marker("first_in_data_collection")
            ]
        );
        // No relation record, no transaction: the counts stay empty.
        assert_eq!(t.fmt.events, 0);
        // The slot's name, from slot-name.
        let named =
            V3::new(&Options { format: Version::V3, slot_name: Some(b"s1".to_vec()), ..Options::default() }, &env)
                .unwrap();
        let mut sink = VecSink::default();
        named.snapshot_row(&mut sink, &mut t, &c, &fr, SnapshotPosition::default()).unwrap();
        assert!(sink.text().contains(r#""name":"s1","#));
    }

    #[test]
    fn truncate_and_messages() {
        let f = v3(Options::default());
        let r = rel();
        let fr = f.relation(&r);
        fr.record_sent.set(true);
        let mut t = txn();
        let mut sink = VecSink::default();
        f.truncate(&mut sink, &mut t, 48, &r, &fr);
        let m = Message { transactional: true, lsn: 48, prefix: b"p", content: b"\xff\x00" };
        f.message(&mut sink, Some(&mut t), &m);
        f.message(&mut sink, Some(&mut t), &Message { transactional: false, ..m });
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            sent[0],
            format!(
                r#"{{"before":null,"after":null,{SOURCE},"op":"t","ts_ms":1000,"transaction":{{"id":"7:32","total_order":1,"data_collection_order":1}}}}"#
            )
        );
        let msg_source = SOURCE.replace(r#","schema":"public","table":"t""#, "");
        assert_eq!(
            sent[1],
            format!(
                r#"{{"op":"m",{msg_source},"message":{{"prefix":"p","content":"/wA="}},"ts_ms":1000,"transaction":{{"id":"7:32","total_order":2}}}}"#
            )
        );
        assert_eq!(
            sent[2],
            r#"{"op":"m","source":{"version":"0.2.0","connector":"waljson","name":"s","ts_ms":null,"snapshot":"false","db":"db","txId":null,"lsn":48},"message":{"prefix":"p","content":"/wA="},"ts_ms":1000,"transaction":null}"#
        );
    }

    #[test]
    fn streamed_transaction_with_a_subtransaction_aborted() {
        let f = v3(Options { include_relations: false, ..Options::default() });
        let r = rel();
        let fr = f.relation(&r);
        let mut t = txn();
        t.info.streamed = true;
        let mut sink = VecSink::default();
        f.txn_event(&mut sink, &mut t, TxnEvent::StreamStart { first: true });
        let cells = [Cell::Value(0), Cell::Value(1)];
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 48,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        for sub in [7, 8, 8, 7] {
            t.info.subxid = sub;
            f.change(&mut sink, &mut t, &c, &fr).unwrap();
        }
        f.txn_event(&mut sink, &mut t, TxnEvent::StreamStop);
        f.txn_event(&mut sink, &mut t, TxnEvent::StreamAbort { subxid: 8, lsn: 60 });
        t.info.end_lsn = 80;
        f.txn_event(&mut sink, &mut t, TxnEvent::StreamCommit { lsn: 70 });
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(sent[0], r#"{"status":"STREAM_START","id":"7","xid":7,"first_segment":true,"ts_ms":1000}"#);
        assert_eq!(
            sent[2],
            r#"{"before":null,"after":{"a":1,"b":"hi"},"source":{"version":"0.2.0","connector":"waljson","name":"s","ts_ms":null,"snapshot":"false","db":"db","schema":"public","table":"t","txId":7,"lsn":48,"subxid":8,"commit_lsn":null,"ts_us":null},"op":"c","ts_ms":1000,"transaction":{"id":"7","total_order":2,"data_collection_order":2}}"#
        );
        assert_eq!(sent[5], r#"{"status":"STREAM_STOP","id":"7","xid":7,"ts_ms":1000}"#);
        assert_eq!(sent[6], r#"{"status":"STREAM_ABORT","id":"7","xid":7,"subxid":8,"lsn":60,"ts_ms":1000}"#);
        // The aborted subtransaction's two events are not counted.
        assert_eq!(
            sent[7],
            r#"{"status":"STREAM_COMMIT","id":"7","xid":7,"lsn":70,"end_lsn":80,"ts_ms":946684800001,"event_count":2,"data_collections":[{"data_collection":"public.t","event_count":2}]}"#
        );
    }

    #[test]
    fn two_phase_events() {
        let f = v3(Options { include_relations: false, ..Options::default() });
        let mut t = txn();
        t.info.gid = b"g".to_vec();
        t.info.end_lsn = 40;
        let mut sink = VecSink::default();
        f.txn_event(&mut sink, &mut t, TxnEvent::BeginPrepare);
        f.txn_event(&mut sink, &mut t, TxnEvent::Prepare { lsn: 32, streamed: false });
        let mut k = txn();
        k.info.gid = b"g".to_vec();
        f.txn_event(&mut sink, &mut k, TxnEvent::CommitPrepared { lsn: 32 });
        f.txn_event(&mut sink, &mut k, TxnEvent::RollbackPrepared { lsn: 32 });
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            sent,
            [
                r#"{"status":"BEGIN_PREPARE","id":"7:32","xid":7,"gid":"g","lsn":32,"end_lsn":40,"ts_ms":946684800001}"#,
                r#"{"status":"PREPARE","id":"7:32","xid":7,"gid":"g","lsn":32,"end_lsn":40,"ts_ms":946684800001,"event_count":0,"data_collections":[]}"#,
                r#"{"status":"COMMIT_PREPARED","id":"7:32","xid":7,"gid":"g","lsn":32,"end_lsn":0,"ts_ms":946684800001}"#,
                r#"{"status":"ROLLBACK_PREPARED","id":"7:32","xid":7,"gid":"g","lsn":32,"end_lsn":0,"ts_ms":946684800001}"#,
            ]
        );
    }
}
