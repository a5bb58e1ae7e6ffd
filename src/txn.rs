//! Per-transaction state, kept per top-level transaction rather than for
//! the session, so that several transactions can be open at once (streamed
//! transactions interleave). Created at BEGIN (or at the first event of a
//! transaction whose BEGIN this session did not see), dropped at its end; a
//! transaction left open by an ERROR goes with the session's memory.

use crate::compat;
use crate::format::{Txn, TxnInfo};
use pgrx::pg_sys;
use std::ffi::CStr;

pub struct Txns<T> {
    /// The open transactions by top-level xid, the most recent last: a
    /// session has one open at a time, or a few with streaming, so a short
    /// scan from the end beats hashing on every change.
    open: Vec<(u32, Txn<T>)>,
    /// The commit time's text is computed (once per transaction) only when printed.
    with_timestamp: bool,
}

impl<T: Default> Txns<T> {
    pub fn new(with_timestamp: bool) -> Self {
        Txns { open: Vec::new(), with_timestamp }
    }

    fn position(&self, xid: u32) -> Option<usize> {
        self.open.iter().rposition(|(x, _)| *x == xid)
    }

    /// A new state for `txn`, replacing any left from an earlier decoding of it.
    ///
    /// # Safety
    /// `txn` is the top-level transaction handed to the current callback.
    pub unsafe fn begin(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> &mut Txn<T> {
        let xid = (*txn).xid.into_inner();
        if let Some(i) = self.position(xid) {
            self.open.remove(i);
        }
        self.open.push((xid, Txn { info: info(txn, self.with_timestamp), fmt: T::default(), written: false }));
        &mut self.open.last_mut().expect("just pushed").1
    }

    /// The state of the open transaction `txn`.
    ///
    /// # Safety
    /// As for `begin`.
    #[inline]
    pub unsafe fn get(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> &mut Txn<T> {
        match self.position((*txn).xid.into_inner()) {
            Some(i) => &mut self.open[i].1,
            None => self.begin(txn),
        }
    }

    /// The state of the streamed transaction `txn` (created at its first
    /// block in this session).
    ///
    /// # Safety
    /// As for `begin`.
    #[inline]
    pub unsafe fn streamed(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> &mut Txn<T> {
        let t = self.get(txn);
        t.info.streamed = true;
        t
    }

    /// Removes the state of `txn`, which ends.
    ///
    /// # Safety
    /// As for `begin`.
    pub unsafe fn end(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> Txn<T> {
        match self.position((*txn).xid.into_inner()) {
            Some(i) => self.open.remove(i).1,
            None => self.detached(txn),
        }
    }

    /// Removes the state of `txn`, which ends, with the facts its end
    /// brings (a streamed transaction's commit LSN and time, known only now).
    ///
    /// # Safety
    /// As for `begin`.
    pub unsafe fn end_refreshed(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> Txn<T> {
        let mut t = self.end(txn);
        let streamed = t.info.streamed;
        t.info = info(txn, self.with_timestamp);
        t.info.streamed = streamed;
        t
    }

    /// A state for an event of `txn` that ends it without any other event
    /// in this session (COMMIT PREPARED, ROLLBACK PREPARED).
    ///
    /// # Safety
    /// As for `begin`.
    pub unsafe fn detached(&self, txn: *mut pg_sys::ReorderBufferTXN) -> Txn<T> {
        Txn { info: info(txn, self.with_timestamp), fmt: T::default(), written: false }
    }
}

/// The facts of `txn` that the formats print.
///
/// # Safety
/// `txn` points to a live ReorderBufferTXN.
unsafe fn info(txn: *mut pg_sys::ReorderBufferTXN, with_timestamp: bool) -> TxnInfo {
    let mut info = TxnInfo {
        xid: (*txn).xid.into_inner(),
        origin: (*txn).origin_id as u32,
        final_lsn: (*txn).final_lsn,
        end_lsn: (*txn).end_lsn,
        commit_time: compat::commit_time(txn),
        timestamp: Vec::new(),
        gid: compat::gid(txn),
        streamed: false,
        subxid: 0,
    };
    if with_timestamp {
        let text = pg_sys::timestamptz_to_str(info.commit_time);
        info.timestamp.extend_from_slice(CStr::from_ptr(text).to_bytes());
    }
    info
}
