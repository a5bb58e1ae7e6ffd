#!/usr/bin/env bash
# The Debian package (tools/package.sh) in a clean Debian root without Rust:
# `apt install ./postgresql-N-waljson_*.deb` installs it, a cluster there
# decodes with it and can CREATE EXTENSION waljson, and `apt remove`
# removes every file it installed.
#
#   tests/package.sh [DEB]     default: the package of `make package` for PG_CONFIG's major
#
# The clean roots (debootstrap minbase + postgresql-N, nothing else) are
# cached in WALJSON_ROOTS (default /var/cache/waljson-roots/pkg-SUITE) and
# copied afresh for each run. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
major=${PG_MAJOR:-$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')}
deb=${1:-$(tools/package.sh | tail -1)}
cache=${WALJSON_ROOTS:-/var/cache/waljson-roots}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
case $major in 15) suite=bookworm ;; 17) suite=trixie ;; 18) suite=sid ;; *) echo "no suite for PostgreSQL $major"; exit 2 ;; esac
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
[ "$(id -u)" = 0 ] || { echo "package: 0 passed, 1 failed (needs root)"; exit 1; }
[ -f "$deb" ] || { echo "package: 0 passed, 1 failed (no package $deb)"; exit 1; }

base=$cache/pkg-$suite
if [ ! -x "$base/usr/lib/postgresql/$major/bin/postgres" ]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    echo "== a clean $suite root with postgresql-$major (once, a few minutes)"
    rm -rf "$base.new" && mkdir -p "$cache"
    debootstrap --variant=minbase "$suite" "$base.new" "$mirror" >"$cache/pkg-$suite.log" 2>&1 || { tail -5 "$cache/pkg-$suite.log"; echo "package: 0 passed, 1 failed (debootstrap)"; exit 1; }
    cp /etc/resolv.conf "$base.new/etc/resolv.conf"
    # No service starts in the root, and no default cluster is made.
    printf '#!/bin/sh\nexit 101\n' >"$base.new/usr/sbin/policy-rc.d" && chmod 755 "$base.new/usr/sbin/policy-rc.d"
    mkdir -p "$base.new/etc/postgresql-common" && echo "create_main_cluster = false" >"$base.new/etc/postgresql-common/createcluster.conf"
    # postgresql-common's scripts need /proc (systemd-tmpfiles, in sid).
    mount -t proc proc "$base.new/proc"
    chroot "$base.new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive bash -c \
        "apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends postgresql-$major >/dev/null" \
        >>"$cache/pkg-$suite.log" 2>&1
    installed=$?
    umount "$base.new/proc"
    [ $installed -eq 0 ] || { tail -5 "$cache/pkg-$suite.log"; echo "package: 0 passed, 1 failed (postgresql-$major)"; exit 1; }
    mv "$base.new" "$base"
fi

root=$(mktemp -d /var/tmp/waljson-pkgroot.XXXXXX)
cleanup() {
    for m in $(awk -v r="$root" 'index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
cp "$deb" "$root/tmp/"
debname=$(basename "$deb")
pkg=$(dpkg-deb -f "$deb" Package)

inroot() { chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive bash -c "$1"; }
if inroot "! command -v cargo && ! command -v rustc && [ ! -d /root/.cargo ] && [ ! -d /root/.rustup ]" >/dev/null; then
    ok "the root has no Rust toolchain"
else
    fail "the root has a Rust toolchain"
fi
if inroot "apt-get install -y -qq /tmp/$debname" >"$root/tmp/install.log" 2>&1; then
    ok "apt install ./$debname"
else
    fail "apt install ./$debname:"; tail -5 "$root/tmp/install.log"
fi
inroot "dpkg -L $pkg" | while read -r f; do [ -f "$root$f" ] && echo "$f"; done >"$root/tmp/files"
echo "   installed: $(tr '\n' ' ' <"$root/tmp/files")"

cat >"$root/tmp/decode.sh" <<SCRIPT
set -e
bin=/usr/lib/postgresql/$major/bin
rm -rf /tmp/pgdata && mkdir -p /tmp/pgdata /tmp/pgsock && chown postgres /tmp/pgdata /tmp/pgsock
runuser -u postgres -- \$bin/initdb -D /tmp/pgdata -A trust --encoding=UTF8 --locale=C.UTF-8 >/tmp/initdb.log
conf="-c wal_level=logical -c listen_addresses= -c unix_socket_directories=/tmp/pgsock -c port=5432"
if runuser -u postgres -- \$bin/postgres --describe-config | grep -q '^output_plugin_libraries'; then
    conf="\$conf -c output_plugin_libraries=waljson"
fi
runuser -u postgres -- \$bin/pg_ctl -D /tmp/pgdata -l /tmp/server.log -w -o "\$conf" start >/dev/null
psql() { runuser -u postgres -- \$bin/psql -X -q -At -h /tmp/pgsock -p 5432 -d postgres -v ON_ERROR_STOP=1 "\$@"; }
psql -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
psql -c "SELECT pg_create_logical_replication_slot('s', 'waljson')" >/dev/null
psql -c "INSERT INTO t VALUES (1, 'a'), (2, 'b')"
psql -c "SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL, 'format-version', '2', 'include-transaction', '0')" >/tmp/decoded
psql -c "CREATE EXTENSION waljson"
psql -c "SELECT waljson.version()" >/tmp/version
psql -c "SELECT s FROM waljson.snapshot('t', 'format-version', '2') s" >/tmp/snapshot
psql -c "SELECT pg_drop_replication_slot('s')" >/dev/null
runuser -u postgres -- \$bin/pg_ctl -D /tmp/pgdata -m fast -w stop >/dev/null
SCRIPT
if inroot "bash /tmp/decode.sh" >"$root/tmp/decode.log" 2>&1 && [ "$(wc -l <"$root/tmp/decoded")" = 2 ] && grep -q '"action":"I"' "$root/tmp/decoded"; then
    ok "a cluster in the root decodes with the packaged plugin: $(head -1 "$root/tmp/decoded")"
else
    fail "decoding in the root:"; tail -5 "$root/tmp/decode.log" "$root/tmp/server.log" 2>/dev/null
fi
if [ -f "$root/tmp/snapshot" ] && cmp -s "$root/tmp/snapshot" "$root/tmp/decoded"; then
    ok "CREATE EXTENSION waljson $(cat "$root/tmp/version"): waljson.snapshot() writes what the stream wrote"
else
    fail "CREATE EXTENSION waljson / waljson.snapshot() in the root"
fi
inroot "apt-get remove -y -qq $pkg" >"$root/tmp/remove.log" 2>&1 || fail "apt remove $pkg"
left=$(while read -r f; do [ -e "$root$f" ] && echo "$f"; done <"$root/tmp/files")
if [ -s "$root/tmp/files" ] && [ -z "$left" ] && ! inroot "dpkg -s $pkg" >/dev/null 2>&1; then
    ok "apt remove removes all $(wc -l <"$root/tmp/files") files it installed"
else
    fail "apt remove left: $left"
fi
echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
