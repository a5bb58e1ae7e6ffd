#!/usr/bin/env bash
# `make test-matrix` / `make test PG=17|18`: the same suites as `make test`
# on other PostgreSQL majors, each in a Debian root built with debootstrap
# (PostgreSQL 17 from trixie, 18 from sid: their binaries need a newer glibc
# than the host's), with the host's Rust toolchain mounted read-only.
#
#   tools/matrix.sh [VERSION...]     default: 15 17 18 (15 runs on the host)
#   tools/matrix.sh clean VERSION    remove a root (refused while anything is mounted in it)
#   tools/matrix.sh run VERSION CMD  run CMD in the checkout inside that version's root
#
# Roots live in WALJSON_ROOTS (default /var/cache/waljson-roots), outside the
# repository, and are reused. Cargo's registry and build output live inside
# each root; the checkout is mounted read-only.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cache=${WALJSON_ROOTS:-/var/cache/waljson-roots}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

suite_for() {
    case $1 in
    17) echo trixie ;;
    18) echo sid ;;
    *) echo "no root recipe for PostgreSQL $1 (supported: 17, 18; 15 runs on the host)" >&2; exit 2 ;;
    esac
}

# Everything mounted below $1, deepest first.
mounts_under() {
    awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r
}

unmount_all() {
    local root=$1 m
    for m in $(mounts_under "$root"); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

if [ "${1:-}" = clean ]; then
    root=$cache/$(suite_for "${2:?version}")
    unmount_all "$root"
    if [ -n "$(mounts_under "$root")" ]; then
        echo "refusing to delete $root: still mounted:" >&2
        mounts_under "$root" >&2
        exit 1
    fi
    rm -rf --one-file-system "$root"
    echo "removed $root"
    exit 0
fi

[ "$(id -u)" = 0 ] || { echo "tools/matrix.sh needs root (debootstrap, chroot, mount)" >&2; exit 1; }

ensure_root() {
    local v=$1 root=$2 suite
    suite=$(suite_for "$v")
    if [ ! -x "$root/usr/bin/apt-get" ]; then
        command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        echo "== debootstrap $suite into $root"
        mkdir -p "$cache"
        debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/$suite.debootstrap.log" 2>&1 \
            || { tail -5 "$cache/$suite.debootstrap.log"; exit 1; }
    fi
    cp /etc/resolv.conf "$root/etc/resolv.conf"
}

run_in_root() {
    local v=$1 root=$2 cmd=${3:-"make test PG=$1"}
    mountpoint -q "$root/proc" || mount_root "$root"
    # cargo metadata (cargo pgrx schema) resolves every crate of the graph,
    # also those built for no target here: the host's registry has them
    # (make test ran there first); what is missing in the root is copied.
    if [ -d "$HOME/.cargo/registry/cache" ]; then
        mkdir -p "$root/root/.cargo/registry"
        cp -rn "$HOME/.cargo/registry/cache" "$HOME/.cargo/registry/index" "$root/root/.cargo/registry/" 2>/dev/null || true
    fi
    # Downloads from the root trust what the host trusts (a proxy's CA).
    cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$root/etc/waljson-host-ca.crt" 2>/dev/null || true
    local pkgs="make gcc libc6-dev pkg-config libclang-dev clang postgresql-$v postgresql-server-dev-$v postgresql-$v-wal2json python3-psycopg2 python3-jsonschema binutils ca-certificates"
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        bash -c "dpkg -s $pkgs >/dev/null 2>&1 || { apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends $pkgs >/dev/null; }"
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/root/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        RUSTUP_HOME=/root/.rustup CARGO_HOME=/root/.cargo RUSTUP_AUTO_INSTALL=0 CARGO_TARGET_DIR=/root/target \
        CARGO_HTTP_CAINFO=/etc/waljson-host-ca.crt \
        PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config PGRX_PG_CONFIG_PATH=/usr/lib/postgresql/$v/bin/pg_config \
        CARGO_FEATURE_FLAGS="--no-default-features --features pg$v" PG_MAJOR=$v \
        bash -c "cd /src/waljson && $cmd"
}

# Mounts: kernel filesystems, the toolchain (read-only) and the checkout (read-only).
mount_root() {
    local root=$1
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mkdir -p "$root/root/.rustup" "$root/root/.cargo/bin" "$root/src/waljson"
    mount --bind "$HOME/.rustup" "$root/root/.rustup"
    mount -o remount,bind,ro "$root/root/.rustup"
    mount --bind "$HOME/.cargo/bin" "$root/root/.cargo/bin"
    mount -o remount,bind,ro "$root/root/.cargo/bin"
    mount --bind "$repo" "$root/src/waljson"
    mount -o remount,bind,ro "$root/src/waljson"
}

if [ "${1:-}" = run ]; then
    v=${2:?version}
    root=$cache/$(suite_for "$v")
    ensure_root "$v" "$root"
    trap 'unmount_all "$root"' EXIT
    run_in_root "$v" "$root" "${3:?command}"
    exit $?
fi

versions=${*:-15 17 18}
logs=$(mktemp -d /tmp/waljson-matrix.XXXXXX)
summary=""
status=0
for v in $versions; do
    start=$(date +%s)
    if [ "$v" = 15 ]; then
        echo "== PostgreSQL 15 (host)"
        if make --no-print-directory test PG=15 | tee "$logs/15.log"; then r=ok; else r=FAILED; status=1; fi
        line=$(tail -1 "$logs/15.log")
    else
        root=$cache/$(suite_for "$v")
        ensure_root "$v" "$root"
        echo "== PostgreSQL $v (in $root)"
        trap 'unmount_all "$root"' EXIT
        if run_in_root "$v" "$root" 2>&1 | tee "$logs/$v.log"; then r=ok; else r=FAILED; status=1; fi
        line=$(tail -1 "$logs/$v.log")
        # The Debian package built there, installed into a clean root of
        # the same suite (tests/package.sh runs on the host: it makes roots).
        echo "== PostgreSQL $v: the Debian package"
        if run_in_root "$v" "$root" "tools/package.sh" >"$logs/$v.package" 2>&1 \
            && PG_MAJOR=$v tests/package.sh "$root$(tail -1 "$logs/$v.package")" 2>&1 | tee -a "$logs/$v.log"; then
            line="$line; $(tail -1 "$logs/$v.log")"
        else
            cat "$logs/$v.package"
            r=FAILED; status=1; line="$line; package FAILED"
        fi
        unmount_all "$root"
        trap - EXIT
    fi
    summary="$summary
PostgreSQL $v: $r ($line) in $(($(date +%s) - start)) s"
done
rm -rf "$logs"
echo "== matrix$summary"
exit $status
