#!/usr/bin/env bash
# Installs what building and testing waljson needs, only what is missing:
# Debian packages (PostgreSQL 15 server and headers, clang for bindgen,
# wal2json as the reference, psycopg2), cargo-pgrx 0.18.1, and
# `cargo pgrx init` against the system pg_config. Quick when all is there.
set -euo pipefail
PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PGRX_VERSION=0.18.1

packages="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-wal2json libclang-dev clang pkg-config python3-psycopg2 python3-jsonschema ${EXTRA_PACKAGES:-}"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing Debian packages:$missing"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >/dev/null
fi

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
    echo "installing cargo-pgrx $PGRX_VERSION (a few minutes, once)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi

pgrx_config=${PGRX_HOME:-$HOME/.pgrx}/config.toml
if ! grep -q "^pg$PG_MAJOR = \"$PG_CONFIG\"" "$pgrx_config" 2>/dev/null; then
    echo "cargo pgrx init --pg$PG_MAJOR $PG_CONFIG"
    cargo pgrx init "--pg$PG_MAJOR" "$PG_CONFIG" >/dev/null
fi
