#!/usr/bin/env bash
# Builds (once) and caches the slow part of the image: a minimal Debian 13 arm64 root
# file system as a tarball outside the clone, plus the Raspberry Pi boot firmware.
#
#   $CACHE/rootfs-<key>.tar            the base rootfs (mmdebstrap --variant=apt, arm64,
#                                      run under qemu-user-static through binfmt)
#   $CACHE/rootfs-<key>.versions       the package versions that went in
#   $CACHE/rootfs-<key>.firmware/      raspi-firmware's boot files (non-free-firmware),
#                                      extracted, never installed into the rootfs
#
# <key> hashes image/rootfs.list, image/initramfs-modules, this script, and
# AUTOHOME_SNAPSHOT (an archive address to pin, e.g. a snapshot of the archive; by
# default the host's own Debian mirror via scripts/debian13-apt.sh).
# Prints the tarball path. Set AUTOHOME_REBUILD_ROOTFS=1 to force a rebuild.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${AUTOHOME_CACHE:-/var/cache/auto-home-build}
SUITE=trixie
# Fixed, so two builds of the same recipe + packages give the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}   # 2025-01-01T00:00:00Z

log() { echo "rootfs: $*" >&2; }
LIST="$REPO/image/rootfs.list"
MODS="$REPO/image/initramfs-modules"
if [ -n "${AUTOHOME_ROOTFS_TAR:-}" ]; then echo "$AUTOHOME_ROOTFS_TAR"; exit 0; fi   # debugging
MIRROR=${AUTOHOME_SNAPSHOT:-$("$HERE/debian13-apt.sh" mirror)}
KEY=$( { cat "$LIST" "$MODS" "$HERE/rootfs.sh"; echo "${AUTOHOME_SNAPSHOT:-}"; } | sha256sum | cut -c1-12)
OUT="$CACHE/rootfs-$KEY.tar"

if [ -f "$OUT" ] && [ -d "$OUT.firmware" ] && [ -z "${AUTOHOME_REBUILD_ROOTFS:-}" ]; then
    echo "$OUT"; exit 0
fi

"$HERE/binfmt.sh" >&2
mkdir -p "$CACHE"
exec 9>"$CACHE/rootfs-$KEY.lock"; flock 9
if [ -f "$OUT" ] && [ -d "$OUT.firmware" ] && [ -z "${AUTOHOME_REBUILD_ROOTFS:-}" ]; then
    echo "$OUT"; exit 0
fi

t0=$SECONDS
PKGS=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$LIST" | grep -v '^$' | paste -sd, -)
log "building base rootfs $OUT ($PKGS) from $MIRROR"

# update-initramfs is diverted to a no-op while packages install (it would run twice,
# ~40 s each under emulation) and run once at the end with a small module list.
ESSENTIAL_HOOK='set -e
chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf "#!/bin/sh\necho update-initramfs: deferred by auto-home rootfs.sh >&2\n" > "$1/usr/sbin/update-initramfs"
chmod 755 "$1/usr/sbin/update-initramfs"
mkdir -p "$1/etc/initramfs-tools/conf.d"
printf "MODULES=list\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/auto-home.conf"
grep -v "^#" "'"$MODS"'" > "$1/etc/initramfs-tools/modules"
'

CUSTOMIZE_HOOK='set -e
R=$1
# no host identity, no build leftovers
echo auto-home > "$R/etc/hostname"
printf "127.0.0.1\tlocalhost\n127.0.1.1\tauto-home\n::1\tlocalhost ip6-localhost ip6-loopback\n" > "$R/etc/hosts"
rm -f "$R/etc/resolv.conf"
: > "$R/etc/machine-id"
# Keep the path excludes for later dpkg runs, drop the force-* options mmdebstrap used.
for f in "$R"/etc/dpkg/dpkg.cfg.d/99mmdebstrap; do
    [ -f "$f" ] && sed -i "/^force-/d" "$f"
done
rm -f "$R"/etc/apt/apt.conf.d/99mmdebstrap
cat > "$R/etc/fstab" <<EOF
LABEL=autohome-root  /              ext4  defaults,noatime,commit=60  0 1
LABEL=AH-BOOT        /boot/firmware vfat  defaults,noatime,noauto,nofail  0 0
EOF
mkdir -p "$R/boot/firmware"
# trim: device trees other than broadcom/, kernel modules an appliance never loads
for d in "$R"/usr/lib/linux-image-*; do
    [ -d "$d" ] || continue
    find "$d" -mindepth 1 -maxdepth 1 ! -name broadcom -exec rm -rf {} +
