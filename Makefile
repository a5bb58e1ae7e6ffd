# waljson: build, install, demo and test. Every target installs what it
# needs first (tools/deps.sh: apt packages, cargo-pgrx 0.18.1, cargo pgrx init),
# and is quick when everything is already there.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG
export PGRX_PG_CONFIG_PATH := $(PG_CONFIG)
SO := target/release/libwaljson.so

.PHONY: all deps build install demo test test-long bench unit regress protocol check-versions clean

all: build

deps:
	@tools/deps.sh

build: deps
	cargo build --release

# Installs waljson.so into the server's library directory.
install: deps
	cargo pgrx install --release --pg-config $(PG_CONFIG)
	@echo
	@echo "waljson installed. The server must load it as an output plugin:"
	@echo "  wal_level = logical"
	@echo "  output_plugin_libraries = 'pgoutput, test_decoding, waljson'   (if your server has this setting)"
	@echo "then restart PostgreSQL and: SELECT pg_create_logical_replication_slot('s', 'waljson');"

demo: build
	tools/demo.sh

test: build
	tools/test.sh

# Long tests: a transaction with over 1.5 GB of format-version 1 output (a few minutes, ~5 GB of disk).
test-long: build
	tests/huge.sh

# Decoding speed against wal2json, test_decoding and pgoutput (minutes; BENCH_SCALE=0.2 for a quick run).
bench: build
	/usr/bin/python3 tools/bench.py

unit:
	cargo test --lib

regress: build
	tools/regress.sh

protocol: build
	tests/protocol.sh

check-versions:
	tools/check-versions.sh

clean:
	cargo clean
