# waljson: build, install, demo and test. Every target installs what it
# needs first (tools/deps.sh: apt packages, cargo-pgrx 0.18.1, cargo pgrx init),
# and is quick when everything is already there.
# PG selects the PostgreSQL major (and the matching pgrx feature).
PG ?= 15
PG_CONFIG ?= /usr/lib/postgresql/$(PG)/bin/pg_config
export PG_CONFIG
export PG_MAJOR := $(PG)
export PGRX_PG_CONFIG_PATH := $(PG_CONFIG)
export CARGO_FEATURE_FLAGS := --no-default-features --features pg$(PG)
# .cargo/config.toml already keeps the section cargo pgrx schema reads (see there).
export CARGO_PGRX_DISABLE_GC_SECTIONS_WORKAROUND := 1

.PHONY: all deps build install package demo test test-here test-matrix test-long bench bench-instructions unit regress protocol check-versions clean

all: build

deps:
	@tools/deps.sh

build: deps
	cargo build --release $(CARGO_FEATURE_FLAGS)
	tools/extension-files.sh

# Installs waljson.so into the server's library directory.
install: deps
	cargo pgrx install --release --pg-config $(PG_CONFIG) $(CARGO_FEATURE_FLAGS)
	@echo
	@echo "waljson installed. The server must load it as an output plugin:"
	@echo "  wal_level = logical"
	@echo "  output_plugin_libraries = 'pgoutput, test_decoding, waljson'   (if your server has this setting)"
	@echo "then restart PostgreSQL and: SELECT pg_create_logical_replication_slot('s', 'waljson');"

# postgresql-$(PG)-waljson_<version>_<arch>.deb: the library and the
# extension's files, for servers without Rust (tests/package.sh installs it
# into a clean Debian root).
package: build
	tools/package.sh

demo: build
	tools/demo.sh

# With a PG whose server is not installed here (17, 18), the suites run in a
# Debian root with that version (tools/matrix.sh).
test:
	@if [ "$(PG)" = 15 ] || [ -x "$(PG_CONFIG)" ]; then $(MAKE) --no-print-directory test-here; else tools/matrix.sh $(PG); fi

test-here: build
	tools/test.sh

# PostgreSQL 15 (host), 17 (Debian trixie root) and 18 (Debian sid root).
test-matrix:
	tools/matrix.sh 15 17 18

# Long tests: the Debian package in a clean Debian root, a snapshot of ten
# million rows (the backend's peak memory), 10 more snapshot-then-stream
# rounds (new seed), a transaction with over 1.5 GB of format-version 1 output (a few
# minutes, ~5 GB of disk), a streamed transaction of over 2 GB of output (~8 GB
# of disk), 5000 round-trip cases, 1000 publication cases against pgoutput (new
# seed each run), 400 streamed/prepared cases and 150 with crashes (new seed),
# crash and resume, a 3-minute soak.
test-long: build
	tests/package.sh
	SNAPSHOT_ROWS=10000000 tests/snapshot_big.sh
	SNAPSHOT_ROUNDS=10 SNAPSHOT_SEED=$$(date +%s) tests/snapshot.sh
	tests/huge.sh
	tests/stream_huge.sh
	STREAM_CASES=400 STREAM_SEED=$$(date +%s) tests/stream.sh
	STREAM_CASES=150 STREAM_SEED=$$(date +%s) tests/stream.sh --crash
	ROUNDTRIP_CASES=5000 tests/roundtrip.sh
	PUBDIFF_CASES=1000 PUBDIFF_SEED=$$(date +%s) tests/pubdiff.sh
	tests/crash.sh
	SOAK_SECONDS=180 tests/soak.sh

# Decoding speed against wal2json, test_decoding and pgoutput (minutes; BENCH_SCALE=0.2 for a quick run).
bench: build
	/usr/bin/python3 tools/bench.py

# Instructions per decode of the mixed workload (callgrind; about 2 minutes):
# a load-independent check of the hot path.
bench-instructions: build
	@EXTRA_PACKAGES=valgrind tools/deps.sh
	tools/instructions.sh

unit:
	cargo test --lib $(CARGO_FEATURE_FLAGS)

regress: build
	tools/regress.sh

protocol: build
	tests/protocol.sh

check-versions:
	tools/check-versions.sh

clean:
	cargo clean
