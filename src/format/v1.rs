//! wal2json format version 1: one JSON document per transaction,
//! `{"change":[...]}`, compact or pretty-printed, written whole at commit or,
//! with write-in-chunks, as one message for the opening, one per entry and one
//! for the closing.
//!
//! The emitter writes the pieces; the caller decides where they go (appended
//! to the transaction's document, or sent as chunks). Whitespace, key order
//! and comma placement are wal2json's: in pretty mode the comma between two
//! entries starts the later entry (`\n\t\t,{`).

use super::{Cell, Change, ChangeKind, ColumnMeta, RelMeta, Render, Row, Skipped, TxnInfo};
use crate::json;
use crate::options::Options;

/// wal2json's layout: pretty-print adds newlines, tabs and a space after
/// `:` and `,`; compact adds nothing (tested once per piece rather than
/// copying empty strings).
#[derive(Clone, Copy)]
struct Ws {
    pretty: bool,
}

impl Ws {
    fn nl(self, out: &mut Vec<u8>) {
        if self.pretty {
            out.push(b'\n');
        }
    }

    fn sp(self, out: &mut Vec<u8>) {
        if self.pretty {
            out.push(b' ');
        }
    }
}

fn ws(o: &Options) -> Ws {
    Ws { pretty: o.pretty_print }
}

fn tabs(out: &mut Vec<u8>, w: &Ws, n: usize) {
    if w.pretty {
        out.extend(std::iter::repeat_n(b'\t', n));
    }
}

/// `<tabs>"key":<sp>`
fn key(out: &mut Vec<u8>, w: &Ws, depth: usize, k: &[u8]) {
    tabs(out, w, depth);
    out.push(b'"');
    out.extend_from_slice(k);
    out.extend_from_slice(b"\":");
    w.sp(out);
}

/// The opening of a transaction's document, up to and including `[`.
pub fn begin(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo) {
    let w = ws(o);
    out.push(b'{');
    w.nl(out);
    if o.include_xids {
        key(out, &w, 1, b"xid");
        json::push_u64(out, txn.xid as u64);
        line_end(out, &w, true);
    }
    if o.include_lsn {
        key(out, &w, 1, b"nextlsn");
        out.push(b'"');
        json::push_lsn(out, txn.end_lsn);
        out.push(b'"');
        line_end(out, &w, true);
    }
    if o.include_timestamp {
        key(out, &w, 1, b"timestamp");
        json::string(out, &txn.timestamp);
        line_end(out, &w, true);
    }
    if o.include_origin {
        key(out, &w, 1, b"origin");
        json::push_u64(out, txn.origin as u64);
        line_end(out, &w, true);
    }
    key(out, &w, 1, b"change");
    out.push(b'[');
}

/// The closing of a transaction's document.
pub fn commit(out: &mut Vec<u8>, o: &Options) {
    let w = ws(o);
    if !o.write_in_chunks {
        w.nl(out);
    }
    tabs(out, &w, 1);
    out.push(b']');
    w.nl(out);
    out.push(b'}');
}

/// What starts every entry: a newline (when the document is written whole),
/// two tabs, a comma from the second entry on, `{`.
fn entry_start(out: &mut Vec<u8>, o: &Options, w: &Ws, entry_no: u64) {
    if !o.write_in_chunks {
        w.nl(out);
    }
    tabs(out, w, 2);
    if entry_no > 1 {
        out.push(b',');
    }
    out.push(b'{');
    w.nl(out);
}

fn kind_and_table(out: &mut Vec<u8>, o: &Options, w: &Ws, kind: &[u8], rel: &RelMeta, comma_after_table: bool) {
    key(out, w, 3, b"kind");
    out.push(b'"');
    out.extend_from_slice(kind);
    out.extend_from_slice(b"\",");
    w.nl(out);
    if o.include_schemas {
        key(out, w, 3, b"schema");
        out.extend_from_slice(&rel.schema);
        out.push(b',');
        w.nl(out);
    }
    key(out, w, 3, b"table");
    out.extend_from_slice(&rel.table);
    if comma_after_table {
        out.push(b',');
    }
    w.nl(out);
}

