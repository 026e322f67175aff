#!/usr/bin/env bash
# Assembles build/auto-home-arm64.img from the cached base rootfs (scripts/rootfs.sh)
# and build/overlay-arm64 (make overlay), without loop devices or mounts:
#   rootfs tarball + overlay -> mkfs.ext4 -d (partition 2, LABEL=autohome-root)
#   raspi firmware + broadcom DTBs + config.txt/cmdline.txt + kernel/initrd
#                           -> mkfs.vfat + mtools (partition 1, FAT32)
#   sfdisk (MBR) + dd       -> the disk image
# Also writes build/image/vmlinuz, build/image/initrd.img (qemu direct kernel boot) and
# build/image/manifest.txt (package versions, sizes, sha256).
#
#   scripts/mkimage.sh [OVERLAY_DIR] [OUT_IMG]
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OVERLAY=$(cd "${1:-$REPO/build/overlay-arm64}" && pwd)
IMG=${2:-$REPO/build/auto-home-arm64.img}
W=$REPO/build/image
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}
# shellcheck source=../image/layout.conf
. "$REPO/image/layout.conf"

for t in mkfs.ext4 mkfs.vfat mcopy mmd sfdisk; do
    command -v "$t" >/dev/null || { echo "mkimage: missing host tool $t (e2fsprogs dosfstools mtools fdisk)" >&2; exit 1; }
done
[ -x "$OVERLAY/usr/bin/autohomed" ] || { echo "mkimage: $OVERLAY/usr/bin/autohomed missing (make overlay)" >&2; exit 1; }

t0=$SECONDS
BASE=$("$HERE/rootfs.sh")
tb=$SECONDS

R=$W/rootfs
rm -rf "$W"
mkdir -p "$R"
tar -xpf "$BASE" -C "$R" --numeric-owner

# The overlay, owned by root; --keep-directory-symlink keeps /lib -> usr/lib (merged /usr).
tar -C "$OVERLAY" --owner=0 --group=0 --numeric-owner -cf - . |
    tar -xpf - -C "$R" --keep-directory-symlink --numeric-owner --no-overwrite-dir

# Users and groups from the overlay's sysusers.d files, with their fixed ids, written now
# (deterministic; no race with udev at first boot). Idempotent.
add_group() { # name gid
    grep -q "^$1:" "$R/etc/group" || { echo "$1:x:$2:" >> "$R/etc/group"; echo "$1:!*::" >> "$R/etc/gshadow"; }
}
add_user() { # name uid gid gecos home shell
    add_group "$1" "$3"
    grep -q "^$1:" "$R/etc/passwd" || {
        echo "$1:x:$2:$3:$4:$5:$6" >> "$R/etc/passwd"
        echo "$1:!*:::::::" >> "$R/etc/shadow"
    }
}
add_member() { # user group
    awk -F: -v u="$1" -v g="$2" 'BEGIN{OFS=":"} $1==g { n=split($4,m,","); f=0; for(i=1;i<=n;i++) if(m[i]==u) f=1;
        if(!f) $4 = ($4=="" ? u : $4 "," u) } {print}' "$R/etc/group" > "$R/etc/group.new"
    mv "$R/etc/group.new" "$R/etc/group"
}
for conf in "$R"/usr/lib/sysusers.d/auto-home*.conf; do
    [ -f "$conf" ] || continue
    while read -r kind name id rest; do
        case "$kind" in
            g) add_group "$name" "$id" ;;
            u) gecos=$(echo "$rest" | sed -E 's/^"([^"]*)".*/\1/')
               home=$(echo "$rest" | sed -E 's/^"[^"]*" *//' | awk '{print $1}')
               shell=$(echo "$rest" | sed -E 's/^"[^"]*" *//' | awk '{print $2}')
               add_user "$name" "${id%%:*}" "${id##*:}" "$gecos" "$home" "${shell:-/usr/sbin/nologin}" ;;
            m) add_member "$name" "$id" ;;
        esac
    done < <(grep -vE '^[[:space:]]*(#|$)' "$conf")
done
chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
chgrp 42 "$R/etc/shadow" "$R/etc/gshadow" 2>/dev/null || true   # group shadow

# Clamp every time stamp to SOURCE_DATE_EPOCH (overlay files carry checkout times).
find "$R" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"

# Kernel + initrd for direct boot and for the FAT partition.
KVER=$(ls "$R/usr/lib/modules" | sort -V | tail -n1)
cp "$R/boot/vmlinuz-$KVER" "$W/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$W/initrd.img"

