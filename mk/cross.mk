# arm64 cross build (include from the top Makefile: `include mk/cross.mk mk/image.mk`).
# The toolchain (Debian 13 amd64 chroot with swiftlang 6.0.3 + Debian 13 arm64 sysroot)
# is cached under /var/cache/auto-home-build, keyed on image/cross-*.list + the scripts.

ARM64_DIR ?= build/arm64

.PHONY: cross-toolchain cross cross-shell

## cross-toolchain: build (once) or reuse the cached chroot + arm64 sysroot
cross-toolchain: image-host-deps
	scripts/cross-toolchain.sh

## cross: build/arm64/autohomed (+ autohome): aarch64, static Swift stdlib + C libs, stripped
cross: cross-toolchain
	scripts/cross-build.sh $(CURDIR) $(CURDIR)/$(ARM64_DIR)
	scripts/check-cross.sh $(ARM64_DIR)/autohomed $$(test -e $(ARM64_DIR)/autohome && echo $(ARM64_DIR)/autohome)

## cross-shell: a shell in the cross chroot (package at /src, sysroot at /sysroot)
cross-shell: cross-toolchain
	scripts/cross-build.sh --shell $(CURDIR) -- bash

## cross-selftest: prove the toolchain on a scratch package (all C libraries, no repo code)
.PHONY: cross-selftest
cross-selftest: cross-toolchain
	scripts/cross-selftest.sh
