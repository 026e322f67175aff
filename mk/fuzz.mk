# Fuzzing (include from the top Makefile). Harnesses: Tests/fuzz (docs/fuzzing.md).
#   make fuzz              every harness for FUZZ_TIME seconds (default 120)
#   make fuzz-smoke        every harness for FUZZ_SMOKE_TIME seconds (part of make test)
#   make fuzz FUZZ_MERGE=1 ... and fold what it found into Tests/fuzz/corpus
#   make fuzz-coverage     functions and edges the corpus reaches, per source file
# The Swift harnesses are SwiftPM targets that exist only with AUTOHOME_FUZZ=1
# (Package.swift); everything is built with libFuzzer + ASan into .build-fuzz.

FUZZ_BUILD := .build-fuzz
FUZZ_SWIFT_HARNESSES := json event definitions config
FUZZ_TIME ?= 120
FUZZ_SMOKE_TIME ?= 4
FUZZ_SWIFT_FLAGS := -c debug --scratch-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address \
	-Xcc -fsanitize=fuzzer-no-link,address,undefined -Xswiftc -use-ld=lld $(LINK_FLAGS)

.PHONY: fuzz-build fuzz fuzz-smoke fuzz-coverage
fuzz-build: deps $(STATIC_LIBS)/.stamp
	@set -e; for h in $(FUZZ_SWIFT_HARNESSES); do \
	  echo "AUTOHOME_FUZZ=1 swift build --product autohome-fuzz-$$h"; \
	  AUTOHOME_FUZZ=1 $(SWIFT) build $(FUZZ_SWIFT_FLAGS) --product autohome-fuzz-$$h; \
	done
	$(MAKE) -C Tests/fuzz/cquic OUT=$(CURDIR)/$(FUZZ_BUILD)/cquic

fuzz: fuzz-build
	FUZZ_MERGE=$(FUZZ_MERGE) scripts/run-fuzz.sh $(FUZZ_TIME)

fuzz-smoke: fuzz-build
	scripts/run-fuzz.sh $(FUZZ_SMOKE_TIME)

fuzz-coverage: fuzz-build
	scripts/fuzz-coverage.sh