/// Type name and OID as format version 1 prints them: with include-typmod the
/// `format_type` name, without it the raw `typname`; with
/// include-domain-data-type (and include-types) a domain's base type.
pub fn column_type<'a>(o: &Options, c: &'a ColumnMeta) -> (&'a [u8], u32) {
    if o.include_types && o.include_domain_data_type {
        if let (Some(base_oid), Some(base_name), Some(base_typname)) =
            (c.base_typeoid, &c.base_type_name, &c.base_typname)
        {
            return (if o.include_typmod { base_name } else { base_typname }, base_oid);
        }
    }
    (if o.include_typmod { &c.type_name } else { &c.typname }, c.typeoid)
}

/// True when values of domain columns are rendered as their base type
/// (format version 1 with include-types and include-domain-data-type).
pub fn domains_as_base(o: &Options) -> bool {
    o.format_version == 1 && o.include_types && o.include_domain_data_type
}

/// One `"name":<sp>[a,<sp>b]` array over the selected columns.
fn array<'a, I, F>(out: &mut Vec<u8>, w: &Ws, depth: usize, name: &[u8], cols: I, mut item: F)
where
    I: Iterator<Item = (&'a ColumnMeta, Cell)>,
    F: FnMut(&mut Vec<u8>, &'a ColumnMeta, Cell),
{
    key(out, w, depth, name);
    list(out, w, cols, |out, (c, cell)| item(out, c, cell));
}

/// `[a,<sp>b]`: one item per element.
fn list<T>(out: &mut Vec<u8>, w: &Ws, items: impl Iterator<Item = T>, mut item: impl FnMut(&mut Vec<u8>, T)) {
    out.push(b'[');
    for (i, x) in items.enumerate() {
        if i > 0 {
            out.push(b',');
            w.sp(out);
        }
        item(out, x);
    }
    out.push(b']');
}

fn line_end(out: &mut Vec<u8>, w: &Ws, comma: bool) {
    if comma {
        out.push(b',');
    }
    w.nl(out);
}

/// The names, [types] and [type OIDs] arrays that columns and oldkeys share,
/// each line ending with a comma (the values array follows).
fn names_types_oids<'a, I, F>(out: &mut Vec<u8>, o: &Options, w: &Ws, depth: usize, keys: [&[u8]; 3], sel: F)
where
    I: Iterator<Item = (&'a ColumnMeta, Cell)>,
    F: Fn() -> I,
{
    array(out, w, depth, keys[0], sel(), |out, c, _| out.extend_from_slice(&c.name));
    line_end(out, w, true);
    if o.include_types {
        array(out, w, depth, keys[1], sel(), |out, c, _| out.extend_from_slice(&c.out.token));
        line_end(out, w, true);
    }
    if o.include_type_oids {
        array(out, w, depth, keys[2], sel(), |out, c, _| json::push_u64(out, c.out.oid as u64));
        line_end(out, w, true);
    }
}

/// What precedes a row's values in format version 1, the same for every row
/// of a relation in which no column is left out, so built once per relation
/// (see `RelMeta::resolve_output`).
#[derive(Debug, Clone, Default)]
pub struct Heads {
    /// `columnnames` .. `columndefaults` over all columns, up to `"columnvalues":`.
    pub columns: Vec<u8>,
    /// `keynames` .. `keytypeoids` over the replica identity index's columns.
    pub identity_keys: Vec<u8>,
    /// The same over all columns (REPLICA IDENTITY FULL, or no index).
    pub all_keys: Vec<u8>,
}

pub fn heads(o: &Options, rel: &RelMeta) -> Heads {
    let w = ws(o);
    let all = || rel.columns.iter().map(|c| (c, Cell::Null));
    let mut h = Heads::default();
    columns_head(&mut h.columns, o, &w, all);
    key(&mut h.columns, &w, 3, b"columnvalues");
    names_types_oids(&mut h.identity_keys, o, &w, 4, KEY_ARRAYS, || {
        rel.columns.iter().filter(|c| c.in_identity).map(|c| (c, Cell::Null))
    });
    key(&mut h.identity_keys, &w, 4, b"keyvalues");
    names_types_oids(&mut h.all_keys, o, &w, 4, KEY_ARRAYS, all);
    key(&mut h.all_keys, &w, 4, b"keyvalues");
    h
}

const KEY_ARRAYS: [&[u8]; 3] = [b"keynames", b"keytypes", b"keytypeoids"];

/// The arrays before `columnvalues`.
fn columns_head<'a, I, F>(out: &mut Vec<u8>, o: &Options, w: &Ws, sel: F)
where
    I: Iterator<Item = (&'a ColumnMeta, Cell)>,
    F: Fn() -> I,
{
    names_types_oids(out, o, w, 3, [b"columnnames", b"columntypes", b"columntypeoids"], &sel);
    if o.include_column_positions {
        array(out, w, 3, b"columnpositions", sel(), |out, c, _| json::push_i64(out, c.attnum as i64));
        line_end(out, w, true);
    }
    if o.include_not_null {
        // wal2json (up to 2.6) fills this array only when include-types is on.
        let cols = sel().filter(|_| o.include_types);
        array(out, w, 3, b"columnoptionals", cols, |out, c, _| {
            out.extend_from_slice(if c.not_null { b"false" } else { b"true" })
        });
        line_end(out, w, true);
    }
    if o.include_default {
        array(out, w, 3, b"columndefaults", sel(), |out, c, _| match &c.default {
            Some(d) => out.extend_from_slice(d),
            None => out.extend_from_slice(b"null"),
        });
        line_end(out, w, true);
    }
}

/// columnnames, columntypes, ..., columnvalues of the new row.
fn columns<R: Render>(out: &mut Vec<u8>, o: &Options, w: &Ws, rel: &RelMeta, row: Row<'_, R>, comma_after: bool) {
    let sel = || rel.columns.iter().zip(row.cells.iter().copied()).filter(|(_, cell)| *cell != Cell::Unchanged);
    if !rel.v1_heads.columns.is_empty() && !row.cells.contains(&Cell::Unchanged) {
        json::append(out, &rel.v1_heads.columns);
    } else {
        columns_head(out, o, w, sel);
        key(out, w, 3, b"columnvalues");
    }
    list(out, w, sel(), |out, (_, cell)| row.write(out, cell));
    line_end(out, w, comma_after);
}

/// The `oldkeys` object: the selected columns of `row` that are not NULL.
fn oldkeys<R: Render>(
    out: &mut Vec<u8>,
    o: &Options,
    w: &Ws,
    rel: &RelMeta,
    row: Row<'_, R>,
    index_columns_only: bool,
) {
    let identity_only = index_columns_only && rel.has_identity_index;
    let member = |c: &ColumnMeta| !identity_only || c.in_identity;
    let sel = || {
        rel.columns
            .iter()
            .zip(row.cells.iter().copied())
            .filter(move |(c, cell)| member(c) && *cell != Cell::Null && *cell != Cell::Unchanged)
    };
    key(out, w, 3, b"oldkeys");
    out.push(b'{');
    w.nl(out);
    // Every member present: the relation's precomputed arrays apply.
    let head = if identity_only { &rel.v1_heads.identity_keys } else { &rel.v1_heads.all_keys };
    let complete = rel.columns.iter().zip(row.cells).all(|(c, cell)| !member(c) || matches!(cell, Cell::Value(_)));
    if !head.is_empty() && complete {
        json::append(out, head);
    } else {
        names_types_oids(out, o, w, 4, KEY_ARRAYS, sel);
        key(out, w, 4, b"keyvalues");
    }
    list(out, w, sel(), |out, (_, cell)| row.write(out, cell));
    line_end(out, w, false);
    tabs(out, w, 3);
    out.push(b'}');
    w.nl(out);
}

/// The `pk` object: names and types of the primary-key columns.
fn pk(out: &mut Vec<u8>, o: &Options, w: &Ws, rel: &RelMeta, comma_after: bool) {
    let sel = || rel.columns.iter().filter(|c| c.in_pk).map(|c| (c, Cell::Null));
    key(out, w, 3, b"pk");
    out.push(b'{');
    w.nl(out);
    array(out, w, 4, b"pknames", sel(), |out, c, _| out.extend_from_slice(&c.name));
    line_end(out, w, true);
    // wal2json writes any pk type name starting with a quote verbatim, arrays included.
    array(out, w, 4, b"pktypes", sel().filter(|_| o.include_types), |out, c, _| out.extend_from_slice(&c.out.pk_token));
    line_end(out, w, false);
    tabs(out, w, 3);
    out.push(b'}');
    line_end(out, w, comma_after);
}

fn table_name(rel: &RelMeta) -> String {
    String::from_utf8_lossy(&rel.raw_table).into_owned()
}

/// One insert/update/delete entry. `entries` counts the entries written in
/// this transaction so far (it decides the comma) and is advanced here.
pub fn change<R: Render>(out: &mut Vec<u8>, o: &Options, entries: &mut u64, c: &Change<'_, R>) -> Result<(), Skipped> {
    let rel = c.rel;
    let identity_known = rel.has_identity_index || rel.replident_full;
    match c.kind {
        ChangeKind::Insert if c.new.is_none() => {
            return Err(Skipped(format!("no tuple data for INSERT in table \"{}\"", table_name(rel))))
        }
        ChangeKind::Update | ChangeKind::Delete if !identity_known => {
            return Err(Skipped(format!(
                "table \"{}\" without primary key or replica identity is nothing",
                table_name(rel)
            )))
        }
        ChangeKind::Update if c.new.is_none() => {
            return Err(Skipped(format!("no tuple data for UPDATE in table \"{}\"", table_name(rel))))
        }
        ChangeKind::Delete if c.old.is_none() => {
            return Err(Skipped(format!("no tuple data for DELETE in table \"{}\"", table_name(rel))))
        }
        _ => {}
    }
    let w = ws(o);
    *entries += 1;
    entry_start(out, o, &w, *entries);
    let kind: &[u8] = match c.kind {
        ChangeKind::Insert => b"insert",
        ChangeKind::Update => b"update",
        ChangeKind::Delete => b"delete",
    };
    kind_and_table(out, o, &w, kind, rel, true);
    // wal2json 2.5 prints the pk object only for REPLICA IDENTITY DEFAULT
    // with a primary key (2.6 prints it for any table with one).
    let with_pk = o.include_pk && rel.has_identity_index && rel.replident_default;
    match (c.kind, c.new, c.old) {
        (ChangeKind::Insert, Some(new), _) => {
            columns(out, o, &w, rel, new, with_pk);
            if with_pk {
                pk(out, o, &w, rel, false);
            }
        }
        (ChangeKind::Update, Some(new), old) => {
            columns(out, o, &w, rel, new, true);
            if with_pk {
                pk(out, o, &w, rel, true);
            }
            match old {
                // The key did not change: it is read from the new row.
                None => oldkeys(out, o, &w, rel, new, true),
                Some(old) => oldkeys(out, o, &w, rel, old, false),
            }
        }
        (ChangeKind::Delete, _, Some(old)) => {
            if with_pk {
                pk(out, o, &w, rel, true);
            }
            oldkeys(out, o, &w, rel, old, true);
        }
        _ => unreachable!("checked above"),
    }
    tabs(out, &w, 2);
    out.push(b'}');
    Ok(())
}

/// A TRUNCATE entry (only with waljson's include-truncate option: wal2json
/// never writes TRUNCATE in format version 1).
pub fn truncate(out: &mut Vec<u8>, o: &Options, entries: &mut u64, rel: &RelMeta) {
    let w = ws(o);
    *entries += 1;
    entry_start(out, o, &w, *entries);
    kind_and_table(out, o, &w, b"truncate", rel, false);
    tabs(out, &w, 2);
    out.push(b'}');
}

/// A logical message. A transactional one is an entry of its transaction's
/// document; a non-transactional one is a whole document of its own (with no
/// comma: wal2json 2.5 could write `[,{` here, fixed in 2.6).
pub fn message(
    out: &mut Vec<u8>,
    o: &Options,
    entries: &mut u64,
    transactional: bool,
    prefix: &[u8],
    content: &[u8],
    utf8_db: bool,
) {
    let w = ws(o);
    if transactional {
        *entries += 1;
        if !o.write_in_chunks {
            w.nl(out);
        }
    } else {
        out.push(b'{');
        w.nl(out);
        key(out, &w, 1, b"change");
        out.push(b'[');
        w.nl(out);
    }
    tabs(out, &w, 2);
    if transactional && *entries > 1 {
        out.push(b',');
    }
    out.push(b'{');
    w.nl(out);
    key(out, &w, 3, b"kind");
    out.extend_from_slice(b"\"message\",");
    w.nl(out);
    key(out, &w, 3, b"transactional");
    out.extend_from_slice(if transactional { b"true," } else { b"false," });
    w.nl(out);
    key(out, &w, 3, b"prefix");
    json::string(out, prefix);
    out.push(b',');
    w.nl(out);
    key(out, &w, 3, b"content");
    json::message_content(out, o.message_content, content, utf8_db);
    w.nl(out);
    tabs(out, &w, 2);
    out.push(b'}');
    if !transactional {
        w.nl(out);
        tabs(out, &w, 1);
        out.push(b']');
        w.nl(out);
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Tokens;

    fn col(name: &str, ty: &str, typname: &str, oid: u32, attnum: i16) -> ColumnMeta {
        ColumnMeta {
            name: json::string_owned(name.as_bytes()),
            type_name: ty.into(),
            typname: typname.into(),
            typeoid: oid,
            attnum,
            ..Default::default()
        }
    }

    fn rel() -> RelMeta {
        let mut a = col("a", "smallint", "int2", 21, 1);
        a.in_identity = true;
        a.in_pk = true;
        a.not_null = true;
        let b = col("b", "integer", "int4", 23, 2);
        let mut c = col("c", "boolean", "bool", 16, 3);
        c.not_null = true;
        RelMeta {
            raw_schema: b"public".to_vec(),
            raw_table: b"table_optional".to_vec(),
            schema: json::string_owned(b"public"),
            table: json::string_owned(b"table_optional"),
            columns: vec![a, b, c],
            has_identity_index: true,
            has_pk: true,
            replident_full: false,
            replident_default: true,
            ..Default::default()
        }
    }

    /// A change of `rel` whose rows' values are TOKENS.
    fn change_of<'a>(
        kind: ChangeKind,
        rel: &'a RelMeta,
        new: Option<&'a [Cell]>,
        old: Option<&'a [Cell]>,
    ) -> Change<'a, Tokens> {
        let row = |cells| Row { cells, render: &TOKENS };
        Change { kind, lsn: 0, rel, new: new.map(row), old: old.map(row) }
    }

    fn s(v: &[u8]) -> String {
        String::from_utf8(v.to_vec()).unwrap()
    }

    const TOKENS: Tokens = Tokens(&["1", "123", "true"]);

    #[test]
    fn wal2json_cmdline_example() {
        // expected/cmdline.out, options include-xids=0, include-not-null=1
        let o = Options { include_not_null: true, ..Options::default() };
        let mut r = rel();
        r.resolve_output(&o);
        let new = vec![Cell::Value(0), Cell::Null, Cell::Value(2)];
        let mut out = Vec::new();
        let mut n = 0;
        begin(&mut out, &o, &TxnInfo::default());
        let c = change_of(ChangeKind::Insert, &r, Some(&new), None);
        change(&mut out, &o, &mut n, &c).unwrap();
        commit(&mut out, &o);
        assert_eq!(
            s(&out),
            r#"{"change":[{"kind":"insert","schema":"public","table":"table_optional","columnnames":["a","b","c"],"columntypes":["smallint","integer","boolean"],"columnoptionals":[false,true,false],"columnvalues":[1,null,true]}]}"#
        );
        out.clear();
        let new = vec![Cell::Value(0), Cell::Value(1), Cell::Value(2)];
        n = 0;
        begin(&mut out, &o, &TxnInfo::default());
        let c = change_of(ChangeKind::Update, &r, Some(&new), None);
        change(&mut out, &o, &mut n, &c).unwrap();
        let old = vec![Cell::Value(0), Cell::Null, Cell::Null];
        let d = change_of(ChangeKind::Delete, &r, None, Some(&old));
        change(&mut out, &o, &mut n, &d).unwrap();
        commit(&mut out, &o);
        assert_eq!(
            s(&out),
            concat!(
                r#"{"change":[{"kind":"update","schema":"public","table":"table_optional","columnnames":["a","b","c"],"columntypes":["smallint","integer","boolean"],"columnoptionals":[false,true,false],"columnvalues":[1,123,true],"oldkeys":{"keynames":["a"],"keytypes":["smallint"],"keyvalues":[1]}}"#,
                r#",{"kind":"delete","schema":"public","table":"table_optional","oldkeys":{"keynames":["a"],"keytypes":["smallint"],"keyvalues":[1]}}]}"#
            )
        );
    }

    #[test]
    fn precomputed_heads_equal_the_arrays_built_per_row() {
        let rows: [&[Cell]; 4] = [
            &[Cell::Value(0), Cell::Value(1), Cell::Value(2)],
            &[Cell::Value(0), Cell::Null, Cell::Value(2)],
            &[Cell::Value(0), Cell::Unchanged, Cell::Value(2)],
            &[Cell::Null, Cell::Value(1), Cell::Unchanged],
        ];
        let mut checked = 0;
        for bits in 0..128u32 {
            let on = |k: u32| bits & (1 << k) != 0;
            let o = Options {
                pretty_print: on(0),
                include_types: on(1),
                include_type_oids: on(2),
                include_column_positions: on(3),
                include_not_null: on(4),
                include_default: on(5),
                include_typmod: on(6),
                include_pk: true,
                ..Options::default()
            };
            for full in [false, true] {
                let mut with = rel();
                with.columns[1].default = Some(json::string_owned(b"42"));
                with.has_identity_index = !full;
                with.replident_full = full;
                with.resolve_output(&o);
                assert!(!with.v1_heads.columns.is_empty());
                let without = RelMeta { v1_heads: Heads::default(), ..with.clone() };
                for kind in [ChangeKind::Insert, ChangeKind::Update, ChangeKind::Delete] {
                    for new in rows {
                        for old in [None, Some(rows[0]), Some(rows[1]), Some(rows[3])] {
                            let new = (kind != ChangeKind::Delete).then_some(new);
                            let (mut a, mut b, mut n) = (Vec::new(), Vec::new(), 0);
                            let ra = change(&mut a, &o, &mut n, &change_of(kind, &with, new, old));
                            let rb = change(&mut b, &o, &mut n, &change_of(kind, &without, new, old));
                            assert_eq!(ra, rb);
                            assert_eq!(s(&a), s(&b).replacen(",{", "{", 1), "options {bits:b}, full {full}, {kind:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 1000);
    }

    #[test]
    fn pretty_with_pk_and_chunks() {
        let o = Options { pretty_print: true, include_pk: true, include_typmod: false, ..Options::default() };
        let mut r = rel();
        r.resolve_output(&o);
        let new = vec![Cell::Value(0), Cell::Value(1), Cell::Value(2)];
        let mut out = Vec::new();
        let mut n = 0;
        begin(&mut out, &o, &TxnInfo { xid: 5, ..Default::default() });
        let c = change_of(ChangeKind::Update, &r, Some(&new), None);
        change(&mut out, &o, &mut n, &c).unwrap();
        change(&mut out, &o, &mut n, &c).unwrap();
        commit(&mut out, &o);
        let entry = "\t\t\t\"kind\": \"update\",\n\t\t\t\"schema\": \"public\",\n\t\t\t\"table\": \"table_optional\",\n\t\t\t\"columnnames\": [\"a\", \"b\", \"c\"],\n\t\t\t\"columntypes\": [\"int2\", \"int4\", \"bool\"],\n\t\t\t\"columnvalues\": [1, 123, true],\n\t\t\t\"pk\": {\n\t\t\t\t\"pknames\": [\"a\"],\n\t\t\t\t\"pktypes\": [\"int2\"]\n\t\t\t},\n\t\t\t\"oldkeys\": {\n\t\t\t\t\"keynames\": [\"a\"],\n\t\t\t\t\"keytypes\": [\"int2\"],\n\t\t\t\t\"keyvalues\": [1]\n\t\t\t}\n\t\t}";
        assert_eq!(s(&out), format!("{{\n\t\"change\": [\n\t\t{{\n{entry}\n\t\t,{{\n{entry}\n\t]\n}}"));

        // chunks: no newline before entries or the closing
        let o = Options { write_in_chunks: true, include_xids: true, ..Options::default() };
        let mut r = rel();
        r.resolve_output(&o);
        let c = Change { rel: &r, ..c };
        let mut parts = Vec::new();
        let mut buf = Vec::new();
        begin(&mut buf, &o, &TxnInfo { xid: 5, ..Default::default() });
        parts.push(s(&buf));
        n = 0;
        for _ in 0..2 {
            buf.clear();
            change(&mut buf, &o, &mut n, &c).unwrap();
            parts.push(s(&buf));
        }
        buf.clear();
        commit(&mut buf, &o);
        parts.push(s(&buf));
        assert_eq!(parts[0], r#"{"xid":5,"change":["#);
        assert!(parts[1].starts_with(r#"{"kind":"update""#));
        assert!(parts[2].starts_with(r#",{"kind":"update""#));
        assert_eq!(parts[3], "]}");
    }

    #[test]
    fn messages_and_empty_transactions() {
        let o = Options::default();
        let mut out = Vec::new();
        let mut n = 3;
        message(&mut out, &o, &mut n, false, b"wal2json", b"this is \"another\" message", true);
        assert_eq!(
            s(&out),
            r#"{"change":[{"kind":"message","transactional":false,"prefix":"wal2json","content":"this is \"another\" message"}]}"#
        );
        assert_eq!(n, 3);
        out.clear();
        begin(&mut out, &o, &TxnInfo::default());
        commit(&mut out, &o);
        assert_eq!(s(&out), r#"{"change":[]}"#);
        let p = Options { pretty_print: true, ..Options::default() };
        out.clear();
        begin(&mut out, &p, &TxnInfo::default());
        commit(&mut out, &p);
        assert_eq!(s(&out), "{\n\t\"change\": [\n\t]\n}");
    }

    #[test]
    fn skipped_without_identity() {
        let o = Options::default();
        let mut r = rel();
        r.has_identity_index = false;
        let old = vec![Cell::Null, Cell::Null, Cell::Null];
        let d = change_of(ChangeKind::Delete, &r, None, Some(&old));
        let mut n = 0;
        let mut out = Vec::new();
        assert_eq!(
            change(&mut out, &o, &mut n, &d),
            Err(Skipped("table \"table_optional\" without primary key or replica identity is nothing".into()))
        );
        assert_eq!(n, 0);
        assert!(out.is_empty());
    }
}
