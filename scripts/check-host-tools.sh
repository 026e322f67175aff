#!/usr/bin/env bash
# Asserts that every host tool and data file the cross build, the image and the qemu
# boot test use is present. Run right after scripts/host-deps.sh (CI does), so a
# missing package fails here, by name, instead of half-way through an image build.
set -uo pipefail
bad=0
for t in mmdebstrap arch-test dpkg-deb unshare flock qemu-aarch64-static update-binfmts \
         qemu-system-aarch64 mkfs.ext4 debugfs mkfs.vfat mcopy mmd sfdisk bmaptool file \
         readelf python3; do
    command -v "$t" >/dev/null || { echo "check-host-tools: missing command $t" >&2; bad=1; }
done
for f in /usr/lib/ipxe/qemu/efi-virtio.rom /usr/share/keyrings/debian-archive-keyring.gpg \
         /usr/libexec/qemu-binfmt/aarch64-binfmt-P; do
    [ -e "$f" ] || { echo "check-host-tools: missing file $f" >&2; bad=1; }
done
# mmdebstrap's foreign-architecture check, exactly as it runs it
if command -v arch-test >/dev/null && ! arch-test arm64 >/dev/null 2>&1; then
    echo "check-host-tools: arm64 binaries do not run here (binfmt: scripts/binfmt.sh)" >&2; bad=1
fi
[ $bad = 0 ] && echo "check-host-tools: all image tools present"
exit $bad
