//! wal2json format version 2: one compact JSON object per event.
//!
//! Key order, optional keys and the identity rules are wal2json's
//! (`{"action":"I","schema":...,"table":...,"columns":[...]}` and friends).

use super::value::Wal2json;
use super::{
    Cell, Change, ChangeKind, ColumnMeta, Env, Format, Message, Piece, RelMeta, Render, Row, Sink, Skipped, Txn,
    TxnEvent, TxnInfo,
};
use crate::json::{self, MessageContent};
use crate::options::{OptionError, Options};

/// The format-version 2 writer for a session.
pub struct V2 {
    o: Options,
    style: Wal2json,
    utf8_db: bool,
}

/// What format version 2 precomputes per relation: per live column, `},`
/// then the start of the column's object up to its value,
/// `{"name":..[,"type":..][,"typeoid":..],"value":`, the same in every row
/// (the first column of a row skips the `},`).
#[derive(Debug, Clone, Default)]
pub struct Rel {
    next_heads: Vec<Vec<u8>>,
}

impl Format for V2 {
    type Rel = Rel;
    type Txn = ();
    type Style = Wal2json;

    fn new(o: &Options, env: &Env) -> Result<V2, OptionError> {
        Ok(V2 {
            o: o.clone(),
            style: Wal2json { numbers_as_string: o.numeric_data_types_as_string, domains_as_base: false },
            utf8_db: env.utf8_db,
        })
    }

    fn style(&self) -> &Wal2json {
        &self.style
    }

    fn relation(&self, rel: &RelMeta) -> Rel {
        let next_heads = rel.columns.iter().map(|c| [b"},".as_slice(), &column_head(&self.o, c)].concat()).collect();
        Rel { next_heads }
    }

    fn begin(&self, sink: &mut impl Sink, txn: &mut Txn<()>) {
        if self.o.include_transaction {
            boundary(sink.buf(), &self.o, &txn.info, b'B', txn.info.final_lsn);
            sink.send(Piece::Whole);
        }
    }

    fn commit(&self, sink: &mut impl Sink, txn: &mut Txn<()>, commit_lsn: u64) {
        if self.o.include_transaction {
            boundary(sink.buf(), &self.o, &txn.info, b'C', commit_lsn);
            sink.send(Piece::Whole);
        }
    }

    fn change<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<()>,
        c: &Change<'_, R>,
        rel: &Rel,
    ) -> Result<Option<String>, Skipped> {
        skip_reason(c)?;
        let warning = change(sink.buf(), &self.o, &txn.info, c, rel);
        sink.send(Piece::Whole);
        Ok(warning)
    }

    fn truncate(&self, sink: &mut impl Sink, txn: &mut Txn<()>, lsn: u64, rel: &RelMeta, _fmt: &Rel) {
        truncate(sink.buf(), &self.o, &txn.info, lsn, rel);
        sink.send(Piece::Whole);
    }

    fn message(&self, sink: &mut impl Sink, txn: Option<&mut Txn<()>>, m: &Message<'_>) {
        let info = txn.filter(|_| m.transactional).map(|t| &t.info);
        message(sink.buf(), &self.o, info, m, self.utf8_db);
        sink.send(Piece::Whole);
    }

    /// pgoutput's letters: S, E, A, c for streams; b, P, p, K, r for
    /// two-phase commit. These objects are written whatever
    /// include-transaction says: without them the changes around them
    /// cannot be applied correctly.
    fn txn_event(&self, sink: &mut impl Sink, txn: &mut Txn<()>, event: TxnEvent) {
        txn_event(sink.buf(), &self.o, &txn.info, event);
        sink.send(Piece::Whole);
    }
}

