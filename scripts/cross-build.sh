#!/usr/bin/env bash
# Cross-builds a Swift package for arm64 inside the cached Debian 13 chroot, unprivileged:
# `unshare -r -m -p -f` + bind mounts (package at /src, sysroot at /sysroot read-only,
# local git mirrors at their own paths) + /proc, then `swift build` with the destination
# from scripts/cross-toolchain.sh, release mode, --static-swift-stdlib, stripped at link
# time, scratch path <package>/.build-arm64.
#
#   scripts/cross-build.sh [PACKAGE_DIR] [OUT_DIR]      build, copy products to OUT_DIR
#   scripts/cross-build.sh --shell [PACKAGE_DIR] -- CMD  run CMD in the chroot (debugging)
#
# PACKAGE_DIR defaults to the repo, OUT_DIR to PACKAGE_DIR/build/arm64. Products are the
# executables Package.swift declares (autohomed, and autohome when it exists); override
# with PRODUCTS="a b". Extra link archives for static GnuTLS etc. come from
# image/cross-static.list (lld resolves archives in any order; unused ones add nothing).
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CACHE=${AUTOHOME_CACHE:-/var/cache/auto-home-build}

SHELL_MODE=0
if [ "${1:-}" = "--shell" ]; then SHELL_MODE=1; shift; fi
PKG=$(cd "${1:-$REPO}" && pwd)
[ $# -gt 0 ] && shift
if [ "$SHELL_MODE" = 1 ]; then
    [ "${1:-}" = "--" ] && shift
    OUT=""
else
    OUT=${1:-$PKG/build/arm64}
fi
SCRATCH=.build-arm64

CHROOT=$("$HERE/cross-toolchain.sh" chroot)
SYSROOT=$("$HERE/cross-toolchain.sh" sysroot)

# SwiftPM state (caches, git config) lives in the scratch dir, not in the cached chroot.
mkdir -p "$PKG/$SCRATCH/home"
GITCFG="$PKG/$SCRATCH/home/.gitconfig"
{
    echo "[safe]"
    echo "    directory = *"
    # Reproduce the host's url.<base>.insteadOf mapping (global + system config).
    git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
    git config --global --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
} | awk '
    /^\[safe\]/ || /^    directory/ {print; next}
    { key=$1; val=$2; sub(/^url\./, "", key); sub(/\.insteadof$/, "", key);
      printf "[url \"%s\"]\n    insteadOf = %s\n", key, val }' > "$GITCFG"
# Local mirror folders named by that mapping get bind-mounted at the same path.
MIRRORS=$( (git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true
            git config --global --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true) |
           awk '{k=$1; sub(/^url\./,"",k); sub(/\.insteadof$/,"",k); if (k ~ /^\//) print k}' | sort -u)
[ -d /opt/swift-packages ] && MIRRORS=$(printf '%s\n/opt/swift-packages/\n' "$MIRRORS" | sort -u)

if [ "$SHELL_MODE" = 1 ]; then
    INNER=("$@")
else
    if [ -z "${PRODUCTS:-}" ]; then
        PRODUCTS=$(grep -oE '\.executable\(name: *"[^"]+"' "$PKG/Package.swift" | sed -E 's/.*"([^"]+)"/\1/' | tr '\n' ' ')
    fi
    [ -n "${PRODUCTS// /}" ] || { echo "cross-build: no executable products in $PKG/Package.swift" >&2; exit 1; }
    LINK=(-Xlinker --as-needed -Xlinker --strip-all -Xlinker --build-id=sha1)
    while read -r l; do
        [ "$l" = "stdc++" ] && continue
        LINK+=(-Xlinker "-l$l")
    done < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$REPO/image/cross-static.list" | grep -v '^$')
    LINK+=(-Xlinker -lp11-kit)
    # Without --product, swift build builds every non-test target (tests need --build-tests).
    # -disable-incremental-llvm-codegen: no .swift_modhash section (per-object hashes
    # that differ from build to build and would make the binary irreproducible).
    INNER=(swift build -c release --destination /sysroot/destination.json --static-swift-stdlib
           --scratch-path "/src/$SCRATCH" "${LINK[@]}"
           -Xswiftc -Xfrontend -Xswiftc -disable-incremental-llvm-codegen)
fi

# The inner script runs as "root" of a new user namespace (mapped to the caller).
# shellcheck disable=SC2016
INNER_SCRIPT='
set -eu
C=$1; S=$2; P=$3; M=$4; shift 4
mount --bind "$P" "$C/src"
mount --bind "$S" "$C/sysroot"
mount -o remount,bind,ro "$C/sysroot" 2>/dev/null || true
for m in $M; do mkdir -p "$C$m" 2>/dev/null || true; mount --bind "$m" "$C$m"; done
mount -t proc proc "$C/proc"
mount -t tmpfs tmpfs "$C/tmp"
for d in null zero random urandom tty; do
    [ -e "$C/dev/$d" ] || touch "$C/dev/$d"
    mount --bind "/dev/$d" "$C/dev/$d"
done
exec chroot "$C" /usr/bin/env -i HOME=/src/'"$SCRATCH"'/home PATH=/usr/bin:/usr/sbin:/bin:/sbin \
    LANG=C.UTF-8 SOURCE_DATE_EPOCH='"${SOURCE_DATE_EPOCH:-0}"' TERM=dumb sh -c "cd /src && exec \"\$@\"" sh "$@"
'
t0=$(date +%s)
unshare -r -m -p -f --kill-child sh -c "$INNER_SCRIPT" sh "$CHROOT" "$SYSROOT" "$PKG" "$MIRRORS" "${INNER[@]}"
[ "$SHELL_MODE" = 1 ] && exit 0

mkdir -p "$OUT"
BIN="$PKG/$SCRATCH/aarch64-unknown-linux-gnu/release"
for p in $PRODUCTS; do
    install -m 0755 "$BIN/$p" "$OUT/$p"
done
echo "cross-build: built $PRODUCTS for arm64 in $(( $(date +%s) - t0 )) s -> $OUT" >&2
