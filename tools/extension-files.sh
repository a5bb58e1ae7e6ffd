#!/usr/bin/env bash
# The extension's files beside the built library, in
# ${CARGO_TARGET_DIR:-target}/release/extension/: the control file (version
# filled in, as cargo-pgrx does), the install script pgrx generates from the
# library (`cargo pgrx schema`, reusing `make build`'s build: see
# .cargo/config.toml) and the upgrade scripts of sql/.
# tools/cluster.sh installs them with the library.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
out=${CARGO_TARGET_DIR:-target}/release/extension
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -1)

mkdir -p "$out"
rm -f "$out"/*.sql
sed "s/@CARGO_VERSION@/$version/" waljson.control >"$out/waljson.control"
CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND=1 cargo pgrx schema --release --pg-config "$PG_CONFIG" \
    --no-default-features --features "pg$major" -o "$out/waljson--$version.sql" >"$out/schema.log" 2>&1 \
    || { cat "$out/schema.log"; exit 1; }
cp sql/waljson--*--*.sql "$out/"