/// One stream or two-phase object (see `Format::txn_event`).
fn txn_event(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, event: TxnEvent) {
    let xid_only = |out: &mut Vec<u8>, action: &[u8]| {
        out.extend_from_slice(b"{\"action\":\"");
        out.extend_from_slice(action);
        out.extend_from_slice(b"\",\"xid\":");
        json::push_u64(out, txn.xid as u64);
    };
    // The boundaries: B/C's keys, the xid always, a gid for two-phase.
    let (action, lsn, gid): (u8, u64, bool) = match event {
        TxnEvent::StreamStart { first } => {
            xid_only(out, b"S");
            if o.include_origin {
                out.extend_from_slice(b",\"origin\":");
                json::push_u64(out, txn.origin as u64);
            }
            out.extend_from_slice(if first { b",\"first_segment\":true}" } else { b",\"first_segment\":false}" });
            return;
        }
        TxnEvent::StreamStop => {
            xid_only(out, b"E");
            out.push(b'}');
            return;
        }
        TxnEvent::StreamAbort { subxid, lsn } => {
            xid_only(out, b"A");
            out.extend_from_slice(b",\"subxid\":");
            json::push_u64(out, subxid as u64);
            if o.include_lsn {
                lsn_field(out, b",\"lsn\":", lsn);
            }
            out.push(b'}');
            return;
        }
        TxnEvent::StreamCommit { lsn } => (b'c', lsn, false),
        TxnEvent::BeginPrepare => (b'b', txn.final_lsn, true),
        TxnEvent::Prepare { lsn, streamed: false } => (b'P', lsn, true),
        TxnEvent::Prepare { lsn, streamed: true } => (b'p', lsn, true),
        TxnEvent::CommitPrepared { lsn } => (b'K', lsn, true),
        TxnEvent::RollbackPrepared { lsn } => (b'r', lsn, true),
    };
    xid_only(out, &[action]);
    if gid {
        out.extend_from_slice(b",\"gid\":");
        json::string(out, &txn.gid);
    }
    if o.include_timestamp {
        out.extend_from_slice(b",\"timestamp\":");
        json::string(out, &txn.timestamp);
    }
    if o.include_origin {
        out.extend_from_slice(b",\"origin\":");
        json::push_u64(out, txn.origin as u64);
    }
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", lsn);
        lsn_field(out, b",\"nextlsn\":", txn.end_lsn);
    }
    out.push(b'}');
}

/// `,"xid":N,"timestamp":"...","origin":N` as enabled. In a streamed
/// transaction the xid is always written (blocks of several transactions
/// interleave), with `"subxid"` when `sub` (a change's own (sub)transaction),
/// and the commit time, unknown until the end, is `null`.
fn txn_fields(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, sub: bool) {
    if o.include_xids || txn.streamed {
        out.extend_from_slice(b",\"xid\":");
        json::push_u64(out, txn.xid as u64);
    }
    if txn.streamed && sub {
        out.extend_from_slice(b",\"subxid\":");
        json::push_u64(out, txn.subxid as u64);
    }
    if o.include_timestamp {
        out.extend_from_slice(b",\"timestamp\":");
        if txn.streamed {
            out.extend_from_slice(b"null");
        } else {
            json::string(out, &txn.timestamp);
        }
    }
    if o.include_origin {
        out.extend_from_slice(b",\"origin\":");
        json::push_u64(out, txn.origin as u64);
    }
}

fn lsn_field(out: &mut Vec<u8>, key: &[u8], lsn: u64) {
    out.extend_from_slice(key);
    out.push(b'"');
    json::push_lsn(out, lsn);
    out.push(b'"');
}

/// `{"action":"B"...}` or `{"action":"C"...}`.
fn boundary(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, action: u8, lsn: u64) {
    out.extend_from_slice(b"{\"action\":\"");
    out.push(action);
    out.push(b'"');
    txn_fields(out, o, txn, false);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", lsn);
        lsn_field(out, b",\"nextlsn\":", txn.end_lsn);
    }
    out.push(b'}');
}

fn relation_fields(out: &mut Vec<u8>, o: &Options, rel: &RelMeta) {
    if o.include_schemas {
        out.extend_from_slice(b",\"schema\":");
        json::push_bytes(out, &rel.schema);
    }
    out.extend_from_slice(b",\"table\":");
    json::push_bytes(out, &rel.table);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TupleKind {
    Columns,
    Identity,
    Pk,
}

/// The type name format version 2 prints: with include-domain-data-type a
/// domain's base type name (the OID printed is always the column's own).
fn column_type<'a>(o: &Options, c: &'a ColumnMeta) -> &'a [u8] {
    match (&c.base_type_name, o.include_domain_data_type) {
        (Some(base), true) => base,
        _ => &c.type_name,
    }
}

/// `{"name":..[,"type":..][,"typeoid":..],"value":` of a column for these
/// options (a pk entry stops before `,"value":`).
fn column_head(o: &Options, c: &ColumnMeta) -> Vec<u8> {
    let mut out = b"{\"name\":".to_vec();
    out.extend_from_slice(&c.name);
    if o.include_types {
        out.extend_from_slice(b",\"type\":");
        json::type_name(&mut out, column_type(o, c), false);
    }
    if o.include_type_oids {
        out.extend_from_slice(b",\"typeoid\":");
        json::push_u64(&mut out, c.typeoid as u64);
    }
    out.extend_from_slice(VALUE_KEY);
    out
}

