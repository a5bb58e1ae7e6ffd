//! The SQL functions of `CREATE EXTENSION waljson`, in the schema
//! `waljson`. The output plugin works without them.

use pgrx::prelude::*;

/// A result row of `waljson.snapshot()`: JSON text in the database's
/// encoding (what the stream sends), returned as `text` without a
/// UTF-8 round trip.
unsafe impl pgrx::callconv::BoxRet for crate::snapshot::JsonText {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        // SAFETY: a text value built in the current (per-call) memory
        // context from the row's bytes (under 1 GB: see snapshot.rs).
        unsafe {
            let text = pg_sys::cstring_to_text_with_len(self.0.as_ptr().cast(), self.0.len() as i32);
            fcinfo.return_raw_datum(pg_sys::Datum::from(text))
        }
    }
}

pgrx::impl_sql_translatable!(crate::snapshot::JsonText, "text");

// The functions check what they read themselves (a snapshot, the
// privileges on its table): every role may call them.
pgrx::extension_sql!("GRANT USAGE ON SCHEMA waljson TO PUBLIC;", name = "waljson_usage", finalize);

#[pg_schema]
mod waljson {
    use pgrx::prelude::*;

    /// The plugin's version.
    #[pg_extern(stable, parallel_safe)]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The JSON Schema of an output format (the repository's `schema/format-N.json`).
    #[pg_extern(stable, parallel_safe)]
    fn json_schema(format: i32) -> pgrx::JsonB {
        let text = match format {
            1 => include_str!("../schema/format-1.json"),
            2 => include_str!("../schema/format-2.json"),
            3 => include_str!("../schema/format-3.json"),
            _ => {
                let (min, max) = (crate::format::Version::MIN, crate::format::Version::MAX);
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("waljson.json_schema: there is no format version {format}"),
                    format!("Format versions are {min} to {max}.")
                );
            }
        };
        pgrx::JsonB(serde_json::from_str(text).expect("the schemas are valid JSON (checked by the unit tests)"))
    }

    /// Every row of `tbl` the current transaction sees, written as the
    /// stream writes an INSERT of it with the same options.
    #[pg_extern]
    fn snapshot(
        tbl: pgrx::PgRelation,
        options: default!(VariadicArray<'_, String>, "'{}'"),
    ) -> SetOfIterator<'static, crate::snapshot::JsonText> {
        let relid = tbl.oid();
        drop(tbl);
        let items = crate::snapshot::option_pairs(options.iter().collect());
        // SAFETY: called by PostgreSQL as an SQL function, in a transaction,
        // with the multi-call memory context current.
        SetOfIterator::new(unsafe { crate::snapshot::start(relid, &items) })
    }
}
