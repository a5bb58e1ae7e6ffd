//! wal2json format version 1: one JSON document per transaction,
//! `{"change":[...]}`, compact or pretty-printed, written whole at commit or,
//! with write-in-chunks, as one message for the opening, one per entry and one
//! for the closing.
//!
//! The document is one message built over the transaction's callbacks
//! (opened at begin, appended to by each entry, closed at commit), or with
//! write-in-chunks one message per piece. Whitespace, key order and comma
//! placement are wal2json's: in pretty mode the comma between two entries
//! starts the later entry (`\n\t\t,{`).

use super::value::Wal2json;
use super::{
    Cell, Change, ChangeKind, ColumnMeta, Env, Format, Message, Oversize, Piece, RelMeta, Render, Row, Sink, Skipped,
    Txn, TxnEvent, TxnInfo,
};
use crate::json::{self, MessageContent};
use crate::options::ErrorKind;
use crate::options::{OptionError, Options};

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

/// The format-version 1 writer for a session.
pub struct V1 {
    o: Options,
    style: Wal2json,
    utf8_db: bool,
}

/// The document of a transaction past PostgreSQL's 1 GB message limit.
static DOCUMENT: Oversize = Oversize {
    what: "the format-version 1 document of this transaction",
    hint: "Use write-in-chunks=1 (one message per change) or format-version=2 for transactions this large.",
};

/// A column's type as format version 1 prints it, resolved once per relation.
#[derive(Debug, Clone, Default)]
pub struct TypeOut {
    /// JSON token in `columntypes` and `keytypes`.
    pub token: Vec<u8>,
    /// JSON token in `pktypes` (wal2json quotes those by a looser rule).
    pub pk_token: Vec<u8>,
    /// Printed with include-type-oids.
    pub oid: u32,
}

/// What format version 1 precomputes per relation.
#[derive(Debug, Clone, Default)]
pub struct Rel {
    /// One per live column.
    pub types: Vec<TypeOut>,
    pub heads: Heads,
}

impl Format for V1 {
    type Rel = Rel;
    /// Entries written in the transaction's document so far (decides commas).
    type Txn = u64;
    type Style = Wal2json;

    fn new(o: &Options, env: &Env) -> Result<V1, OptionError> {
        if o.stream_changes {
            return Err(OptionError {
                kind: ErrorKind::InvalidParameterValue,
                message: "waljson: stream-changes cannot be used with format-version 1".into(),
                hint: Some(
                    "Format version 1 writes each transaction as one document; use format-version 2 or 3 to stream transactions."
                        .into(),
                ),
            });
        }
        // Values of domain columns print as their base type when the base
        // type is what columntypes shows.
        let domains_as_base = o.include_types && o.include_domain_data_type;
        Ok(V1 {
            o: o.clone(),
            style: Wal2json { numbers_as_string: o.numeric_data_types_as_string, domains_as_base },
            utf8_db: env.utf8_db,
        })
    }

    fn style(&self) -> &Wal2json {
        &self.style
    }

    fn relation(&self, rel: &RelMeta) -> Rel {
        let types = rel
            .columns
            .iter()
            .map(|c| {
                let (name, oid) = column_type(&self.o, c);
                let mut t = TypeOut { oid, ..TypeOut::default() };
                json::type_name(&mut t.token, name, false);
                json::type_name(&mut t.pk_token, name, true);
                t
            })
            .collect();
        let mut r = Rel { types, heads: Heads::default() };
        r.heads = heads(&self.o, rel, &r.types);
        r
    }

    fn begin(&self, sink: &mut impl Sink, txn: &mut Txn<u64>) {
        txn.fmt = 0;
        begin(sink.buf(), &self.o, &txn.info);
        sink.send(if self.o.write_in_chunks { Piece::Whole } else { Piece::Open(&DOCUMENT) });
    }