# --- partition 1: FAT boot partition a Raspberry Pi boots from -----------------------
B=$W/bootfs
mkdir -p "$B"
cp -a "$BASE.firmware/." "$B/"
cp "$R"/usr/lib/linux-image-"$KVER"/broadcom/bcm27*.dtb "$B/" 2>/dev/null || true
cp "$R"/usr/lib/linux-image-"$KVER"/broadcom/bcm28*.dtb "$B/" 2>/dev/null || true
cp "$REPO/image/boot/config.txt" "$REPO/image/boot/cmdline.txt" "$B/"
cp "$W/vmlinuz" "$B/vmlinuz"
cp "$W/initrd.img" "$B/initrd.img"
find "$B" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"
BOOT_IMG=$W/boot.vfat
rm -f "$BOOT_IMG"
mkfs.vfat -F 32 -n "$BOOT_LABEL" -i "$BOOT_VOLID" --invariant -C "$BOOT_IMG" $((BOOT_MIB * 1024)) >/dev/null
# mtools: -m keeps mtimes; -Q stops on the first error
( cd "$B" && MTOOLS_SKIP_CHECK=1 TZ=UTC mcopy -Q -m -s -i "$BOOT_IMG" ./* ::/ )

# --- partition 2: ext4 root ---------------------------------------------------------
ROOT_IMG=$W/root.ext4
used_kib=$(du -sk --apparent-size "$R" | cut -f1)
inodes=$(find "$R" | wc -l)
root_mib=$(( (used_kib * 115 / 100) / 1024 + ROOT_FREE_MIB ))
rm -f "$ROOT_IMG"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L "$ROOT_LABEL" -U "$ROOT_UUID" \
    -E "hash_seed=$ROOT_HASH_SEED,root_owner=0:0" -N $((inodes + 16384)) \
    -d "$R" "$ROOT_IMG" "${root_mib}M"
# mke2fs -d copies atime/ctime from the source files (ctime = when they were unpacked);
# pin both to SOURCE_DATE_EPOCH so the same inputs give the same file system.
sde=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)
( cd "$R" && find . ) | sed -e 's|^\.||' -e 's|^$|/|' | grep -v '"' |
    awk -v t="$sde" '{ for (f = 1; f <= 2; f++) { n = (f == 1 ? "ctime" : "atime");
        printf "sif \"%s\" %s %s\nsif \"%s\" %s_extra 0\n", $0, n, t, $0, n } }' > "$W/times.debugfs"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$W/times.debugfs" "$ROOT_IMG" >/dev/null 2>"$W/times.err" || { cat "$W/times.err" >&2; exit 1; }
if grep -v '^debugfs ' "$W/times.err" | grep -q .; then head "$W/times.err" >&2; exit 1; fi
rm -f "$W/times.debugfs" "$W/times.err"

# --- disk: MBR, 1 MiB aligned --------------------------------------------------------
boot_sectors=$((BOOT_MIB * 2048))
root_sectors=$((root_mib * 2048))
total_sectors=$((2048 + boot_sectors + root_sectors))
mkdir -p "$(dirname "$IMG")"
rm -f "$IMG.tmp"
truncate -s $((total_sectors * 512)) "$IMG.tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$IMG.tmp" <<EOF
label: dos
label-id: $DISK_ID
unit: sectors

start=2048, size=$boot_sectors, type=c, bootable
start=$((2048 + boot_sectors)), size=$root_sectors, type=83
EOF
dd if="$BOOT_IMG" of="$IMG.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$ROOT_IMG" of="$IMG.tmp" bs=1M seek=$((1 + BOOT_MIB)) conv=notrunc,sparse status=none
mv "$IMG.tmp" "$IMG"
rm -f "$BOOT_IMG" "$ROOT_IMG"
if command -v bmaptool >/dev/null; then
    bmaptool create -o "$IMG.bmap" "$IMG" 2>/dev/null || true
fi

{
    echo "# auto-home arm64 image manifest"
    echo "kernel $KVER"
    echo "image $(basename "$IMG") $(stat -c %s "$IMG") bytes, $(du -k "$IMG" | cut -f1) KiB allocated"
    echo "rootfs ${used_kib} KiB in files, root partition ${root_mib} MiB, boot partition ${BOOT_MIB} MiB"
    echo "sha256 $(sha256sum "$IMG" | cut -d' ' -f1)"
    echo "autohomed sha256 $(sha256sum "$R/usr/bin/autohomed" | cut -d' ' -f1)"
    echo "# packages"
    cat "$BASE.versions"
} > "$W/manifest.txt"
rm -rf "$R" "$B"
echo "mkimage: $IMG ($(du -h --apparent-size "$IMG" | cut -f1), $(du -h "$IMG" | cut -f1) allocated); base rootfs $((tb - t0)) s, assembly $((SECONDS - tb)) s" >&2
