# auto-home: build, test, run, bench. The cross build and the image live in
# mk/cross.mk and mk/image.mk.
SHELL := /bin/bash
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
BUILD := build
# A folder holding only the static archives we want: the linker looks here
# first, so these libraries link statically into autohomed.
STATIC_LIBS := $(BUILD)/static-libs
STATIC_WANT := mujs gpiod sqlite3
LINK_FLAGS := -Xlinker -L$(CURDIR)/$(STATIC_LIBS)
DEBUG_BIN := .build/debug/autohomed
RELEASE_BIN := .build/release/autohomed
RUN_DIR := run

.PHONY: all deps build release test unit-test scenario-test cquic-test check-trixie-headers blackbox-test run bench clean

all: build

deps:
	@scripts/install-deps.sh

$(STATIC_LIBS)/.stamp: scripts/host-packages.txt Makefile
	@mkdir -p $(STATIC_LIBS)
	@for l in $(STATIC_WANT); do \
	  a=$$(ls /usr/lib/*-linux-gnu/lib$$l.a 2>/dev/null | head -n1); \
	  [ -n "$$a" ] || { echo "lib$$l.a not found (make deps)"; exit 1; }; \
	  ln -sf "$$a" $(STATIC_LIBS)/lib$$l.a; done
	@touch $@

build: deps $(STATIC_LIBS)/.stamp
	$(SWIFT) build $(LINK_FLAGS)

release: deps $(STATIC_LIBS)/.stamp
	$(SWIFT) build -c release $(LINK_FLAGS)

unit-test: build
	$(SWIFT) test $(LINK_FLAGS)

scenario-test: build
	$(DEBUG_BIN) --check-config --config overlay/etc/auto-home/config.json
	python3 scripts/run-scenarios.py $(DEBUG_BIN)

blackbox-test: build
	@if [ -d Tests/blackbox ] && ls Tests/blackbox/test_*.py >/dev/null 2>&1; then \
	  AUTOHOMED=$(CURDIR)/$(DEBUG_BIN) python3 -m pytest -q Tests/blackbox; \
	else echo "no black-box tests yet"; fi

# The QUIC core alone, against an echo server (aioquic and gtlsclient clients).
cquic-test: deps
	$(MAKE) -C Tests/cquic test

# CQuic must also compile and work against Debian 13's ngtcp2 1.x / nghttp3 1.x.
check-trixie-headers: deps
	scripts/check-trixie-headers.sh --test

test: unit-test scenario-test cquic-test check-trixie-headers blackbox-test fuzz-smoke

# Runs the daemon on defaults with its data under ./run/. LISTEN=HOST:PORT
# applies also when run/config.json exists (the script says which file it uses).
run: release
	@mkdir -p $(RUN_DIR)
	@scripts/make-run-config.sh $(RUN_DIR)
	$(RELEASE_BIN) --config $(RUN_DIR)/config.json

# Engine figures; HTTP/3 figures from `autohome bench` against the daemon and
# against the CQuic echo server (the transport floor); then the aioquic
# clients as a cross-check.
bench: release
	.build/release/autohome-bench
	$(MAKE) -C Tests/cquic
	python3 scripts/bench-cli.py $(RELEASE_BIN) .build/release/autohome .build-cquic/echo_server
	python3 scripts/bench-h3.py $(RELEASE_BIN)
	python3 scripts/bench-store.py $(RELEASE_BIN)

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz $(BUILD)

include mk/cross.mk mk/image.mk mk/fuzz.mk mk/sanitize.mk
