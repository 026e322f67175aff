#!/usr/bin/env bash
# Proves that CQuic builds against Debian 13's ngtcp2 1.x / nghttp3 1.x /
# GnuTLS 3.8 (the appliance) while this host has Debian 12's 0.x libraries.
#
#   scripts/check-trixie-headers.sh          syntax check + link the harness
#   scripts/check-trixie-headers.sh --test   ... and run Tests/cquic against it
#
# 1. Downloads the Debian 13 -dev packages (and the ones their headers
#    include) with scripts/debian13-apt.sh, never touching the host's dpkg.
# 2. Extracts them with dpkg -x into a cache outside the repo, keyed on the
#    package versions: ${AUTOHOME_CACHE:-/var/cache/auto-home-build}/trixie-headers/<key>.
# 3. Compiles every Sources/CQuic/*.c with -fsyntax-only -Wall -Wextra -Werror
#    with those headers searched first, after checking that they really are
#    the 1.x ones.
# 4. Links Tests/cquic/echo_server against the extracted static ngtcp2 /
#    nghttp3 libraries (with the host's GnuTLS) and, with --test, runs the
#    CQuic test suite against that binary.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
APT="$HERE/scripts/debian13-apt.sh"
CACHE=${AUTOHOME_CACHE:-/var/cache/auto-home-build}/trixie-headers
ARCH=${DEB_ARCH:-amd64}
TRIPLET=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
RUN_TESTS=0
[ "${1:-}" = "--test" ] && RUN_TESTS=1

PKGS=(libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev libgnutls28-dev
      nettle-dev libgmp-dev libp11-kit-dev libtasn1-6-dev libidn2-dev)

say() { echo "check-trixie-headers: $*" >&2; }

versions() {
    "$APT" apt-cache show --no-all-versions "${PKGS[@]}" 2>/dev/null |
        awk '/^Package:/ {p=$2} /^Version:/ {print p "=" $2}' | sort
}

fetch() { # $1 = versions list, $2 = target dir
    rm -rf "$2"
    mkdir -p "$2/debs" "$2/root"
    chown _apt "$2/debs" 2>/dev/null || true  # apt downloads as _apt when it can
    # apt-get download writes into the current directory; pin the versions
    # the cache key was computed from.
    (cd "$2/debs" && "$APT" apt-get download $(printf '%s\n' "$1") >&2) || return 1
    for deb in "$2"/debs/*.deb; do dpkg -x "$deb" "$2/root"; done
    printf '%s\n' "$1" > "$2/versions"
    touch "$2/.done"
}

prepare() {
    local v dir try
    for try in 1 2; do
        v=$(versions || true)
        if [ -n "$v" ]; then
            dir="$CACHE/$(printf '%s\n' "$v" | sha256sum | cut -c1-16)"
            ROOT="$dir/root"
            [ -f "$dir/.done" ] && return
            say "fetching ${#PKGS[@]} Debian 13 packages into $dir"
            fetch "$v" "$dir" && return
        fi
        # Stale or missing package lists: refresh once and try again.
        [ "$try" = 1 ] && { "$APT" update >&2 || true; }
    done
    # Offline: fall back to the newest complete extraction, if any.
    dir=$(ls -1dt "$CACHE"/*/.done 2>/dev/null | head -n1 || true)
    [ -n "$dir" ] || { say "cannot reach the Debian 13 archive and nothing is cached"; exit 1; }
    say "archive unreachable, using cached $(dirname "$dir")"
    ROOT=$(dirname "$dir")/root
}

prepare
INC="$ROOT/usr/include"
LIB="$ROOT/usr/lib/$TRIPLET"
[ -d "$LIB" ] || LIB="$ROOT/usr/lib/x86_64-linux-gnu"
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -pthread
        -isystem "$INC" -isystem "$INC/p11-kit-1" -isystem "$INC/$TRIPLET"
        -I "$HERE/Sources/CQuic/include")

# The extracted headers must win over the host's 0.x ones.
got=$(printf '#include <ngtcp2/ngtcp2.h>\n#include <nghttp3/nghttp3.h>\n#include <gnutls/gnutls.h>\nNGTCP2_VERSION NGHTTP3_VERSION GNUTLS_VERSION\n' |
      gcc -E -P "${CFLAGS[@]}" -x c - | tail -n1)
say "headers: ngtcp2/nghttp3/gnutls = $got"
case "$got" in
    '"1.'*'" "1.'*) ;;
    *) say "expected ngtcp2 1.x and nghttp3 1.x headers, got $got"; exit 1 ;;
esac

fail=0
for f in "$HERE"/Sources/CQuic/*.c "$HERE"/Tests/cquic/echo_server.c; do
    if gcc -fsyntax-only "${CFLAGS[@]}" "$f"; then
        say "ok   ${f#$HERE/}"
    else
        say "FAIL ${f#$HERE/}"
        fail=1
    fi
done
[ "$fail" = 0 ] || exit 1

if [ -f "$LIB/libngtcp2.a" ] && [ -f "$LIB/libnghttp3.a" ] && [ -f "$LIB/libngtcp2_crypto_gnutls.a" ]; then
    OUT="$HERE/.build-cquic"
    mkdir -p "$OUT"
    # Static ngtcp2/nghttp3 1.x from Debian 13; GnuTLS from the host (same ABI).
    # -DCQ_TEST_HOOKS as in Tests/cquic/Makefile: the harness build's knobs.
    gcc -O1 -g "${CFLAGS[@]}" -DCQ_TEST_HOOKS -o "$OUT/echo_server_trixie" "$HERE"/Sources/CQuic/*.c \
        "$HERE/Tests/cquic/echo_server.c" "$LIB/libngtcp2_crypto_gnutls.a" "$LIB/libngtcp2.a" \
        "$LIB/libnghttp3.a" -lgnutls -pthread
    say "linked ${OUT#$HERE/}/echo_server_trixie against the Debian 13 static libraries"
    if [ "$RUN_TESTS" = 1 ]; then
        ECHO_SERVER="$OUT/echo_server_trixie" python3 -m pytest -q -p no:cacheprovider "$HERE/Tests/cquic/test_cquic.py"
    fi
else
    say "no static libraries in the -dev packages; link check skipped"
fi
say "CQuic compiles against Debian 13 headers"
