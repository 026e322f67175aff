# Appliance overlay, disk image and its qemu boot test (include after mk/cross.mk).
# Host tools: scripts/host-deps.sh (make image-host-deps). The slow base rootfs is cached
# under /var/cache/auto-home-build, keyed on image/rootfs.list + the recipe.

OVERLAY_DIR ?= build/overlay-arm64
IMAGE ?= build/auto-home-arm64.img

.PHONY: image-host-deps overlay image image-test

## image-host-deps: apt-get install the host tools (mmdebstrap, qemu, mkfs, mtools…)
image-host-deps:
	scripts/host-deps.sh

## overlay: build/overlay-arm64 = overlay/ + the arm64 binaries in usr/bin
overlay: cross
	scripts/overlay.sh $(CURDIR)/$(ARM64_DIR) $(CURDIR)/$(OVERLAY_DIR)

## image: build/auto-home-arm64.img (+ build/image/vmlinuz, initrd.img, manifest.txt)
image: overlay
	scripts/mkimage.sh $(CURDIR)/$(OVERLAY_DIR) $(CURDIR)/$(IMAGE)

## image-test: build the image (timed), boot it in qemu-system-aarch64, check the daemon
image-test: image-host-deps deps
	python3 scripts/image-test.py --build "$(MAKE) --no-print-directory image" --image $(IMAGE)