const VALUE_KEY: &[u8] = b",\"value\":";

/// The columns of a row with none of the per-column extras (the common
/// case): each column's precomputed head, with the previous column's `},`
/// folded into it, then its value.
fn plain_columns<R: Render>(out: &mut Vec<u8>, fmt: &Rel, row: Row<'_, R>) {
    let mut first = true;
    for (head, &cell) in fmt.next_heads.iter().zip(row.cells) {
        if cell == Cell::Unchanged {
            continue;
        }
        json::push_bytes(out, if first { &head[2..] } else { head });
        first = false;
        row.write(out, cell);
    }
    if !first {
        out.push(b'}');
    }
}

fn tuple<R: Render>(out: &mut Vec<u8>, o: &Options, rel: &RelMeta, fmt: &Rel, row: Row<'_, R>, kind: TupleKind) {
    if kind == TupleKind::Columns && !o.include_not_null && !o.include_column_positions && !o.include_default {
        return plain_columns(out, fmt, row);
    }
    let mut first = true;
    for ((col, next_head), &cell) in rel.columns.iter().zip(&fmt.next_heads).zip(row.cells) {
        let member = match kind {
            TupleKind::Columns => true,
            TupleKind::Identity => !rel.has_identity_index || col.in_identity,
            TupleKind::Pk => col.in_pk,
        };
        if !member || cell == Cell::Unchanged {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        let head = &next_head[2..];
        if kind != TupleKind::Pk {
            json::push_bytes(out, head);
            row.write(out, cell);
        } else {
            out.extend_from_slice(&head[..head.len() - VALUE_KEY.len()]);
        }
        if kind == TupleKind::Columns {
            if o.include_not_null {
                out.extend_from_slice(if col.not_null { b",\"optional\":false" } else { b",\"optional\":true" });
            }
            if o.include_column_positions {
                out.extend_from_slice(b",\"position\":");
                json::push_i64(out, col.attnum as i64);
            }
            if o.include_default {
                out.extend_from_slice(b",\"default\":");
                match &col.default {
                    Some(d) => out.extend_from_slice(d),
                    None => out.extend_from_slice(b"null"),
                }
            }
        }
        out.push(b'}');
    }
}

fn qualified(rel: &RelMeta) -> String {
    format!("\"{}\".\"{}\"", String::from_utf8_lossy(&rel.raw_schema), String::from_utf8_lossy(&rel.raw_table))
}

/// Why wal2json skips a change, if it does.
fn skip_reason<R: Render>(c: &Change<'_, R>) -> Result<(), Skipped> {
    let rel = c.rel;
    let has_identity = rel.has_identity_index || rel.replident_full;
    match c.kind {
        ChangeKind::Insert | ChangeKind::Update if c.new.is_none() => {
            Err(Skipped(format!("no tuple data for {} in table {}", c.kind.sql_name(), qualified(rel))))
        }
        ChangeKind::Update | ChangeKind::Delete if c.old.is_none() && !has_identity => {
            Err(Skipped(format!("no tuple identifier for {} in table {}", c.kind.sql_name(), qualified(rel))))
        }
        _ => Ok(()),
    }
}

/// Writes one I/U/D object (which `skip_reason` let through); returns a
/// WARNING to raise although the change is written.
fn change<R: Render>(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, c: &Change<'_, R>, fmt: &Rel) -> Option<String> {
    let rel = c.rel;
    let mut warning = None;
    out.extend_from_slice(match c.kind {
        ChangeKind::Insert => b"{\"action\":\"I\"",
        ChangeKind::Update => b"{\"action\":\"U\"",
        ChangeKind::Delete => b"{\"action\":\"D\"",
    });
    txn_fields(out, o, txn, true);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", c.lsn);
    }
    relation_fields(out, o, rel);
    if let Some(new) = c.new {
        out.extend_from_slice(b",\"columns\":[");
        tuple(out, o, rel, fmt, new, TupleKind::Columns);
        out.push(b']');
    }
    match (c.old, c.new, c.kind) {
        (Some(old), _, _) => {
            out.extend_from_slice(b",\"identity\":[");
            tuple(out, o, rel, fmt, old, TupleKind::Identity);
            out.push(b']');
        }
        // The key did not change: the identity is read from the new tuple.
        (None, Some(new), ChangeKind::Update) if rel.has_pk || rel.has_identity_index => {
            out.extend_from_slice(b",\"identity\":[");
            tuple(out, o, rel, fmt, new, TupleKind::Identity);
            out.push(b']');
        }
        (None, _, ChangeKind::Update | ChangeKind::Delete) => {
            warning = Some(format!("no old tuple data for {} in table {}", c.kind.sql_name(), qualified(rel)));
        }
        _ => {}
    }
    if o.include_pk {
        out.extend_from_slice(b",\"pk\":[");
        if rel.has_pk {
            if let Some(row) = c.old.or(c.new) {
                tuple(out, o, rel, fmt, row, TupleKind::Pk);
            }
        }
        out.push(b']');
    }
    out.push(b'}');
    warning
}

