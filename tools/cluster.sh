#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests, demo and benchmarks.
#
#   tools/cluster.sh start DIR [SO]   initdb + start a cluster in DIR (as the postgres
#                                     OS user, on a free port); SO is the waljson .so
#                                     to load (default target/release/libwaljson.so)
#   tools/cluster.sh stop DIR         stop it (the directory stays)
#   tools/cluster.sh destroy DIR      stop and remove it
#   tools/cluster.sh env DIR          print PGHOST/PGPORT/PGUSER exports
#
# EXTRA_CONF (newline-separated settings) is appended to the configuration.
#
# initdb and postgres refuse to run as root, so when run as root the server
# runs as the `postgres` user (created by Debian's postgresql packages).
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    local p
    for p in $(seq 54320 54420); do
        if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
            echo "$p"
            return
        fi
    done
    echo "no free port" >&2
    exit 1
}

cmd=${1:?usage: cluster.sh start|stop|destroy|env DIR}
dir=${2:?cluster directory}

case "$cmd" in
start)
    so=${3:-${CARGO_TARGET_DIR:-target}/release/libwaljson.so}
    mkdir -p "$dir/lib"
    dir=$(cd "$dir" && pwd)
    # Copy then rename: never overwrite a .so a running backend has mapped.
    install -m 755 "$so" "$dir/lib/waljson.so.new"
    mv -f "$dir/lib/waljson.so.new" "$dir/lib/waljson.so"
    # The extension's control and SQL files (CREATE EXTENSION waljson) go
    # to the server's extension directory, when `make build` made them.
    if [ -f "$(dirname "$so")/extension/waljson.control" ]; then
        install -m 644 "$(dirname "$so")"/extension/waljson.control "$(dirname "$so")"/extension/waljson--*.sql \
            "$("$PG_CONFIG" --sharedir)/extension/"
    fi
    port=$(free_port)
    if [ ! -d "$dir/data" ]; then
        [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
        as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log"; exit 1; }
    fi
    cat >"$dir/data/postgresql.auto.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 40
max_wal_senders = 20
fsync = off
synchronous_commit = on
max_prepared_transactions = 10
dynamic_library_path = '$dir/lib:\$libdir'
output_plugin_libraries = 'pgoutput, test_decoding, wal2json, waljson'
logging_collector = off
log_min_messages = warning
${EXTRA_CONF:-}
EOF
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    echo "$port" >"$dir/port"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
destroy)
    "$0" stop "$dir"
    rm -rf "$dir"
    ;;
env)
    dir=$(cd "$dir" && pwd)
    echo "export PGHOST='$dir' PGPORT=$(cat "$dir/port") PGUSER=postgres"
    ;;
*)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
