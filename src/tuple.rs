//! Tuples: deformed into datums and cells, and rendered value by value in
//! the session format's value style when the format prints them.

use crate::compat;
use crate::datum::{self, Value};
use crate::format::{Cell, Change, ChangeKind, Render, Row, ValueStyle};
use crate::publication::TupleValues;
use crate::relation::RelEntry;
use pgrx::pg_sys;

/// A tuple split into its attributes; values are rendered only when the
/// format prints them, straight into the message.
#[derive(Default)]
struct Deformed {
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    /// One per live column: Null, Unchanged or Value(live column index).
    cells: Vec<Cell>,
}

/// Deforms `tuple` into `row` (values and nulls; the cells come later,
/// once a row filter may have completed the row).
///
/// # Safety
/// `tuple` is a tuple of `rel` (valid during the callback) and `entry` is
/// the relation cache's entry for `rel`.
unsafe fn deform<R>(tuple: pg_sys::HeapTuple, rel: pg_sys::Relation, entry: &RelEntry<R>, row: &mut Deformed) {
    // heap_deform_tuple sets all natts entries: only the length matters.
    if row.values.len() != entry.natts {
        row.values.clear();
        row.values.resize(entry.natts, pg_sys::Datum::from(0));
        row.nulls.clear();
        row.nulls.resize(entry.natts, true);
    }
    // heap_deform_tuple also fills attributes added after the tuple was
    // written (fast defaults), unlike a hand-rolled loop.
    let stored = ((*(*tuple).t_data).t_infomask2 & pg_sys::HEAP_NATTS_MASK as u16) as usize;
    let (values, nulls) = (row.values.as_mut_ptr(), row.nulls.as_mut_ptr());
    if stored >= entry.natts {
        // SAFETY: every attribute is in the tuple; see `unguarded`.
        crate::unguarded::heap_deform_tuple(tuple, (*rel).rd_att, values, nulls);
    } else {
        pg_sys::heap_deform_tuple(tuple, (*rel).rd_att, values, nulls);
    }
}

/// One cell per column the entry reports: Null, Unchanged or Value(column index).
/// A value stored in the TOAST table is a value to read when the row was
/// read from the table (`stored`), and an unchanged value the WAL left
/// out when it comes from the reorder buffer (which carries the changed
/// ones in memory).
///
/// # Safety
/// `row` holds a deformed tuple of the entry's changed relation.
unsafe fn cells<R>(entry: &RelEntry<R>, row: &mut Deformed, stored: bool) {
    let (values, nulls) = (&row.values[..], &row.nulls[..]);
    row.cells.clear();
    row.cells.extend(entry.columns.iter().enumerate().map(|(k, col)| {
        let i = col.att_index;
        if nulls[i] {
            Cell::Null
        } else if !stored && datum::is_unchanged_toast(values[i], col.attlen) {
            Cell::Unchanged
        } else {
            Cell::Value(k as u32)
        }
    }));
}

/// Renders the values of a deformed row in a value style.
pub struct DatumRender<'a, R, S> {
    entry: &'a RelEntry<R>,
    values: &'a [pg_sys::Datum],
    style: &'a S,
}

impl<'a, R, S: ValueStyle> DatumRender<'a, R, S> {
    /// # Safety
    /// `values` were deformed from a tuple of `entry`'s relation and stay
    /// valid while the renderer is used (the change callback's tuples).
    pub unsafe fn new(entry: &'a RelEntry<R>, values: &'a [pg_sys::Datum], style: &'a S) -> Self {
        DatumRender { entry, values, style }
    }
}

impl<R, S: ValueStyle> Render for DatumRender<'_, R, S> {
    /// The JSON token of live column `k` (a `Cell::Value`: neither NULL
    /// nor unchanged TOAST).
    #[inline(always)]
    fn render(&self, out: &mut Vec<u8>, k: usize) {
        let col = &self.entry.columns[k];
        let kind = match col.base_kind {
            Some(base) if self.style.domains_as_base() => base,
            _ => col.kind,
        };
        let value = Value {
            kind,
            finfo: &*col.finfo as *const pg_sys::FmgrInfo as *mut pg_sys::FmgrInfo,
            datum: self.values[col.att_index],
            elem: col.elem.as_deref(),
        };
        // SAFETY: the datum belongs to this column of a live tuple (see `new`),
        // and finfo is the column type's output function.
        if let Err(e) = unsafe { value.write(out, self.style) } {
            pgrx::error!("{}", e.0);
        }
    }
}