done
for k in "$R"/usr/lib/modules/*; do
    rm -rf "$k"/kernel/drivers/gpu "$k"/kernel/drivers/media "$k"/kernel/drivers/infiniband \
           "$k"/kernel/drivers/staging "$k"/kernel/sound "$k"/kernel/drivers/net/wireless \
           "$k"/kernel/net/wireless "$k"/kernel/net/mac80211 "$k"/kernel/drivers/bluetooth \
           "$k"/kernel/net/bluetooth "$k"/kernel/drivers/isdn "$k"/kernel/drivers/video/fbdev \
           "$k"/kernel/drivers/net/can "$k"/kernel/drivers/net/wwan "$k"/kernel/drivers/target
    for e in mellanox chelsio qlogic cavium huawei intel amazon emulex netronome sfc pensando; do
        rm -rf "$k/kernel/drivers/net/ethernet/$e"
    done
    for f in ocfs2 bcachefs gfs2 smb nfs nfsd ceph afs coda jfs nilfs2 orangefs ubifs xfs btrfs f2fs; do
        rm -rf "$k/kernel/fs/$f"
    done
    chroot "$R" depmod -a "$(basename "$k")"
done
rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/lintian
# iconv modules (glibc keeps UTF-8/ASCII/Latin-1 built in) and the hardware database
# (udev names network interfaces without it)
find "$R"/usr/lib/aarch64-linux-gnu/gconv -name "*.so" -delete
rm -f "$R"/usr/lib/udev/hwdb.bin "$R"/usr/lib/udev/hwdb.d/*.hwdb
find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# networking + clock: systemd-networkd (config comes with the overlay) and timesyncd
chroot "$R" systemctl enable systemd-networkd.service systemd-timesyncd.service
chroot "$R" systemctl set-default multi-user.target
# headless: no getty on tty2-6 (tty1 and the serial console keep theirs), no apt timers
chroot "$R" systemctl mask getty-static.service apt-daily.timer apt-daily-upgrade.timer
# the one initramfs run
rm -f "$R/usr/sbin/update-initramfs"
chroot "$R" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
chroot "$R" env SOURCE_DATE_EPOCH='"$SOURCE_DATE_EPOCH"' update-initramfs -c -k all
chroot "$R" dpkg-query -W -f "\${Package} \${Version}\n" > "$R/.versions"
rm -rf "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/* "$R"/var/log/* "$R"/var/cache/ldconfig/aux-cache
rm -f "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old
'

tmp="$CACHE/rootfs-$KEY.tmp.tar"   # the .tar suffix tells mmdebstrap to write a tarball
rm -rf "$tmp"
mmdebstrap --quiet --mode=root --variant=apt --architectures=arm64 \
    --components=main \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --include="$PKGS" \
    --essential-hook="$ESSENTIAL_HOOK" \
    --customize-hook="$CUSTOMIZE_HOOK" \
    --customize-hook="download /.versions $OUT.versions.tmp" \
    --customize-hook='rm -f "$1/.versions"' \
    "$SUITE" "$tmp" "$MIRROR" >&2

# Raspberry Pi boot firmware (start4.elf, fixup4.dat, …) from non-free-firmware,
# extracted next to the tarball; scripts/mkimage.sh copies it to the FAT partition.
fw="$OUT.firmware"
rm -rf "$fw" "$fw.tmp"; mkdir -p "$fw.tmp"
dl=$(mktemp -d); chmod 755 "$dl"
( cd "$dl" && DEB_ARCH=arm64 "$HERE/debian13-apt.sh" apt-get -o APT::Sandbox::User=root -q download raspi-firmware >&2 )
dpkg-deb -x "$dl"/raspi-firmware_*.deb "$dl/x"
cp -a "$dl/x/usr/lib/raspi-firmware/." "$fw.tmp/"
basename "$dl"/raspi-firmware_*.deb .deb | sed -E 's/_/ /; s/_(all|arm64)$//' >> "$OUT.versions.tmp"
rm -rf "$dl"
mv "$fw.tmp" "$fw"
mv "$OUT.versions.tmp" "$OUT.versions"
mv "$tmp" "$OUT"
# Keep only this key's cache entry.
for old in "$CACHE"/rootfs-*.tar; do
    [ "$old" = "$OUT" ] && continue
    grep -q " $old" /proc/mounts && continue
    rm -rf "$old" "$old.versions" "$old.firmware" "${old%.tar}.lock"
done
log "base rootfs ready in $((SECONDS - t0)) s: $(du -h "$OUT" | cut -f1)"
echo "$OUT"
