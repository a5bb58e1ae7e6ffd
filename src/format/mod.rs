//! The output formats behind one interface, and the safe model they write.
//!
//! The callbacks build the model from the reorder buffer's structs (a
//! relation's `RelMeta`, a `Change` whose rows render their values on
//! demand, the transaction's `TxnInfo`) and call the session's `Format`
//! without knowing which one it is. Each format lives in its own module:
//! its framing, its per-relation data (`Format::Rel`), its per-transaction
//! state (`Format::Txn`) and its value style (`Format::Style`, see `value`).
//! It writes through a `Sink`, one or several messages per call.
//!
//! Nothing here touches PostgreSQL, so every format is plain byte-pushing
//! code with unit tests. Adding a format: one module, and one line in the
//! `formats!` registry below.

pub mod v1;
pub mod v2;
pub mod v3;
pub mod value;

use crate::options::{OptionError, Options};
use std::ffi::CStr;
pub use value::{Scalar, ValueKind, ValueStyle};

/// Declares the formats: the `Version` enum (format-version numbers), the
/// `ByFormat` enum holding one value per format, and the macros that pick the
/// format type for a version (`new_by_format!`) and dispatch on a `ByFormat`
/// (`each_format!`), both statically: the code inside is monomorphised per
/// format. (`$d` is a `$` passed in, so the inner macros can have variables.)
macro_rules! formats {
    ($d:tt $($number:literal => $variant:ident($format:ty)),+ $(,)?) => {
        /// A format, by its `format-version` number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Version {
            $($variant),+
        }

        impl Version {
            const NUMBERS: &'static [i32] = &[$($number),+];
            pub const MIN: i32 = min_of(Self::NUMBERS);
            pub const MAX: i32 = max_of(Self::NUMBERS);

            pub fn from_number(n: i32) -> Option<Version> {
                match n {
                    $($number => Some(Version::$variant),)+
                    _ => None,
                }
            }

            pub fn number(self) -> i32 {
                match self {
                    $(Version::$variant => $number),+
                }
            }

            /// The format writes streamed and prepared transactions (`Format::STREAMS`).
            pub fn streams(self) -> bool {
                match self {
                    $(Version::$variant => <$format as Format>::STREAMS),+
                }
            }
        }

        /// One value of `T::Of<F>` for the format `F` a session uses.
        pub enum ByFormat<T: Family> {
            $($variant(T::Of<$format>)),+
        }

        /// `new_by_format!(version, F => expr)`: `expr` evaluated with the
        /// type `F` bound to `version`'s format, wrapped in its `ByFormat` variant.
        #[cfg_attr(test, allow(unused_macros))]
        macro_rules! new_by_format {
            ($d version:expr, $d f:ident => $d body:expr) => {
                match $d version {
                    $($crate::format::Version::$variant => {
                        type $d f = $format;
                        $crate::format::ByFormat::$variant($d body)
                    })+
                }
            };
        }
        #[cfg_attr(test, allow(unused_imports))]
        pub(crate) use new_by_format;

        /// `each_format!(by_format, x => expr)`: `expr` with `x` bound to the
        /// value inside, whichever format it is.
        #[cfg_attr(test, allow(unused_macros))]
        macro_rules! each_format {
            ($d value:expr, $d x:ident => $d body:expr) => {
                match $d value {
                    $($crate::format::ByFormat::$variant($d x) => $d body,)+
                }
            };
        }
        #[cfg_attr(test, allow(unused_imports))]
        pub(crate) use each_format;
    };
}

formats! {$
    1 => V1(crate::format::v1::V1),
    2 => V2(crate::format::v2::V2),
    3 => V3(crate::format::v3::V3),
}

impl Version {
    /// wal2json's default.
    pub const DEFAULT: Version = Version::V1;
    /// `format-version` given without a value: wal2json's newest, as in wal2json.
    pub const VALUELESS: Version = Version::V2;
}

const fn min_of(v: &[i32]) -> i32 {
    let (mut m, mut i) = (i32::MAX, 0);
    while i < v.len() {
        if v[i] < m {
            m = v[i];
        }
        i += 1;
    }
    m
}

