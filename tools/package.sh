#!/usr/bin/env bash
# `make package`: postgresql-<major>-waljson_<version>_<arch>.deb for the
# PostgreSQL that PG_CONFIG names, from the release build (`make build`):
# the library, the extension's control and SQL files, README and license;
# it depends on postgresql-<major> and on the packages of the libraries it
# links (libc6 at the newest symbol version it uses). Servers that run the
# plugin need no Rust. Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
major=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
target=${CARGO_TARGET_DIR:-target}/release
so=$target/libwaljson.so
ext=$target/extension
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
name=postgresql-$major-waljson
[ -f "$so" ] && [ -f "$ext/waljson--$version.sql" ] || { echo "build first: make build PG=$major" >&2; exit 1; }

stage=$(mktemp -d /tmp/waljson-package.XXXXXX)
trap 'rm -rf "$stage"' EXIT
pkglibdir=$stage$("$PG_CONFIG" --pkglibdir)
extdir=$stage$("$PG_CONFIG" --sharedir)/extension
docdir=$stage/usr/share/doc/$name
install -d "$pkglibdir" "$extdir" "$docdir" "$stage/DEBIAN"
install -m 644 "$so" "$pkglibdir/waljson.so"
strip --strip-unneeded "$pkglibdir/waljson.so"
install -m 644 "$ext"/waljson.control "$ext"/waljson--*.sql "$extdir/"
install -m 644 README.md "$docdir/README.md"
install -m 644 LICENSE "$docdir/copyright"

# The packages of the shared libraries the plugin links (PostgreSQL's own
# symbols come from the server), libc6 at the newest GLIBC version used.
depends="postgresql-$major"
glibc=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
for lib in $(objdump -p "$so" | awk '/NEEDED/ {print $2}'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|aarch64|64/ {print $NF; exit}')
    [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -n "$pkg" ] || { echo "no package owns $lib ($path)" >&2; exit 1; }
    case " $depends " in *", $pkg"*|*" $pkg "*|*" $pkg ("*) continue ;; esac
    if [ "$pkg" = libc6 ] && [ -n "$glibc" ]; then depends="$depends, libc6 (>= $glibc)"; else depends="$depends, $pkg"; fi
done
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: waljson developers <waljson@localhost>
Depends: $depends
Section: database
Priority: optional
Installed-Size: $size
Homepage: https://github.com/waljson/waljson
Description: wal2json-compatible JSON output plugin for PostgreSQL $major
 waljson is a logical decoding output plugin: it turns committed changes
 into JSON for any replication client (wal2json's formats 1 and 2 byte for
 byte, and a typed format in Debezium's envelope), with streaming of large
 transactions, two-phase commit and publications. CREATE EXTENSION waljson
 adds waljson.snapshot(), an initial snapshot in the stream's own format.
CONTROL
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
out=$target/${name}_${version}_${arch}.deb
dpkg-deb --build --root-owner-group "$stage" "$out" >/dev/null
echo "$out"