    fn commit(&self, sink: &mut impl Sink, _txn: &mut Txn<u64>, _commit_lsn: u64) {
        commit(sink.buf(), &self.o);
        sink.send(if self.o.write_in_chunks { Piece::Whole } else { Piece::Close });
    }

    /// Snapshot rows are entries of `{"change":[..]}` documents, as a
    /// transaction's changes (the snapshot's options leave the
    /// transaction's keys out).
    fn snapshot_open(&self, sink: &mut impl Sink, txn: &mut Txn<u64>) {
        self.begin(sink, txn);
    }

    fn snapshot_close(&self, sink: &mut impl Sink, txn: &mut Txn<u64>) {
        self.commit(sink, txn, 0);
    }

    fn change<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<u64>,
        c: &Change<'_, R>,
        rel: &Rel,
    ) -> Result<Option<String>, Skipped> {
        skip_reason(c)?;
        change(sink.buf(), &self.o, &mut txn.fmt, c, rel);
        sink.send(self.entry_piece());
        Ok(None)
    }

    /// wal2json never writes TRUNCATE in format version 1; waljson's
    /// include-truncate opts in.
    fn writes_truncate(&self) -> bool {
        self.o.include_truncate
    }

    fn truncate(&self, sink: &mut impl Sink, txn: &mut Txn<u64>, _lsn: u64, rel: &RelMeta, _fmt: &Rel) {
        truncate(sink.buf(), &self.o, &mut txn.fmt, rel);
        sink.send(self.entry_piece());
    }

    const STREAMS: bool = false;

    /// Never called: streaming is refused with format 1 (`V1::new`) and the
    /// callbacks turn two-phase decoding off for it (prepared transactions
    /// are then decoded at COMMIT PREPARED, as ordinary ones).
    fn txn_event(&self, _sink: &mut impl Sink, _txn: &mut Txn<u64>, event: TxnEvent) {
        unreachable!("waljson: format-version 1 writes no {event:?} event")
    }

    fn message(&self, sink: &mut impl Sink, txn: Option<&mut Txn<u64>>, m: &Message<'_>) {
        let mut none = 0;
        let entries = match txn {
            Some(t) if m.transactional => &mut t.fmt,
            _ => &mut none,
        };
        message(sink.buf(), &self.o, entries, m.transactional, m.prefix, m.content, self.utf8_db);
        // A non-transactional message is a document of its own.
        sink.send(if m.transactional { self.entry_piece() } else { Piece::Whole });
    }
}