const fn max_of(v: &[i32]) -> i32 {
    let (mut m, mut i) = (i32::MIN, 0);
    while i < v.len() {
        if v[i] > m {
            m = v[i];
        }
        i += 1;
    }
    m
}

/// A family of types with one member per format (`ByFormat<T>` holds one).
pub trait Family {
    type Of<F: Format>;
}

/// Facts about the database that the formats need, read once at startup.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Message payloads are checked (and made valid) in a UTF-8 database.
    pub utf8_db: bool,
    /// The replication slot's name.
    pub slot: Vec<u8>,
    /// The database's name.
    pub database: Vec<u8>,
}

/// An output format. The methods are the decoding events; each writes zero
/// or more messages to the sink.
pub trait Format: Sized {
    /// What the format precomputes per relation (rebuilt with the relation).
    type Rel;
    /// What the format keeps per transaction, beside `TxnInfo`.
    type Txn: Default;
    /// How the format writes values.
    type Style: ValueStyle;
    /// The format prints the slot's and the database's names (`Env`): only
    /// then does startup look the database's name up.
    const NAMES_SOURCE: bool = false;

    /// Builds the format for a session: the one place where options that
    /// concern this format are checked and resolved.
    fn new(o: &Options, env: &Env) -> Result<Self, OptionError>;
    fn style(&self) -> &Self::Style;
    /// Session settings the format's values are printed under, set for the
    /// duration of each transaction (so that output functions print the
    /// same text whatever the session's settings); none: the session's own.
    fn settings(&self) -> &'static [(&'static CStr, &'static CStr)] {
        &[]
    }
    /// The format's data for a relation, built when the relation is (re)built.
    fn relation(&self, rel: &RelMeta) -> Self::Rel;

    fn begin(&self, sink: &mut impl Sink, txn: &mut Txn<Self::Txn>);
    /// `commit_lsn` is the commit record's LSN.
    fn commit(&self, sink: &mut impl Sink, txn: &mut Txn<Self::Txn>, commit_lsn: u64);
    /// Writes an INSERT/UPDATE/DELETE, or skips it (nothing written) with the
    /// reason, which the caller raises as a WARNING; a change can also be
    /// written with a WARNING.
    fn change<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<Self::Txn>,
        c: &Change<'_, R>,
        rel: &Self::Rel,
    ) -> Result<Option<String>, Skipped>;
    /// False when the format writes no TRUNCATE at all (so the caller skips
    /// looking the relations up).
    fn writes_truncate(&self) -> bool {
        true
    }
    /// One truncated relation.
    fn truncate(&self, sink: &mut impl Sink, txn: &mut Txn<Self::Txn>, lsn: u64, rel: &RelMeta, fmt: &Self::Rel);
    /// A logical message; a non-transactional one has no transaction.
    fn message(&self, sink: &mut impl Sink, txn: Option<&mut Txn<Self::Txn>>, m: &Message<'_>);

    /// Opens a document of initial snapshot rows (`waljson.snapshot()`):
    /// only a format whose rows are entries of a document writes anything.
    fn snapshot_open(&self, _sink: &mut impl Sink, _txn: &mut Txn<Self::Txn>) {}
    /// Closes the document `snapshot_open` opened.
    fn snapshot_close(&self, _sink: &mut impl Sink, _txn: &mut Txn<Self::Txn>) {}
    /// A row of an initial snapshot (an INSERT of it, `c`), written as the
    /// format writes an INSERT; the format was made with the options of a
    /// snapshot (`Options::for_snapshot`), which leave transaction facts
    /// out. A format with snapshot events of its own overrides this.
    fn snapshot_row<R: Render>(
        &self,
        sink: &mut impl Sink,
        txn: &mut Txn<Self::Txn>,
        c: &Change<'_, R>,
        rel: &Self::Rel,
        _at: SnapshotPosition,
    ) -> Result<Option<String>, Skipped> {
        self.change(sink, txn, c, rel)
    }

    /// The format writes streamed and prepared transactions (`txn_event`).
    /// Format 1, one document per transaction, does not: the callbacks
    /// refuse streaming and decode prepared transactions at COMMIT PREPARED.
    const STREAMS: bool = true;
    /// An event of a streamed or a two-phase transaction.
    fn txn_event(&self, sink: &mut impl Sink, txn: &mut Txn<Self::Txn>, event: TxnEvent);
}

