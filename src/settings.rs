//! The settings a format prints values under (`Format::settings`), set in
//! a GUC nest level of their own around the code that prints: a decoded
//! transaction, or a batch of snapshot rows. The reorder buffer replays a
//! transaction in a (sub)transaction that is rolled back afterwards, and an
//! ERROR unwinds the level too, so the session's settings always come back.

use pgrx::pg_sys;
use pgrx::PgLogLevel;
use std::ffi::CStr;

/// A nest level made by `push`: the GUC nest level, and the transaction
/// nest level it was made in.
#[derive(Debug, Clone, Copy)]
pub struct Level(i32, i32);

/// Sets `settings` in a new GUC nest level (None when there are none).
///
/// # Safety
/// In a transaction.
pub unsafe fn push(settings: &[(&CStr, &CStr)]) -> Option<Level> {
    if settings.is_empty() {
        return None;
    }
    let level = Level(pg_sys::NewGUCNestLevel(), pg_sys::GetCurrentTransactionNestLevel());
    for (name, value) in settings {
        pg_sys::set_config_option(
            name.as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            PgLogLevel::ERROR as i32,
            false,
        );
    }
    Some(level)
}

/// Restores the settings `push` changed.
///
/// # Safety
/// `level` came from `push` in this backend.
pub unsafe fn pop(level: Option<Level>) {
    if let Some(Level(guc_level, xact_level)) = level {
        // A concurrent abort of a streamed or prepared transaction rolls
        // back the (sub)transaction the level was made in, and the level
        // with it, before the block's closing callback: nothing is left
        // to restore then.
        if pg_sys::IsTransactionState() && pg_sys::GetCurrentTransactionNestLevel() == xact_level {
            pg_sys::AtEOXact_GUC(true, guc_level);
        }
    }
}
