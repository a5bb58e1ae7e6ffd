//! Per-transaction state, kept per top-level transaction rather than for
//! the session, so that several transactions can be open at once (streamed
//! transactions interleave). Created at BEGIN (or at the first event of a
//! transaction whose BEGIN this session did not see), dropped at its end; a
//! transaction left open by an ERROR goes with the session's memory.

use crate::compat;
use crate::format::{Txn, TxnInfo};
use crate::relation::OidHasher;
use pgrx::pg_sys;
use std::collections::HashMap;
use std::ffi::CStr;

pub struct Txns<T> {
    open: HashMap<u32, Txn<T>, std::hash::BuildHasherDefault<OidHasher>>,
    /// The commit time's text is computed (once per transaction) only when printed.
    with_timestamp: bool,
}

impl<T: Default> Txns<T> {
    pub fn new(with_timestamp: bool) -> Self {
        Txns { open: HashMap::default(), with_timestamp }
    }

    /// A new state for `txn`, replacing any left from an earlier decoding of it.
    ///
    /// # Safety
    /// `txn` is the top-level transaction handed to the current callback.
    pub unsafe fn begin(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> &mut Txn<T> {
        let slot = self.open.entry((*txn).xid.into_inner()).or_default();
        *slot = Txn { info: info(txn, self.with_timestamp), fmt: T::default() };
        slot
    }

    /// The state of the open transaction `txn`.
    ///
    /// # Safety
    /// As for `begin`.
    #[inline]
    pub unsafe fn get(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> &mut Txn<T> {
        let with_timestamp = self.with_timestamp;
        self.open
            .entry((*txn).xid.into_inner())
            .or_insert_with(|| Txn { info: info(txn, with_timestamp), fmt: T::default() })
    }

    /// Removes the state of `txn`, which ends.
    ///
    /// # Safety
    /// As for `begin`.
    pub unsafe fn end(&mut self, txn: *mut pg_sys::ReorderBufferTXN) -> Txn<T> {
        match self.open.remove(&(*txn).xid.into_inner()) {
            Some(state) => state,
            None => Txn { info: info(txn, self.with_timestamp), fmt: T::default() },
        }
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
    };
    if with_timestamp {
        let text = pg_sys::timestamptz_to_str(info.commit_time);
        info.timestamp.extend_from_slice(CStr::from_ptr(text).to_bytes());
    }
    info
}