impl V1 {
    /// Where an entry goes: its own message with write-in-chunks, else
    /// appended to the transaction's document.
    fn entry_piece(&self) -> Piece {
        if self.o.write_in_chunks {
            Piece::Whole
        } else {
            Piece::Append
        }
    }
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

fn ws(o: &Options) -> Ws {
    Ws { pretty: o.pretty_print }
}

/// The opening of a transaction's document, up to and including `[`.
fn begin(out: &mut Vec<u8>, o: &Options, txn: &TxnInfo) {
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
fn commit(out: &mut Vec<u8>, o: &Options) {
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
fn column_type<'a>(o: &Options, c: &'a ColumnMeta) -> (&'a [u8], u32) {
    if o.include_types && o.include_domain_data_type {
        if let (Some(base_oid), Some(base_name), Some(base_typname)) =
            (c.base_typeoid, &c.base_type_name, &c.base_typname)
        {
            return (if o.include_typmod { base_name } else { base_typname }, base_oid);
        }
    }
    (if o.include_typmod { &c.type_name } else { &c.typname }, c.typeoid)
}

/// A column as the arrays print it: its metadata, its printed type, its cell.
type Col<'a> = (&'a ColumnMeta, &'a TypeOut, Cell);

/// The columns of `rel` with their printed types, each with `cell`.
fn all_columns<'a>(rel: &'a RelMeta, types: &'a [TypeOut]) -> impl Iterator<Item = Col<'a>> + Clone {
    rel.columns.iter().zip(types).map(|(c, t)| (c, t, Cell::Null))
}

/// One `"name":<sp>[a,<sp>b]` array over the selected columns.
fn array<'a, I, F>(out: &mut Vec<u8>, w: &Ws, depth: usize, name: &[u8], cols: I, mut item: F)
where
    I: Iterator<Item = Col<'a>>,
    F: FnMut(&mut Vec<u8>, Col<'a>),
{
    key(out, w, depth, name);
    list(out, w, cols, |out, col| item(out, col));
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
    I: Iterator<Item = Col<'a>>,
    F: Fn() -> I,
{
    array(out, w, depth, keys[0], sel(), |out, (c, _, _)| out.extend_from_slice(&c.name));
    line_end(out, w, true);
    if o.include_types {
        array(out, w, depth, keys[1], sel(), |out, (_, t, _)| out.extend_from_slice(&t.token));
        line_end(out, w, true);
    }
    if o.include_type_oids {
        array(out, w, depth, keys[2], sel(), |out, (_, t, _)| json::push_u64(out, t.oid as u64));
        line_end(out, w, true);
    }
}

/// What precedes a row's values in format version 1, the same for every row
/// of a relation in which no column is left out, so built once per relation
/// (see `Format::relation`).
#[derive(Debug, Clone, Default)]
pub struct Heads {
    /// `columnnames` .. `columndefaults` over all columns, up to `"columnvalues":`.
    pub columns: Vec<u8>,
    /// `keynames` .. `keytypeoids` over the replica identity index's columns.
    pub identity_keys: Vec<u8>,
    /// The same over all columns (REPLICA IDENTITY FULL, or no index).
    pub all_keys: Vec<u8>,
}

fn heads(o: &Options, rel: &RelMeta, types: &[TypeOut]) -> Heads {
    let w = ws(o);
    let all = || all_columns(rel, types);
    let mut h = Heads::default();
    columns_head(&mut h.columns, o, &w, all);
    key(&mut h.columns, &w, 3, b"columnvalues");
    names_types_oids(&mut h.identity_keys, o, &w, 4, KEY_ARRAYS, || all().filter(|(c, _, _)| c.in_identity));
    key(&mut h.identity_keys, &w, 4, b"keyvalues");
    names_types_oids(&mut h.all_keys, o, &w, 4, KEY_ARRAYS, all);
    key(&mut h.all_keys, &w, 4, b"keyvalues");
    h
}

const KEY_ARRAYS: [&[u8]; 3] = [b"keynames", b"keytypes", b"keytypeoids"];

/// The arrays before `columnvalues`.
fn columns_head<'a, I, F>(out: &mut Vec<u8>, o: &Options, w: &Ws, sel: F)
where
    I: Iterator<Item = Col<'a>>,
    F: Fn() -> I,
{
    names_types_oids(out, o, w, 3, [b"columnnames", b"columntypes", b"columntypeoids"], &sel);
    if o.include_column_positions {
        array(out, w, 3, b"columnpositions", sel(), |out, (c, _, _)| json::push_i64(out, c.attnum as i64));
        line_end(out, w, true);
    }
    if o.include_not_null {
        // wal2json (up to 2.6) fills this array only when include-types is on.
        let cols = sel().filter(|_| o.include_types);
        array(out, w, 3, b"columnoptionals", cols, |out, (c, _, _)| {
            out.extend_from_slice(if c.not_null { b"false" } else { b"true" })
        });
        line_end(out, w, true);
    }
    if o.include_default {
        array(out, w, 3, b"columndefaults", sel(), |out, (c, _, _)| match &c.default {
            Some(d) => out.extend_from_slice(d),
            None => out.extend_from_slice(b"null"),
        });
        line_end(out, w, true);
    }
}

/// The selected columns of a row with their printed types and cells,
/// leaving out unchanged TOAST columns.
fn row_columns<'a, R: Render>(
    rel: &'a RelMeta,
    types: &'a [TypeOut],
    row: Row<'a, R>,
    member: impl Fn(&ColumnMeta, Cell) -> bool + Copy + 'a,
) -> impl Iterator<Item = Col<'a>> {
    rel.columns
        .iter()
        .zip(types)
        .zip(row.cells.iter().copied())
        .map(|((c, t), cell)| (c, t, cell))
        .filter(move |&(c, _, cell)| cell != Cell::Unchanged && member(c, cell))
}

/// columnnames, columntypes, ..., columnvalues of the new row.
fn columns<R: Render>(
    out: &mut Vec<u8>,
    o: &Options,
    w: &Ws,
    rel: &RelMeta,
    fmt: &Rel,
    row: Row<'_, R>,
    comma_after: bool,
) {
    let sel = || row_columns(rel, &fmt.types, row, |_, _| true);
    if !fmt.heads.columns.is_empty() && !row.cells.contains(&Cell::Unchanged) {
        json::push_bytes(out, &fmt.heads.columns);
    } else {
        columns_head(out, o, w, sel);
        key(out, w, 3, b"columnvalues");
    }
    let cells = row.cells.iter().copied().filter(|&cell| cell != Cell::Unchanged);
    list(out, w, cells, |out, cell| row.write(out, cell));
    line_end(out, w, comma_after);
}

/// The `oldkeys` object: the selected columns of `row` that are not NULL.
fn oldkeys<R: Render>(
    out: &mut Vec<u8>,
    o: &Options,
    w: &Ws,
    rel: &RelMeta,
    fmt: &Rel,
    row: Row<'_, R>,
    index_columns_only: bool,
) {
    let identity_only = index_columns_only && rel.has_identity_index;
    let member = move |c: &ColumnMeta| !identity_only || c.in_identity;
    let sel = || row_columns(rel, &fmt.types, row, move |c, cell| member(c) && cell != Cell::Null);
    key(out, w, 3, b"oldkeys");
    out.push(b'{');
    w.nl(out);
    // Every member present: the relation's precomputed arrays apply.
    let head = if identity_only { &fmt.heads.identity_keys } else { &fmt.heads.all_keys };
    let complete = rel.columns.iter().zip(row.cells).all(|(c, cell)| !member(c) || matches!(cell, Cell::Value(_)));
    if !head.is_empty() && complete {
        json::push_bytes(out, head);
    } else {
        names_types_oids(out, o, w, 4, KEY_ARRAYS, sel);
        key(out, w, 4, b"keyvalues");
    }
    list(out, w, sel(), |out, (_, _, cell)| row.write(out, cell));
    line_end(out, w, false);
    tabs(out, w, 3);
    out.push(b'}');
    w.nl(out);
}

/// The `pk` object: names and types of the primary-key columns.
fn pk(out: &mut Vec<u8>, o: &Options, w: &Ws, rel: &RelMeta, fmt: &Rel, comma_after: bool) {
    let sel = || all_columns(rel, &fmt.types).filter(|(c, _, _)| c.in_pk);
    key(out, w, 3, b"pk");
    out.push(b'{');
    w.nl(out);
    array(out, w, 4, b"pknames", sel(), |out, (c, _, _)| out.extend_from_slice(&c.name));
    line_end(out, w, true);
    // wal2json writes any pk type name starting with a quote verbatim, arrays included.
    let types = sel().filter(|_| o.include_types);
    array(out, w, 4, b"pktypes", types, |out, (_, t, _)| out.extend_from_slice(&t.pk_token));
    line_end(out, w, false);
    tabs(out, w, 3);
    out.push(b'}');
    line_end(out, w, comma_after);
}

fn table_name(rel: &RelMeta) -> String {
    String::from_utf8_lossy(&rel.raw_table).into_owned()
}

/// Why wal2json skips a change, if it does.
fn skip_reason<R: Render>(c: &Change<'_, R>) -> Result<(), Skipped> {
    let rel = c.rel;
    let identity_known = rel.has_identity_index || rel.replident_full;
    let missing = |what: &str| Err(Skipped(format!("no tuple data for {what} in table \"{}\"", table_name(rel))));
    match c.kind {
        ChangeKind::Insert if c.new.is_none() => missing("INSERT"),
        ChangeKind::Update | ChangeKind::Delete if !identity_known => {
            Err(Skipped(format!("table \"{}\" without primary key or replica identity is nothing", table_name(rel))))
        }
        ChangeKind::Update if c.new.is_none() => missing("UPDATE"),
        ChangeKind::Delete if c.old.is_none() => missing("DELETE"),
        _ => Ok(()),
    }
}

/// One insert/update/delete entry (which `skip_reason` let through).
/// `entries` counts the entries written in this transaction so far (it
/// decides the comma) and is advanced here.
fn change<R: Render>(out: &mut Vec<u8>, o: &Options, entries: &mut u64, c: &Change<'_, R>, fmt: &Rel) {
    let rel = c.rel;
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
            columns(out, o, &w, rel, fmt, new, with_pk);
            if with_pk {
                pk(out, o, &w, rel, fmt, false);
            }
        }
        (ChangeKind::Update, Some(new), old) => {
            columns(out, o, &w, rel, fmt, new, true);
            if with_pk {
                pk(out, o, &w, rel, fmt, true);
            }
            match old {
                // The key did not change: it is read from the new row.
                None => oldkeys(out, o, &w, rel, fmt, new, true),
                Some(old) => oldkeys(out, o, &w, rel, fmt, old, false),
            }
        }
        (ChangeKind::Delete, _, Some(old)) => {
            if with_pk {
                pk(out, o, &w, rel, fmt, true);
            }
            oldkeys(out, o, &w, rel, fmt, old, true);
        }
        _ => unreachable!("skip_reason lets no other change through"),
    }
    tabs(out, &w, 2);
    out.push(b'}');
}

