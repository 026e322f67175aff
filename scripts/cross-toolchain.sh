#!/usr/bin/env bash
# Builds (once) and caches the arm64 cross toolchain outside the clone:
#
#   $CACHE/cross-chroot-<key>/   Debian 13 amd64 chroot with Debian's swiftlang 6.0.3
#                                (image/cross-chroot.list); the build environment.
#   $CACHE/cross-sysroot-<key>/  Debian 13 arm64 sysroot (mmdebstrap --variant=extract,
#                                image/cross-sysroot.list) + usr/lib/swift_static from
#                                swiftlang:arm64, and:
#        autohome-static/        only the wanted lib*.a links (image/cross-static.list)
#        destination.json        SwiftPM destination for aarch64-unknown-linux-gnu, with
#                                paths as seen inside the chroot (sysroot at /sysroot)
#
# Each key is a hash of its package list(s) and this script, so editing either rebuilds
# only what changed. Nothing is installed into the host system.
#
#   scripts/cross-toolchain.sh            ensure both, print "CHROOT=… SYSROOT=…"
#   scripts/cross-toolchain.sh chroot     ensure + print the chroot path
#   scripts/cross-toolchain.sh sysroot    ensure + print the sysroot path
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${AUTOHOME_CACHE:-/var/cache/auto-home-build}
SUITE=trixie
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 1700000000)}

log() { echo "cross-toolchain: $*" >&2; }
pkgs() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' | paste -sd, -; }
key() { cat "$@" "$HERE/cross-toolchain.sh" | sha256sum | cut -c1-12; }
# After a new entry is complete, drop the older ones of the same kind (not mounted ones).
prune() { # kind keep-dir
    local d
    for d in "$CACHE/cross-$1-"*; do
        case "$d" in "$2"|"$2.lock") continue ;; esac
        grep -q " ${d%.lock}" /proc/mounts && continue
        rm -rf "$d"
    done
}

need() {
    for t in mmdebstrap dpkg-deb unshare; do
        command -v "$t" >/dev/null || { log "missing host tool '$t' (apt-get install mmdebstrap)"; exit 1; }
    done
}

mirror() { "$HERE/debian13-apt.sh" mirror; }