/// Where a row stands among the rows of one `waljson.snapshot()` call
/// (Debezium marks the first and last rows of a table's snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotPosition {
    pub first: bool,
    pub last: bool,
}

/// The events of streamed transactions (PostgreSQL 14+) and of two-phase
/// commit, beside a transaction's changes. LSNs are the record's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnEvent {
    /// A block of the streamed transaction's changes opens; `first`: its
    /// first block in this decoding session.
    StreamStart { first: bool },
    /// The block closes.
    StreamStop,
    /// The streamed (sub)transaction `subxid` aborted (or is not to be
    /// applied): its changes in earlier blocks are void. `subxid` is the
    /// transaction's own xid when the whole transaction aborts.
    StreamAbort { subxid: u32, lsn: u64 },
    /// The streamed transaction committed.
    StreamCommit { lsn: u64 },
    /// A prepared transaction's changes follow (decoded at PREPARE TRANSACTION).
    BeginPrepare,
    /// PREPARE TRANSACTION, after the prepared transaction's changes;
    /// `streamed`: the changes came in stream blocks instead.
    Prepare { lsn: u64, streamed: bool },
    /// COMMIT PREPARED.
    CommitPrepared { lsn: u64 },
    /// ROLLBACK PREPARED: the prepared changes are void.
    RollbackPrepared { lsn: u64 },
}

/// How a piece of output reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// A whole message.
    Whole,
    /// The start of a message that later pieces continue, named in the
    /// ERROR raised if it grows past PostgreSQL's 1 GB.
    Open(&'static Oversize),
    /// More of the open message.
    Append,
    /// The end of the open message, which is then sent.
    Close,
}

/// The ERROR text for a message built over several pieces that outgrows
/// PostgreSQL's 1 GB limit: "waljson: {what} would exceed 1 GB".
#[derive(Debug, PartialEq, Eq)]
pub struct Oversize {
    pub what: &'static str,
    pub hint: &'static str,
}

/// Where a format writes its messages.
pub trait Sink {
    /// An empty buffer in which to build the next piece.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Hands the buffer's contents to the client as `piece`.
    fn send(&mut self, piece: Piece);
}

/// A sink that keeps what is sent, for unit tests.
#[cfg(test)]
#[derive(Default)]
pub struct VecSink {
    buf: Vec<u8>,
    pub sent: Vec<(Piece, String)>,
}

#[cfg(test)]
impl Sink for VecSink {
    fn buf(&mut self) -> &mut Vec<u8> {
        self.buf.clear();
        &mut self.buf
    }
    fn send(&mut self, piece: Piece) {
        self.sent.push((piece, String::from_utf8(self.buf.clone()).unwrap()));
    }
}

#[cfg(test)]
impl VecSink {
    /// Everything sent, concatenated.
    pub fn text(&self) -> String {
        self.sent.iter().map(|(_, s)| s.as_str()).collect()
    }
}

/// Per-column metadata of a relation, computed once per relation (see relation.rs).
#[derive(Debug, Clone, Default)]
pub struct ColumnMeta {
    /// Column name as a JSON string token.
    pub name: Vec<u8>,
    /// `format_type_with_typemod(atttypid, atttypmod)`, raw.
    pub type_name: Vec<u8>,
    /// For a domain: `format_type_with_typemod(typbasetype, typtypmod)`, raw.
    pub base_type_name: Option<Vec<u8>>,
    /// `pg_type.typname`.
    pub typname: Vec<u8>,
    /// For a domain: the base type's `pg_type.typname`.
    pub base_typname: Option<Vec<u8>>,
    pub typeoid: u32,
    pub typmod: i32,
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
}