/// A TRUNCATE entry (only with waljson's include-truncate option: wal2json
/// never writes TRUNCATE in format version 1).
fn truncate(out: &mut Vec<u8>, o: &Options, entries: &mut u64, rel: &RelMeta) {
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
fn message(
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
    json::message_content(out, o.message_content.unwrap_or(MessageContent::Text), content, utf8_db);
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
    use crate::format::{Tokens, VecSink};

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
            replident: b'd',
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

    const TOKENS: Tokens = Tokens(&["1", "123", "true"]);

    /// The session's format and a relation prepared for it.
    fn setup(o: &Options, r: &RelMeta) -> (V1, Rel) {
        let f = V1::new(o, &Env { utf8_db: true, ..Env::default() }).unwrap();
        let fr = f.relation(r);
        (f, fr)
    }

    /// One transaction: begin, the changes, commit; what was sent.
    fn transaction(f: &V1, fr: &Rel, xid: u32, changes: &[Change<'_, Tokens>]) -> VecSink {
        let mut sink = VecSink::default();
        let mut txn = Txn { info: TxnInfo { xid, ..Default::default() }, fmt: 0, written: false };
        f.begin(&mut sink, &mut txn);
        for c in changes {
            assert_eq!(f.change(&mut sink, &mut txn, c, fr), Ok(None));
        }
        f.commit(&mut sink, &mut txn, 0);
        sink
    }

    #[test]
    fn snapshot_documents() {
        // The snapshot's options leave the transaction's keys out.
        let o = Options { include_xids: true, include_timestamp: true, include_lsn: true, ..Options::default() }
            .for_snapshot();
        let r = rel();
        let (f, fr) = setup(&o, &r);
        let new = vec![Cell::Value(0), Cell::Null, Cell::Value(2)];
        let c = change_of(ChangeKind::Insert, &r, Some(&new), None);
        let mut sink = VecSink::default();
        let mut t = Txn::default();
        f.snapshot_open(&mut sink, &mut t);
        for _ in 0..2 {
            f.snapshot_row(&mut sink, &mut t, &c, &fr, Default::default()).unwrap();
        }
        f.snapshot_close(&mut sink, &mut t);
        let entry = r#"{"kind":"insert","schema":"public","table":"table_optional","columnnames":["a","b","c"],"columntypes":["smallint","integer","boolean"],"columnvalues":[1,null,true]}"#;
        assert_eq!(sink.text(), format!(r#"{{"change":[{entry},{entry}]}}"#));
        let pieces: Vec<Piece> = sink.sent.iter().map(|(p, _)| *p).collect();
        assert_eq!(pieces, [Piece::Open(&DOCUMENT), Piece::Append, Piece::Append, Piece::Close]);
    }

    #[test]
    fn wal2json_cmdline_example() {
        // expected/cmdline.out, options include-xids=0, include-not-null=1
        let o = Options { include_not_null: true, ..Options::default() };
        let r = rel();
        let (f, fr) = setup(&o, &r);
        let new = vec![Cell::Value(0), Cell::Null, Cell::Value(2)];
        let sink = transaction(&f, &fr, 0, &[change_of(ChangeKind::Insert, &r, Some(&new), None)]);
        let pieces: Vec<Piece> = sink.sent.iter().map(|(p, _)| *p).collect();
        assert_eq!(pieces, [Piece::Open(&DOCUMENT), Piece::Append, Piece::Close]);
        assert_eq!(
            sink.text(),
            r#"{"change":[{"kind":"insert","schema":"public","table":"table_optional","columnnames":["a","b","c"],"columntypes":["smallint","integer","boolean"],"columnoptionals":[false,true,false],"columnvalues":[1,null,true]}]}"#
        );
        let new = vec![Cell::Value(0), Cell::Value(1), Cell::Value(2)];
        let old = vec![Cell::Value(0), Cell::Null, Cell::Null];
        let changes =
            [change_of(ChangeKind::Update, &r, Some(&new), None), change_of(ChangeKind::Delete, &r, None, Some(&old))];
        assert_eq!(
            transaction(&f, &fr, 0, &changes).text(),
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
                let mut r = rel();
                r.columns[1].default = Some(json::string_owned(b"42"));
                r.has_identity_index = !full;
                r.replident_full = full;
                let (f, with) = setup(&o, &r);
                assert!(!with.heads.columns.is_empty());
                let without = Rel { heads: Heads::default(), ..with.clone() };
                for kind in [ChangeKind::Insert, ChangeKind::Update, ChangeKind::Delete] {
                    for new in rows {
                        for old in [None, Some(rows[0]), Some(rows[1]), Some(rows[3])] {
                            let new = (kind != ChangeKind::Delete).then_some(new);
                            let c = change_of(kind, &r, new, old);
                            let (mut a, mut b) = (VecSink::default(), VecSink::default());
                            let mut txn = Txn::default();
                            let ra = f.change(&mut a, &mut txn, &c, &with);
                            let rb = f.change(&mut b, &mut txn, &c, &without);
                            assert_eq!(ra, rb);
                            assert_eq!(
                                a.text(),
                                b.text().replacen(",{", "{", 1),
                                "options {bits:b}, full {full}, {kind:?}"
                            );
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
        let r = rel();
        let (f, fr) = setup(&o, &r);
        let new = vec![Cell::Value(0), Cell::Value(1), Cell::Value(2)];
        let c = change_of(ChangeKind::Update, &r, Some(&new), None);
        let entry = "\t\t\t\"kind\": \"update\",\n\t\t\t\"schema\": \"public\",\n\t\t\t\"table\": \"table_optional\",\n\t\t\t\"columnnames\": [\"a\", \"b\", \"c\"],\n\t\t\t\"columntypes\": [\"int2\", \"int4\", \"bool\"],\n\t\t\t\"columnvalues\": [1, 123, true],\n\t\t\t\"pk\": {\n\t\t\t\t\"pknames\": [\"a\"],\n\t\t\t\t\"pktypes\": [\"int2\"]\n\t\t\t},\n\t\t\t\"oldkeys\": {\n\t\t\t\t\"keynames\": [\"a\"],\n\t\t\t\t\"keytypes\": [\"int2\"],\n\t\t\t\t\"keyvalues\": [1]\n\t\t\t}\n\t\t}";
        assert_eq!(
            transaction(&f, &fr, 5, &[c, c]).text(),
            format!("{{\n\t\"change\": [\n\t\t{{\n{entry}\n\t\t,{{\n{entry}\n\t]\n}}")
        );

        // chunks: each piece a whole message, no newline before entries or the closing
        let o = Options { write_in_chunks: true, include_xids: true, ..Options::default() };
        let (f, fr) = setup(&o, &r);
        let sink = transaction(&f, &fr, 5, &[c, c]);
        assert!(sink.sent.iter().all(|(p, _)| *p == Piece::Whole));
        let parts: Vec<&str> = sink.sent.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(parts[0], r#"{"xid":5,"change":["#);
        assert!(parts[1].starts_with(r#"{"kind":"update""#));
        assert!(parts[2].starts_with(r#",{"kind":"update""#));
        assert_eq!(parts[3], "]}");
    }

    #[test]
    fn messages_truncate_and_empty_transactions() {
        let o = Options::default();
        let r = rel();
        let (f, fr) = setup(&o, &r);
        let mut sink = VecSink::default();
        let mut txn = Txn { info: TxnInfo::default(), fmt: 3, written: false };
        let m = Message { transactional: false, lsn: 0, prefix: b"wal2json", content: b"this is \"another\" message" };
        f.message(&mut sink, None, &m);
        assert_eq!(
            sink.text(),
            r#"{"change":[{"kind":"message","transactional":false,"prefix":"wal2json","content":"this is \"another\" message"}]}"#
        );
        assert_eq!(sink.sent[0].0, Piece::Whole);
        // A transactional message is an entry: a comma after the third.
        let mut sink = VecSink::default();
        f.message(&mut sink, Some(&mut txn), &Message { transactional: true, content: b"x", ..m });
        assert_eq!(
            sink.sent,
            [(Piece::Append, r#",{"kind":"message","transactional":true,"prefix":"wal2json","content":"x"}"#.into())]
        );
        assert_eq!(txn.fmt, 4);
        assert_eq!(transaction(&f, &fr, 0, &[]).text(), r#"{"change":[]}"#);
        let p = Options { pretty_print: true, ..Options::default() };
        let (pf, pfr) = setup(&p, &r);
        assert_eq!(transaction(&pf, &pfr, 0, &[]).text(), "{\n\t\"change\": [\n\t]\n}");
        // TRUNCATE only with include-truncate.
        assert!(!f.writes_truncate());
        let t = Options { include_truncate: true, ..Options::default() };
        let (tf, tfr) = setup(&t, &r);
        assert!(tf.writes_truncate());
        let mut sink = VecSink::default();
        tf.truncate(&mut sink, &mut txn, 0, &r, &tfr);
        assert_eq!(sink.text(), r#",{"kind":"truncate","schema":"public","table":"table_optional"}"#);
    }

    #[test]
    fn skipped_without_identity() {
        let o = Options::default();
        let mut r = rel();
        r.has_identity_index = false;
        let (f, fr) = setup(&o, &r);
        let old = vec![Cell::Null, Cell::Null, Cell::Null];
        let d = change_of(ChangeKind::Delete, &r, None, Some(&old));
        let mut sink = VecSink::default();
        let mut txn = Txn::default();
        assert_eq!(
            f.change(&mut sink, &mut txn, &d, &fr),
            Err(Skipped("table \"table_optional\" without primary key or replica identity is nothing".into()))
        );
        assert_eq!(txn.fmt, 0);
        assert!(sink.sent.is_empty());
    }
}
