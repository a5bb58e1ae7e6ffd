//! wal2json format version 2: one compact JSON object per event.
//!
//! Key order, optional keys and the identity rules are wal2json's
//! (`{"action":"I","schema":...,"table":...,"columns":[...]}` and friends).

use super::{Cell, Change, ChangeKind, ColumnMeta, RelMeta, Render, Row, Skipped, TxnInfo, TypeOut};
use crate::json;
use crate::options::Options;

/// `,"xid":N,"timestamp":"...","origin":N` as enabled.
fn txn_fields(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo) {
    if o.include_xids {
        out.extend_from_slice(b",\"xid\":");
        json::push_u64(out, txn.xid as u64);
    }
    if o.include_timestamp {
        out.extend_from_slice(b",\"timestamp\":");
        json::string(out, &txn.timestamp);
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

/// `{"action":"B"...}`; nothing when include-transaction is off.
pub fn begin(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo) -> bool {
    boundary(out, o, txn, b'B', txn.final_lsn)
}

/// `{"action":"C"...}`; `lsn` is the commit record's LSN.
pub fn commit(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, commit_lsn: u64) -> bool {
    boundary(out, o, txn, b'C', commit_lsn)
}

fn boundary(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, action: u8, lsn: u64) -> bool {
    if !o.include_transaction {
        return false;
    }
    out.extend_from_slice(b"{\"action\":\"");
    out.push(action);
    out.push(b'"');
    txn_fields(out, o, txn);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", lsn);
        lsn_field(out, b",\"nextlsn\":", txn.end_lsn);
    }
    out.push(b'}');
    true
}

fn relation_fields(out: &mut Vec<u8>, o: &Options, rel: &RelMeta) {
    if o.include_schemas {
        out.extend_from_slice(b",\"schema\":");
        json::append(out, &rel.schema);
    }
    out.extend_from_slice(b",\"table\":");
    json::append(out, &rel.table);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TupleKind {
    Columns,
    Identity,
    Pk,
}

/// The type name and OID format version 2 prints: with
/// include-domain-data-type a domain's base type name; the OID is always the
/// column's own.
pub fn column_type<'a>(o: &Options, c: &'a ColumnMeta) -> (&'a [u8], u32) {
    match (&c.base_type_name, o.include_domain_data_type) {
        (Some(base), true) => (base, c.typeoid),
        _ => (&c.type_name, c.typeoid),
    }
}

/// `{"name":..[,"type":..][,"typeoid":..],"value":` of a column for these
/// options (a pk entry stops before `,"value":`).
pub fn column_head(o: &Options, name: &[u8], t: &TypeOut) -> Vec<u8> {
    let mut out = b"{\"name\":".to_vec();
    out.extend_from_slice(name);
    if o.include_types {
        out.extend_from_slice(b",\"type\":");
        out.extend_from_slice(&t.token);
    }
    if o.include_type_oids {
        out.extend_from_slice(b",\"typeoid\":");
        json::push_u64(&mut out, t.oid as u64);
    }
    out.extend_from_slice(VALUE_KEY);
    out
}

const VALUE_KEY: &[u8] = b",\"value\":";

/// The columns of a row with none of the per-column extras (the common
/// case): each column's precomputed head, with the previous column's `},`
/// folded into it, then its value.
fn plain_columns<R: Render>(out: &mut Vec<u8>, rel: &RelMeta, row: Row<'_, R>) {
    let mut first = true;
    for (col, &cell) in rel.columns.iter().zip(row.cells) {
        if cell == Cell::Unchanged {
            continue;
        }
        let head = &col.out.v2_next_head;
        json::append(out, if first { &head[2..] } else { head });
        first = false;
        row.write(out, cell);
    }
    if !first {
        out.push(b'}');
    }
}

fn tuple<R: Render>(out: &mut Vec<u8>, o: &Options, rel: &RelMeta, row: Row<'_, R>, kind: TupleKind) {
    if kind == TupleKind::Columns && !o.include_not_null && !o.include_column_positions && !o.include_default {
        return plain_columns(out, rel, row);
    }
    let mut first = true;
    for (col, &cell) in rel.columns.iter().zip(row.cells) {
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
        let head = &col.out.v2_next_head[2..];
        if kind != TupleKind::Pk {
            json::append(out, head);
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

/// Writes one I/U/D object. Returns Err when wal2json skips the change (with
/// its WARNING text), or Ok with a WARNING to raise although the change is written.
pub fn change<R: Render>(
    out: &mut Vec<u8>,
    o: &Options,
    txn: &TxnInfo,
    c: &Change<'_, R>,
) -> Result<Option<String>, Skipped> {
    let rel = c.rel;
    let has_identity = rel.has_identity_index || rel.replident_full;
    match c.kind {
        ChangeKind::Insert | ChangeKind::Update if c.new.is_none() => {
            return Err(Skipped(format!("no tuple data for {} in table {}", c.kind.sql_name(), qualified(rel))));
        }
        ChangeKind::Update | ChangeKind::Delete if c.old.is_none() && !has_identity => {
            return Err(Skipped(format!("no tuple identifier for {} in table {}", c.kind.sql_name(), qualified(rel))));
        }
        _ => {}
    }
    let mut warning = None;
    out.extend_from_slice(match c.kind {
        ChangeKind::Insert => b"{\"action\":\"I\"",
        ChangeKind::Update => b"{\"action\":\"U\"",
        ChangeKind::Delete => b"{\"action\":\"D\"",
    });
    txn_fields(out, o, txn);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", c.lsn);
    }
    relation_fields(out, o, rel);
    if let Some(new) = c.new {
        out.extend_from_slice(b",\"columns\":[");
        tuple(out, o, rel, new, TupleKind::Columns);
        out.push(b']');
    }
    match (c.old, c.new, c.kind) {
        (Some(old), _, _) => {
            out.extend_from_slice(b",\"identity\":[");
            tuple(out, o, rel, old, TupleKind::Identity);
            out.push(b']');
        }
        // The key did not change: the identity is read from the new tuple.
        (None, Some(new), ChangeKind::Update) if rel.has_pk || rel.has_identity_index => {
            out.extend_from_slice(b",\"identity\":[");
            tuple(out, o, rel, new, TupleKind::Identity);
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
                tuple(out, o, rel, row, TupleKind::Pk);
            }
        }
        out.push(b']');
    }
    out.push(b'}');
    Ok(warning)
}

/// One `{"action":"T"...}` object for one truncated relation.
pub fn truncate(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo, lsn: u64, rel: &RelMeta) {
    out.extend_from_slice(b"{\"action\":\"T\"");
    txn_fields(out, o, txn);
    if o.include_lsn {
        lsn_field(out, b",\"lsn\":", lsn);
    }
    relation_fields(out, o, rel);
    out.push(b'}');
}

/// `{"action":"M"...}`. A non-transactional message has no transaction: its
/// xid, timestamp and origin are `null` when asked for.
pub fn message(
    out: &mut Vec<u8>,
    o: &Options,
    txn: Option<&TxnInfo>,
    lsn: u64,
    prefix: &[u8],
    content: &[u8],
    utf8_db: bool,
) {
    out.extend_from_slice(b"{\"action\":\"M\"");
    match txn {
        Some(t) => txn_fields(out, o, t),
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
        lsn_field(out, b",\"lsn\":", lsn);
    }
    out.extend_from_slice(if txn.is_some() { b",\"transactional\":true" } else { b",\"transactional\":false" });
    out.extend_from_slice(b",\"prefix\":");
    json::string(out, prefix);
    out.extend_from_slice(b",\"content\":");
    json::message_content(out, o.message_content, content, utf8_db);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::ColumnMeta;
    use crate::format::Tokens;

    fn col(name: &str, ty: &str, oid: u32, attnum: i16) -> ColumnMeta {
        ColumnMeta {
            name: json::string_owned(name.as_bytes()),
            type_name: ty.into(),
            typeoid: oid,
            attnum,
            ..Default::default()
        }
    }

    fn rel() -> RelMeta {
        let mut a = col("a", "integer", 23, 1);
        a.in_identity = true;
        a.in_pk = true;
        a.not_null = true;
        let mut b = col("b", "text", 25, 3);
        b.default = Some(json::string_owned(b"'x'::text"));
        RelMeta {
            raw_schema: b"public".to_vec(),
            raw_table: b"t".to_vec(),
            schema: json::string_owned(b"public"),
            table: json::string_owned(b"t"),
            columns: vec![a, b],
            has_identity_index: true,
            has_pk: true,
            replident_full: false,
            replident_default: true,
            ..Default::default()
        }
    }

    fn rel_for(o: &Options) -> RelMeta {
        let mut r = rel();
        r.resolve_output(o);
        r
    }

    fn s(v: &[u8]) -> String {
        String::from_utf8(v.to_vec()).unwrap()
    }

    /// New rows: a = 1, b = 'hi'; old rows: a = 2.
    const NEW: Tokens = Tokens(&["1", "\"hi\""]);
    const OLD: Tokens = Tokens(&["2"]);
    fn new_row() -> Vec<Cell> {
        vec![Cell::Value(0), Cell::Value(1)]
    }

    #[test]
    fn insert_default_options() {
        let o = Options { format_version: 2, ..Options::default() };
        let r = rel_for(&o);
        let cells = new_row();
        let c = Change {
            kind: ChangeKind::Insert,
            lsn: 0x16B_1234,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        let mut out = Vec::new();
        assert_eq!(change(&mut out, &o, &TxnInfo::default(), &c), Ok(None));
        assert_eq!(
            s(&out),
            r#"{"action":"I","schema":"public","table":"t","columns":[{"name":"a","type":"integer","value":1},{"name":"b","type":"text","value":"hi"}]}"#
        );
    }

    #[test]
    fn update_everything_on() {
        let o = Options {
            format_version: 2,
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
        let r = rel_for(&o);
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
        let mut out = Vec::new();
        change(&mut out, &o, &txn, &c).unwrap();
        assert_eq!(
            s(&out),
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
        let o = Options { format_version: 2, include_types: false, ..Options::default() };
        let r = rel_for(&o);
        let cells = vec![Cell::Value(0), Cell::Unchanged];
        let c = Change {
            kind: ChangeKind::Update,
            lsn: 0,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        let mut out = Vec::new();
        change(&mut out, &o, &TxnInfo::default(), &c).unwrap();
        assert_eq!(
            s(&out),
            r#"{"action":"U","schema":"public","table":"t","columns":[{"name":"a","value":1}],"identity":[{"name":"a","value":1}]}"#
        );
    }

    #[test]
    fn no_identity_is_skipped_with_warning() {
        let o = Options { format_version: 2, ..Options::default() };
        let mut r = rel_for(&o);
        r.has_identity_index = false;
        r.has_pk = false;
        let cells = new_row();
        let c = Change::<Tokens> { kind: ChangeKind::Delete, lsn: 0, rel: &r, new: None, old: None };
        let mut out = Vec::new();
        assert_eq!(
            change(&mut out, &o, &TxnInfo::default(), &c),
            Err(Skipped("no tuple identifier for DELETE in table \"public\".\"t\"".into()))
        );
        assert!(out.is_empty());
        let c = Change {
            kind: ChangeKind::Update,
            lsn: 0,
            rel: &r,
            new: Some(Row { cells: &cells, render: &NEW }),
            old: None,
        };
        assert!(change(&mut out, &o, &TxnInfo::default(), &c).is_err());
    }

    #[test]
    fn full_identity_prints_all_old_columns_with_nulls() {
        let o = Options { format_version: 2, include_pk: true, ..Options::default() };
        let mut r = rel_for(&o);
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
        let mut out = Vec::new();
        change(&mut out, &o, &TxnInfo::default(), &c).unwrap();
        assert_eq!(
            s(&out),
            r#"{"action":"D","schema":"public","table":"t","identity":[{"name":"a","type":"integer","value":2},{"name":"b","type":"text","value":null}],"pk":[]}"#
        );
    }

    #[test]
    fn boundaries_messages_truncate() {
        let o = Options { format_version: 2, include_xids: true, include_lsn: true, ..Options::default() };
        let txn = TxnInfo { xid: 7, final_lsn: 0x20, end_lsn: 0x28, ..Default::default() };
        let mut out = Vec::new();
        assert!(begin(&mut out, &o, &txn));
        assert_eq!(s(&out), r#"{"action":"B","xid":7,"lsn":"0/20","nextlsn":"0/28"}"#);
        out.clear();
        commit(&mut out, &o, &txn, 0x21);
        assert_eq!(s(&out), r#"{"action":"C","xid":7,"lsn":"0/21","nextlsn":"0/28"}"#);
        out.clear();
        message(&mut out, &o, None, 0x30, b"p", b"c\"", true);
        assert_eq!(
            s(&out),
            r#"{"action":"M","xid":null,"lsn":"0/30","transactional":false,"prefix":"p","content":"c\""}"#
        );
        out.clear();
        truncate(&mut out, &o, &txn, 0x40, &rel());
        assert_eq!(s(&out), r#"{"action":"T","xid":7,"lsn":"0/40","schema":"public","table":"t"}"#);
        let quiet = Options { format_version: 2, include_transaction: false, ..Options::default() };
        out.clear();
        assert!(!begin(&mut out, &quiet, &txn));
        assert!(out.is_empty());
    }
}