/// What a relation looks like for the formats.
#[derive(Debug, Clone, Default)]
pub struct RelMeta {
    pub oid: u32,
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
    /// `relreplident`: `d`efault, `n`othing, `f`ull or `i`ndex.
    pub replident: u8,
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

/// Writes the JSON token of a value (by its live column index), in the
/// session format's value style. The formats are generic over it, so the
/// callbacks' renderer is inlined into the loops that print the columns.
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
    /// Appends the JSON token of `cell` (`null` for a NULL). The formats
    /// leave unchanged TOAST columns out before they get here.
    #[inline(always)]
    pub fn write(&self, out: &mut Vec<u8>, cell: Cell) {
        match cell {
            Cell::Value(i) => self.render.render(out, i as usize),
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Unchanged => debug_assert!(false, "unchanged TOAST columns are not written"),
        }
    }
}

impl<R: Render> std::fmt::Debug for Row<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("cells", &self.cells).finish_non_exhaustive()
    }
}

/// Test relations: a column.
#[cfg(test)]
pub fn test_column(name: &str, ty: &str, oid: u32, attnum: i16) -> ColumnMeta {
    ColumnMeta {
        name: crate::json::string_owned(name.as_bytes()),
        type_name: ty.into(),
        typeoid: oid,
        typmod: -1,
        attnum,
        ..Default::default()
    }
}

/// Test relations: `public.t (a integer NOT NULL PRIMARY KEY, b text DEFAULT 'x')`
/// (b at attnum 3: a column was dropped).
#[cfg(test)]
pub fn test_relation() -> RelMeta {
    let mut a = test_column("a", "integer", 23, 1);
    a.in_identity = true;
    a.in_pk = true;
    a.not_null = true;
    let mut b = test_column("b", "text", 25, 3);
    b.default = Some(crate::json::string_owned(b"'x'::text"));
    RelMeta {
        oid: 16384,
        raw_schema: b"public".to_vec(),
        raw_table: b"t".to_vec(),
        schema: crate::json::string_owned(b"public"),
        table: crate::json::string_owned(b"t"),
        columns: vec![a, b],
        has_identity_index: true,
        has_pk: true,
        replident_full: false,
        replident_default: true,
        replident: b'd',
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

/// Transaction facts printed with the events.
#[derive(Debug, Clone, Default)]
pub struct TxnInfo {
    pub xid: u32,
    /// `timestamptz_to_str(commit_time)`, computed only when asked for.
    pub timestamp: Vec<u8>,
    pub origin: u32,
    pub final_lsn: u64,
    pub end_lsn: u64,
    /// Commit time, µs since 2000-01-01 UTC (for a prepared transaction the
    /// PREPARE's time, for a rolled back one the rollback's).
    pub commit_time: i64,
    /// The two-phase transaction's identifier (empty for other transactions).
    pub gid: Vec<u8>,
    /// The transaction is streamed in blocks (commit time and LSN unknown
    /// until its end): its events name their (sub)transaction.
    pub streamed: bool,
    /// In a streamed transaction, the (sub)transaction of the event being
    /// written (a change's own xid, which differs from `xid` for a change
    /// made in a subtransaction).
    pub subxid: u32,
}

/// A transaction being written: its facts and the format's state for it.
#[derive(Debug, Default)]
pub struct Txn<T> {
    pub info: TxnInfo,
    pub fmt: T,
    /// Something of the transaction was written in this session (a
    /// streamed transaction whose blocks were all empty, and left out,
    /// is left out at its end too).
    pub written: bool,
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

/// A logical message (`pg_logical_emit_message`).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub transactional: bool,
    pub lsn: u64,
    pub prefix: &'a [u8],
    pub content: &'a [u8],
}

/// Why a change was not written; the callback turns it into a WARNING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!((Version::MIN, Version::MAX), (1, 3));
        for n in Version::MIN..=Version::MAX {
            assert_eq!(Version::from_number(n).map(Version::number), Some(n));
        }
        assert_eq!(Version::from_number(0), None);
        assert_eq!(Version::from_number(Version::MAX + 1), None);
    }
}
