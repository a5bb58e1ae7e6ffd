#!/usr/bin/env bash
# Type-checks waljson for every PostgreSQL major pgrx supports (13..18)
# without those servers installed: pgrx-pg-sys then uses the bindings it ships
# (compiled with --cfg docsrs, which the wrapper passes to that crate only).
set -euo pipefail
cd "$(dirname "$0")/.."
majors=${MAJORS:-"13 14 15 16 17 18"}
log=$(mktemp /tmp/waljson-check.XXXXXX)
trap 'rm -f "$log"' EXIT
for v in $majors; do
    if DOCS_RS=1 RUSTC_WRAPPER="$PWD/tools/docsrs-rustc" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/xcheck" \
        cargo check --quiet --lib --no-default-features --features "pg$v" 2>"$log"; then
        echo "pg$v: compiles"
    else
        echo "pg$v: FAILS"
        cat "$log"
        exit 1
    fi
done
