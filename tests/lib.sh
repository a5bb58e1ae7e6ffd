# Shared by the shell suites (sourced from the repository root):
# a throwaway cluster removed on exit, ok/fail counters and the final line.
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
sql() { psql -X -q -At -d postgres -v ON_ERROR_STOP=1 -c "$*"; }

# start_cluster NAME [SO]: a cluster in $dir/cluster loading SO (default: the
# release build), with PGHOST/PGPORT/PGUSER exported. EXTRA_CONF applies.
start_cluster() {
    dir=$(mktemp -d "/tmp/waljson-$1.XXXXXX")
    chmod 755 "$dir"
    trap 'kill $(jobs -p) 2>/dev/null; tools/cluster.sh destroy "$dir/cluster" >/dev/null 2>&1; rm -rf "$dir"' EXIT
    tools/cluster.sh start "$dir/cluster" "${2:-${CARGO_TARGET_DIR:-target}/release/libwaljson.so}" >/dev/null
    eval "$(tools/cluster.sh env "$dir/cluster")"
}

# finish NAME: a crashed backend fails the suite; prints "NAME: N passed, N failed".
finish() {
    if grep -Eq "terminated by signal|server process .* was terminated" "$dir/cluster/server.log"; then
        fail "a backend crashed"
    else
        ok "no backend crashed"
    fi
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# Peak private (anonymous) memory of the walsender serving application $1
# (or with VIEW=pg_stat_activity, $3, of the backend), in kB, kept in $2.
sample_memory() {
    local app=$1 out=$2 view=${3:-pg_stat_replication} pid="" peak=0 rss hwm=0
    while true; do
        [ -z "$pid" ] && pid=$(psql -X -At -d postgres -c "SELECT pid FROM $view WHERE application_name = '$app'" 2>/dev/null)
        if [ -n "$pid" ]; then
            [ -r "/proc/$pid/status" ] || break
            rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
            [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
            # Renamed into place: the reader may kill this loop at any moment.
            echo "$peak" >"$out.tmp" && mv -f "$out.tmp" "$out"
        fi
        sleep 0.2
    done
}
