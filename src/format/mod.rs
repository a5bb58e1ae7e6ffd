//! The safe model the callbacks build from the reorder buffer's structs, and
//! the emitters (one per output format) that turn it into JSON bytes.
//!
//! Nothing here touches PostgreSQL: names arrive pre-escaped and each row
//! comes with a renderer that writes a value's JSON token where the emitter
//! prints it, so the emitters are plain byte-pushing code with unit tests.

pub mod v1;
pub mod v2;

/// Per-column metadata of a relation, computed once per relation (see relation.rs).
#[derive(Debug, Clone, Default)]
pub struct ColumnMeta {
    /// Column name as a JSON string token.
    pub name: Vec<u8>,
    /// `format_type_with_typemod(atttypid, atttypmod)`, raw.
    pub type_name: Vec<u8>,
    /// For a domain: `format_type_with_typemod(typbasetype, typtypmod)`, raw.
    pub base_type_name: Option<Vec<u8>>,
    /// `pg_type.typname` (format-version 1 with include-typmod off).
    pub typname: Vec<u8>,
    /// For a domain: the base type's `pg_type.typname`.
    pub base_typname: Option<Vec<u8>>,
    pub typeoid: u32,
    /// For a domain: `typbasetype` (one level, as wal2json reads it).
    pub base_typeoid: Option<u32>,
    pub attnum: i16,
    pub not_null: bool,
    /// Default expression (`pg_get_expr`) as a JSON string token; None = null.
    pub default: Option<Vec<u8>>,
    /// Member of the replica identity index.
    pub in_identity: bool,
    /// Member of the primary key.
    pub in_pk: bool,
    /// The type as the session's format and options print it (see `resolve_output`).
    pub out: TypeOut,
}

/// A column's type as printed, resolved once per relation and session
/// rather than for every row.
#[derive(Debug, Clone, Default)]
pub struct TypeOut {
    /// JSON token for columns and keys.
    pub token: Vec<u8>,
    /// JSON token in format 1's `pktypes` (wal2json quotes those by a looser rule).
    pub pk_token: Vec<u8>,
    /// Type OID printed with include-type-oids.
    pub oid: u32,
    /// Format version 2: `},` then the start of the column's object up to
    /// its value, `{"name":..[,"type":..][,"typeoid":..],"value":`, the same
    /// in every row (the first column of a row skips the `},`).
    pub v2_next_head: Vec<u8>,
}

/// What a relation looks like for the emitters.
#[derive(Debug, Clone, Default)]
pub struct RelMeta {
    pub raw_schema: Vec<u8>,
    pub raw_table: Vec<u8>,
    /// JSON string tokens.
    pub schema: Vec<u8>,
    pub table: Vec<u8>,
    /// Live (not dropped) columns, in attribute order.
    pub columns: Vec<ColumnMeta>,
    /// The relation has a replica identity index (DEFAULT with a primary key, or USING INDEX).
    pub has_identity_index: bool,
    pub has_pk: bool,
    pub replident_full: bool,
    pub replident_default: bool,
    /// Format version 1: the arrays before a row's values (see `v1::Heads`).
    pub v1_heads: v1::Heads,
}

impl RelMeta {
    /// Resolves every column's printed type for these options.
    pub fn resolve_output(&mut self, o: &crate::options::Options) {
        for c in &mut self.columns {
            let (name, oid) = if o.format_version == 1 { v1::column_type(o, c) } else { v2::column_type(o, c) };
            let mut out = TypeOut { oid, ..TypeOut::default() };
            crate::json::type_name(&mut out.token, name, false);
            crate::json::type_name(&mut out.pk_token, name, true);
            if o.format_version == 2 {
                out.v2_next_head = [b"},".as_slice(), &v2::column_head(o, &c.name, &out)].concat();
            }
            c.out = out;
        }
        if o.format_version == 1 {
            self.v1_heads = v1::heads(o, self);
        }
    }
}

/// One column's value in a decoded tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Null,
    /// An unchanged TOASTed value the WAL does not carry: the column is left out.
    Unchanged,
    /// A value, written by the row's renderer (the live column's index) when
    /// it is printed: straight into the message, without an intermediate copy.
    Value(u32),
}

/// Writes the JSON token of a value (by its live column index). The
/// emitters are generic over it, so the callbacks' renderer is inlined into
/// the loops that print the columns.
pub trait Render {
    fn render(&self, out: &mut Vec<u8>, index: usize);
}

/// A decoded tuple: one cell per live column of its `RelMeta`.
pub struct Row<'a, R: Render> {
    pub cells: &'a [Cell],
    pub render: &'a R,
}

impl<R: Render> Clone for Row<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Render> Copy for Row<'_, R> {}

impl<R: Render> Row<'_, R> {
    /// Appends the JSON token of `cell` (`null` for a NULL).
    #[inline(always)]
    pub fn write(&self, out: &mut Vec<u8>, cell: Cell) {
        match cell {
            Cell::Value(i) => self.render.render(out, i as usize),
            Cell::Null | Cell::Unchanged => out.extend_from_slice(b"null"),
        }
    }
}

impl<R: Render> std::fmt::Debug for Row<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("cells", &self.cells).finish_non_exhaustive()
    }
}

/// Test rows: the JSON token of each live column, by index.
#[cfg(test)]
pub struct Tokens(pub &'static [&'static str]);

#[cfg(test)]
impl Render for Tokens {
    fn render(&self, out: &mut Vec<u8>, index: usize) {
        out.extend_from_slice(self.0[index].as_bytes());
    }
}

/// Transaction facts printed with every object.
#[derive(Debug, Clone, Default)]
pub struct TxnInfo {
    pub xid: u32,
    /// `timestamptz_to_str(commit_time)`, computed only when asked for.
    pub timestamp: Vec<u8>,
    pub origin: u32,
    pub final_lsn: u64,
    pub end_lsn: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Update,
    Delete,
}

impl ChangeKind {
    pub fn sql_name(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Update => "UPDATE",
            ChangeKind::Delete => "DELETE",
        }
    }
}

/// An INSERT/UPDATE/DELETE ready to be written.
#[derive(Debug)]
pub struct Change<'a, R: Render> {
    pub kind: ChangeKind,
    pub lsn: u64,
    pub rel: &'a RelMeta,
    pub new: Option<Row<'a, R>>,
    pub old: Option<Row<'a, R>>,
}

impl<R: Render> Clone for Change<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Render> Copy for Change<'_, R> {}

/// Why a change was not written; the callback turns it into a WARNING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped(pub String);
