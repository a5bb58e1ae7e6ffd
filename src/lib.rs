//! waljson: a PostgreSQL logical decoding output plugin that writes
//! wal2json-compatible JSON. This file only wires the modules together and
//! exports the entry point PostgreSQL looks up.
//!
//! Pure Rust, unit-tested without PostgreSQL: `options`, `filter`, `format`
//! (the formats, their value styles), `json`, and the codecs `numeric`,
//! `jsonb`, `datetime`. The FFI half, compiled only into the plugin:
//! `callbacks` (the decoding events' policy), `output` (the writer of
//! `ctx->out`), `txn` (per-transaction state), `tuple` (deforming and
//! rendering rows), `datum` (decoding values), `relation` (the relation
//! cache), `compat` (PostgreSQL version differences), `settings` (the
//! formats' session settings), `unguarded`; and the extension's SQL
//! functions: `sql`, `snapshot` (`waljson.snapshot()`).

pub mod filter;
pub mod format;
pub mod json;
pub mod options;

#[cfg(not(test))]
mod callbacks;
#[cfg(not(test))]
mod compat;
mod datetime;
#[cfg(not(test))]
mod datum;
mod jsonb;
mod numeric;
#[cfg(not(test))]
mod output;
#[cfg(not(test))]
mod publication;
#[cfg(not(test))]
mod relation;
#[cfg(not(test))]
mod settings;
#[cfg(not(test))]
mod snapshot;
#[cfg(not(test))]
mod sql;
#[cfg(not(test))]
mod tuple;
#[cfg(not(test))]
mod txn;
#[cfg(not(test))]
mod unguarded;

#[cfg(not(test))]
use pgrx::pg_sys;

/// The crate's version as a C string, for the module magic block.
#[cfg(not(test))]
const VERSION: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version contains a NUL byte"),
    };

// PostgreSQL 18 shows the name and version (pg_get_loaded_modules()), as
// wal2json 2.6+ declares them; earlier versions ignore them.
#[cfg(not(test))]
::pgrx::pg_module_magic!(name = c"waljson", version = VERSION);

/// Called by PostgreSQL when a slot using this plugin is created or read.
///
/// # Safety
/// `cb` points to the callback struct PostgreSQL allocated for this plugin.
#[cfg(not(test))]
#[pgrx::pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn _PG_output_plugin_init(cb: *mut pg_sys::OutputPluginCallbacks) {
    let cb = &mut *cb;
    cb.startup_cb = Some(callbacks::startup);
    cb.begin_cb = Some(callbacks::begin);
    cb.change_cb = Some(callbacks::change);
    cb.truncate_cb = Some(callbacks::truncate);
    cb.commit_cb = Some(callbacks::commit);
    cb.message_cb = Some(callbacks::message);
    cb.filter_by_origin_cb = Some(callbacks::filter_by_origin);
    cb.shutdown_cb = Some(callbacks::shutdown);
    #[cfg(not(feature = "pg13"))]
    {
        use callbacks::streams;
        // Registered always (the server then allows them); startup decides
        // per session whether the server streams (`ctx->streaming`) and
        // decodes at PREPARE (`ctx->twophase`).
        cb.stream_start_cb = Some(streams::stream_start);
        cb.stream_stop_cb = Some(streams::stream_stop);
        cb.stream_abort_cb = Some(streams::stream_abort);
        cb.stream_commit_cb = Some(streams::stream_commit);
        cb.stream_prepare_cb = Some(streams::stream_prepare);
        cb.stream_change_cb = Some(streams::stream_change);
        cb.stream_truncate_cb = Some(streams::stream_truncate);
        cb.stream_message_cb = Some(streams::stream_message);
        cb.begin_prepare_cb = Some(streams::begin_prepare);
        cb.prepare_cb = Some(streams::prepare);
        cb.commit_prepared_cb = Some(streams::commit_prepared);
        cb.rollback_prepared_cb = Some(streams::rollback_prepared);
    }
}