/// The new and old rows of the current change (reused between changes, so
/// their buffers keep their capacity).
#[derive(Default)]
pub struct Rows {
    new: Deformed,
    old: Deformed,
    has_new: bool,
    has_old: bool,
    /// The row was read from the table, not decoded (`deform_row`).
    stored: bool,
}

impl Rows {
    /// Deforms the tuples of `change`.
    ///
    /// # Safety
    /// `change` is the current callback's change of `relation` (its tuples
    /// stay valid for the whole callback) and `entry` is its cache entry.
    #[inline(always)]
    pub unsafe fn deform<Rl>(
        &mut self,
        relation: pg_sys::Relation,
        entry: &RelEntry<Rl>,
        change: *mut pg_sys::ReorderBufferChange,
    ) {
        let tp = (*change).data.tp;
        let new = compat::heap_tuple(tp.newtuple);
        let old = compat::heap_tuple(tp.oldtuple);
        self.has_new = new.is_some();
        self.has_old = old.is_some();
        self.stored = false;
        if let Some(t) = new {
            deform(t, relation, entry, &mut self.new);
        }
        if let Some(t) = old {
            deform(t, relation, entry, &mut self.old);
        }
    }

    /// Deforms a row read from the table (`waljson.snapshot()`), as the
    /// new row of an INSERT.
    ///
    /// # Safety
    /// `tuple` is a tuple of `relation`, valid until the row is written;
    /// `entry` is the relation's cache entry.
    pub unsafe fn deform_row<Rl>(
        &mut self,
        relation: pg_sys::Relation,
        entry: &RelEntry<Rl>,
        tuple: pg_sys::HeapTuple,
    ) {
        self.has_new = true;
        self.has_old = false;
        self.stored = true;
        deform(tuple, relation, entry, &mut self.new);
    }

    /// The deformed rows, for a row filter (which may complete the new row).
    pub fn values(&mut self) -> (Option<TupleValues<'_>>, Option<TupleValues<'_>>) {
        let new = self.has_new.then(|| TupleValues { values: &mut self.new.values, nulls: &mut self.new.nulls });
        let old = self.has_old.then(|| TupleValues { values: &mut self.old.values, nulls: &mut self.old.nulls });
        (new, old)
    }

    /// Leaves the new (or old) row out of the change (a row filter made an
    /// UPDATE a DELETE, or an INSERT).
    pub fn drop_new(&mut self) {
        self.has_new = false;
    }
    pub fn drop_old(&mut self) {
        self.has_old = false;
    }

    /// Calls `f` with the `Change` the deformed rows make, its values
    /// rendered in `style`.
    ///
    /// # Safety
    /// `deform` ran for the current callback's change with this `entry`.
    #[inline(always)]
    pub unsafe fn with_change<Rl, S: ValueStyle, T>(
        &mut self,
        entry: &RelEntry<Rl>,
        kind: ChangeKind,
        lsn: pg_sys::XLogRecPtr,
        style: &S,
        f: impl FnOnce(&Change<'_, DatumRender<'_, Rl, S>>) -> T,
    ) -> T {
        if self.has_new {
            cells(entry, &mut self.new, self.stored);
        }
        if self.has_old {
            cells(entry, &mut self.old, self.stored);
        }
        // SAFETY (both): the rows were deformed from this change's tuples.
        let render_new = DatumRender::new(entry, &self.new.values, style);
        let render_old = DatumRender::new(entry, &self.old.values, style);
        f(&Change {
            kind,
            lsn,
            rel: &entry.meta,
            new: self.has_new.then(|| Row { cells: &self.new.cells, render: &render_new }),
            old: self.has_old.then(|| Row { cells: &self.old.cells, render: &render_old }),
        })
    }
}