common_opts() {
    echo --components=main --dpkgopt=path-exclude=/usr/share/doc/* \
        --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/locale/* \
        --dpkgopt=path-exclude=/usr/share/info/*
}

ensure_chroot() {
    local list="$REPO/image/cross-chroot.list"
    local dir="$CACHE/cross-chroot-$(key "$list")"
    if [ -f "$dir/.complete" ]; then echo "$dir"; return; fi
    need; mkdir -p "$CACHE"
    exec 9>"$dir.lock"; flock 9
    if [ -f "$dir/.complete" ]; then echo "$dir"; return; fi
    log "building amd64 chroot $dir ($(pkgs "$list"))"
    local t0=$SECONDS tmp="$dir.tmp"
    rm -rf "$tmp"
    # shellcheck disable=SC2046
    mmdebstrap --quiet --mode=root --variant=apt --architectures=amd64 \
        $(common_opts) --include="$(pkgs "$list")" \
        --customize-hook='mkdir -p "$1/src" "$1/sysroot" "$1/opt/swift-packages"' \
        --customize-hook='chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" > "$1/versions.txt"' \
        "$SUITE" "$tmp" "$(mirror)" >&2
    # no host identity in the cached chroot
    rm -f "$tmp/etc/resolv.conf" "$tmp/etc/hostname"
    [ -x "$tmp/usr/libexec/swift/bin/swift-frontend" ] || { log "swiftlang missing in chroot"; exit 1; }
    touch "$tmp/.complete"
    rm -rf "$dir"; mv "$tmp" "$dir"
    prune chroot "$dir"
    log "chroot ready in $((SECONDS - t0)) s"
    echo "$dir"
}

ensure_sysroot() {
    local list="$REPO/image/cross-sysroot.list" slist="$REPO/image/cross-static.list"
    local dir="$CACHE/cross-sysroot-$(key "$list" "$slist")"
    if [ -f "$dir/.complete" ]; then echo "$dir"; return; fi
    need; mkdir -p "$CACHE"
    exec 8>"$dir.lock"; flock 8
    if [ -f "$dir/.complete" ]; then echo "$dir"; return; fi
    log "building arm64 sysroot $dir"
    local t0=$SECONDS tmp="$dir.tmp"
    rm -rf "$tmp"
    # The extract hook still sees the downloaded .debs: record their versions.
    # shellcheck disable=SC2046
    mmdebstrap --quiet --mode=root --variant=extract --architectures=arm64 \
        $(common_opts) --include="$(pkgs "$list")" \
        --extract-hook='ls "$1/var/cache/apt/archives" | sed -n "s/\.deb$//p" | sort > "$1/versions.txt"' \
        "$SUITE" "$tmp" "$(mirror)" >&2
    # merged /usr (libc.so's linker script names /lib/ld-linux-aarch64.so.1)
    for d in bin sbin lib; do
        [ -e "$tmp/$d" ] || [ -L "$tmp/$d" ] || ln -s "usr/$d" "$tmp/$d"
    done
    # The Swift static stdlib + clang resource dir for aarch64, from swiftlang:arm64
    # (only these folders; the rest of the 2 GB package is the compiler itself).
    local dl; dl=$(mktemp -d); chmod 755 "$dl"
    ( cd "$dl" && DEB_ARCH=arm64 "$HERE/debian13-apt.sh" apt-get -o APT::Sandbox::User=root -q download swiftlang:arm64 >&2 )
    dpkg-deb --fsys-tarfile "$dl"/swiftlang_*_arm64.deb |
        tar -x -C "$tmp" ./usr/libexec/swift/lib/swift_static ./usr/libexec/swift/lib/clang
    basename "$dl"/swiftlang_*_arm64.deb .deb >> "$tmp/versions.txt"
    rm -rf "$dl"
    ln -sfn ../libexec/swift/lib/swift_static "$tmp/usr/lib/swift_static"
    # Only the wanted static archives, as relative links, first on the link path.
    local sdir="$tmp/autohome-static" name a
    mkdir -p "$sdir"
    while read -r name; do
        a=$(find "$tmp/usr/lib/aarch64-linux-gnu" "$tmp/usr/lib/gcc/aarch64-linux-gnu" \
                 -name "lib$name.a" 2>/dev/null | head -n1)
        [ -n "$a" ] || { log "no lib$name.a in the sysroot"; exit 1; }
        ln -sfn "..${a#"$tmp"}" "$sdir/lib$name.a"
    done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$slist" | grep -v '^$')
    local gccdir; gccdir=$(ls -d "$tmp"/usr/lib/gcc/aarch64-linux-gnu/* | sort -V | tail -n1)
    gccdir=${gccdir#"$tmp"}
    # Destination as seen from inside the chroot, where the sysroot is /sysroot.
    cat > "$tmp/destination.json" <<EOF
{
  "version": 1,
  "target": "aarch64-unknown-linux-gnu",
  "sdk": "/sysroot",
  "toolchain-bin-dir": "/usr/libexec/swift/bin",
  "extra-cc-flags": ["--target=aarch64-unknown-linux-gnu", "--sysroot=/sysroot", "-fPIC"],
  "extra-swiftc-flags": [
    "-sdk", "/sysroot",
    "-resource-dir", "/sysroot/usr/lib/swift_static",
    "-use-ld=lld",
    "-L", "/sysroot/autohome-static",
    "-L", "/sysroot$gccdir",
    "-Xclang-linker", "-static-libgcc",
    "-Xclang-linker", "--gcc-toolchain=/sysroot/usr",
    "-Xclang-linker", "-B/sysroot$gccdir"
  ],
  "extra-cpp-flags": ["--target=aarch64-unknown-linux-gnu", "--sysroot=/sysroot"]
}
EOF
    touch "$tmp/.complete"
    rm -rf "$dir"; mv "$tmp" "$dir"
    prune sysroot "$dir"
    log "sysroot ready in $((SECONDS - t0)) s"
    echo "$dir"
}

case "${1:-all}" in
    chroot) ensure_chroot ;;
    sysroot) ensure_sysroot ;;
    all) c=$(ensure_chroot); s=$(ensure_sysroot); echo "CHROOT=$c SYSROOT=$s" ;;
    *) echo "usage: $0 [chroot|sysroot|all]" >&2; exit 2 ;;
esac