/// One `{"action":"T"...}` object for one truncated relation.
fn truncate(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, lsn: u64, rel: &RelMeta) {
    out.extend_from_slice(b"{\"action\":\"T\"");
    txn_fields(out, o, txn, true);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", lsn);
    }
    relation_fields(out, o, rel);
    out.push(b'}');
}

/// `{"action":"M"...}`. A non-transactional message has no transaction: its
/// xid, timestamp and origin are `null` when asked for.
fn message(out: &mut Vec<u8>, o: &Options, txn: Option<&TxnInfo>, m: &Message<'_>, utf8_db: bool) {
    out.extend_from_slice(b"{\"action\":\"M\"");
    match txn {
        Some(t) => txn_fields(out, o, t, false),
        None => {
            if o.include_xids {
                out.extend_from_slice(b",\"xid\":null");
            }
            if o.include_timestamp {
                out.extend_from_slice(b",\"timestamp\":null");
            }
            if o.include_origin {
                out.extend_from_slice(b",\"origin\":null");
            }
        }
    }
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", m.lsn);
    }
    out.extend_from_slice(if txn.is_some() { b",\"transactional\":true" } else { b",\"transactional\":false" });
    out.extend_from_slice(b",\"prefix\":");
    json::string(out, m.prefix);
    out.extend_from_slice(b",\"content\":");
    json::message_content(out, o.message_content.unwrap_or(MessageContent::Text), m.content, utf8_db);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Version;
    use crate::format::{Tokens, VecSink};

    fn rel() -> RelMeta {
        crate::format::test_relation()
    }

    fn v2(o: Options) -> V2 {
        V2::new(&Options { format: Version::V2, ..o }, &Env { utf8_db: true, ..Env::default() }).unwrap()
    }

    /// Writes `c` with `o`; what was sent (one message or none) and the result.
    fn write(o: Options, txn: &TxnInfo, c: &Change<'_, Tokens>) -> (String, Result<Option<String>, Skipped>) {
        let f = v2(o);
        let fr = f.relation(c.rel);
        let mut sink = VecSink::default();
        let mut t = Txn { info: txn.clone(), fmt: (), written: false };
        let result = f.change(&mut sink, &mut t, c, &fr);
        assert!(sink.sent.len() <= 1 && sink.sent.iter().all(|(p, _)| *p == Piece::Whole));
        (sink.text(), result)
    }

    /// New rows: a = 1, b = 'hi'; old rows: a = 2.
    const NEW: Tokens = Tokens(&["1", "\"hi\""]);
    const OLD: Tokens = Tokens(&["2"]);
    fn new_row() -> Vec<Cell> {
        vec![Cell::Value(0), Cell::Value(1)]
    }

    #[test]
    fn insert_default_options() {
        let r = rel();
        let cells = new_row();
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 0x16B_1234,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        let (out, result) = write(Options::default(), &TxnInfo::default(), &c);
        assert_eq!(result, Ok(None));
        assert_eq!(
            out,
            r#"{"action":"I","schema":"public","table":"t","columns":[{"name":"a","type":"integer","value":1},{"name":"b","type":"text","value":"hi"}]}"#
        );
    }

    #[test]
    fn update_everything_on() {
        let o = Options {
            include_xids: true,
            include_timestamp: true,
            include_origin: true,
            include_lsn: true,
            include_type_oids: true,
            include_not_null: true,
            include_column_positions: true,
            include_default: true,
            include_pk: true,
            ..Options::default()
        };
        let r = rel();
        let cells = new_row();
        let old = vec![Cell::Value(0), Cell::Null];
        let txn = TxnInfo { xid: 42, timestamp: b"2020-01-01 00:00:00+00".to_vec(), origin: 0, ..Default::default() };
        let c = Change {
            kind: ChangeKind::Update,
            lsn: 0x1_0000_0010,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: Some(Row { cells: &old, render: &OLD }),
        };
        assert_eq!(
            write(o, &txn, &c).0,
            concat!(
                r#"{"action":"U","xid":42,"timestamp":"2020-01-01 00:00:00+00","origin":0,"lsn":"1/10","schema":"public","table":"t","#,
                r#""columns":[{"name":"a","type":"integer","typeoid":23,"value":1,"optional":false,"position":1,"default":null},"#,
                r#"{"name":"b","type":"text","typeoid":25,"value":"hi","optional":true,"position":3,"default":"'x'::text"}],"#,
                r#""identity":[{"name":"a","type":"integer","typeoid":23,"value":2}],"pk":[{"name":"a","type":"integer","typeoid":23}]}"#
            )
        );
    }

    #[test]
    fn update_without_old_tuple_uses_new_key_and_toast_is_omitted() {
        let r = rel();
        let cells = vec![Cell::Value(0), Cell::Unchanged];
        let c = Change {
            kind: ChangeKind::Update,
            lsn: 0,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        let o = Options { include_types: false, ..Options::default() };
        assert_eq!(
            write(o, &TxnInfo::default(), &c).0,
            r#"{"action":"U","schema":"public","table":"t","columns":[{"name":"a","value":1}],"identity":[{"name":"a","value":1}]}"#
        );
    }

    #[test]
    fn no_identity_is_skipped_with_warning() {
        let mut r = rel();
        r.has_identity_index = false;
        r.has_pk = false;
        let cells = new_row();
        let c = Change::<Tokens> { kind: ChangeKind::Delete, lsn: 0, rel: &r, new: None, old: None };
        let (out, result) = write(Options::default(), &TxnInfo::default(), &c);
        assert_eq!(result, Err(Skipped("no tuple identifier for DELETE in table \"public\".\"t\"".into())));
        assert!(out.is_empty());
        let c = Change {
            kind: ChangeKind::Update,
            lsn: 0,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        assert!(write(Options::default(), &TxnInfo::default(), &c).1.is_err());
    }

    #[test]
    fn full_identity_prints_all_old_columns_with_nulls() {
        let mut r = rel();
        r.has_identity_index = false;
        r.has_pk = false;
        r.replident_full = true;
        let old = vec![Cell::Value(0), Cell::Null];
        let c = Change {
            kind: ChangeKind::Delete,
            lsn: 0,
            rel: &r,
            new: None,
            old: Some(Row { cells: &old, render: &OLD }),
        };
        assert_eq!(
            write(Options { include_pk: true, ..Options::default() }, &TxnInfo::default(), &c).0,
            r#"{"action":"D","schema":"public","table":"t","identity":[{"name":"a","type":"integer","value":2},{"name":"b","type":"text","value":null}],"pk":[]}"#
        );
    }

    #[test]
    fn boundaries_messages_truncate() {
        let f = v2(Options { include_xids: true, include_lsn: true, ..Options::default() });
        let mut txn = Txn {
            info: TxnInfo { xid: 7, final_lsn: 0x20, end_lsn: 0x28, ..Default::default() },
            fmt: (),
            written: false,
        };
        let mut sink = VecSink::default();
        f.begin(&mut sink, &mut txn);
        f.commit(&mut sink, &mut txn, 0x21);
        let m = Message { transactional: false, lsn: 0x30, prefix: b"p", content: b"c\"" };
        f.message(&mut sink, Some(&mut txn), &m);
        f.message(&mut sink, Some(&mut txn), &Message { transactional: true, ..m });
        let r = rel();
        let fr = f.relation(&r);
        f.truncate(&mut sink, &mut txn, 0x40, &r, &fr);
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            sent,
            [
                r#"{"action":"B","xid":7,"lsn":"0/20","nextlsn":"0/28"}"#,
                r#"{"action":"C","xid":7,"lsn":"0/21","nextlsn":"0/28"}"#,
                r#"{"action":"M","xid":null,"lsn":"0/30","transactional":false,"prefix":"p","content":"c\""}"#,
                r#"{"action":"M","xid":7,"lsn":"0/30","transactional":true,"prefix":"p","content":"c\""}"#,
                r#"{"action":"T","xid":7,"lsn":"0/40","schema":"public","table":"t"}"#,
            ]
        );
        let quiet = v2(Options { include_transaction: false, ..Options::default() });
        let mut sink = VecSink::default();
        quiet.begin(&mut sink, &mut txn);
        quiet.commit(&mut sink, &mut txn, 0);
        assert!(sink.sent.is_empty());
    }

    #[test]
    fn streamed_and_two_phase_events() {
        let f = v2(Options { include_timestamp: true, ..Options::default() });
        let info = TxnInfo { xid: 7, final_lsn: 0x20, end_lsn: 0x28, timestamp: b"T".to_vec(), ..Default::default() };
        let mut txn = Txn { info: TxnInfo { streamed: true, subxid: 9, ..info.clone() }, fmt: (), written: false };
        let mut sink = VecSink::default();
        f.txn_event(&mut sink, &mut txn, TxnEvent::StreamStart { first: true });
        let r = rel();
        let fr = f.relation(&r);
        let cells = new_row();
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 0x30,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        f.change(&mut sink, &mut txn, &c, &fr).unwrap();
        f.truncate(&mut sink, &mut txn, 0x40, &r, &fr);
        f.message(&mut sink, Some(&mut txn), &Message { transactional: true, lsn: 0x50, prefix: b"p", content: b"" });
        f.txn_event(&mut sink, &mut txn, TxnEvent::StreamStop);
        f.txn_event(&mut sink, &mut txn, TxnEvent::StreamAbort { subxid: 9, lsn: 0x60 });
        txn.info.streamed = false;
        f.txn_event(&mut sink, &mut txn, TxnEvent::StreamCommit { lsn: 0x70 });
        let mut prepared = Txn { info: TxnInfo { gid: b"g\"1".to_vec(), ..info }, fmt: (), written: false };
        for e in [
            TxnEvent::BeginPrepare,
            TxnEvent::Prepare { lsn: 0x20, streamed: false },
            TxnEvent::Prepare { lsn: 0x20, streamed: true },
            TxnEvent::CommitPrepared { lsn: 0x80 },
            TxnEvent::RollbackPrepared { lsn: 0x90 },
        ] {
            f.txn_event(&mut sink, &mut prepared, e);
        }
        let sent: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        let columns = r#""columns":[{"name":"a","type":"integer","value":1},{"name":"b","type":"text","value":"hi"}]"#;
        assert_eq!(
            sent,
            [
                r#"{"action":"S","xid":7,"first_segment":true}"#.to_string(),
                format!(
                    r#"{{"action":"I","xid":7,"subxid":9,"timestamp":null,"schema":"public","table":"t",{columns}}}"#
                ),
                r#"{"action":"T","xid":7,"subxid":9,"timestamp":null,"schema":"public","table":"t"}"#.into(),
                r#"{"action":"M","xid":7,"timestamp":null,"transactional":true,"prefix":"p","content":""}"#.into(),
                r#"{"action":"E","xid":7}"#.into(),
                r#"{"action":"A","xid":7,"subxid":9}"#.into(),
                r#"{"action":"c","xid":7,"timestamp":"T"}"#.into(),
                r#"{"action":"b","xid":7,"gid":"g\"1","timestamp":"T"}"#.into(),
                r#"{"action":"P","xid":7,"gid":"g\"1","timestamp":"T"}"#.into(),
                r#"{"action":"p","xid":7,"gid":"g\"1","timestamp":"T"}"#.into(),
                r#"{"action":"K","xid":7,"gid":"g\"1","timestamp":"T"}"#.into(),
                r#"{"action":"r","xid":7,"gid":"g\"1","timestamp":"T"}"#.into(),
            ]
        );
        // With include-lsn: the events' LSNs; the transaction's end as nextlsn.
        let f = v2(Options { include_lsn: true, include_origin: true, ..Options::default() });
        let mut sink = VecSink::default();
        f.txn_event(&mut sink, &mut prepared, TxnEvent::CommitPrepared { lsn: 0x80 });
        f.txn_event(&mut sink, &mut prepared, TxnEvent::StreamAbort { subxid: 7, lsn: 0x60 });
        f.txn_event(&mut sink, &mut prepared, TxnEvent::StreamStart { first: false });
        assert_eq!(sink.sent[0].1, r#"{"action":"K","xid":7,"gid":"g\"1","origin":0,"lsn":"0/80","nextlsn":"0/28"}"#);
        assert_eq!(sink.sent[1].1, r#"{"action":"A","xid":7,"subxid":7,"lsn":"0/60"}"#);
        assert_eq!(sink.sent[2].1, r#"{"action":"S","xid":7,"origin":0,"first_segment":false}"#);
    }
}
