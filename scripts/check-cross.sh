#!/usr/bin/env bash
# Checks cross-built binaries: aarch64 ELF, stripped, and NEEDED only from the allowed
# set (libc, libm, ld-linux-aarch64, libp11-kit). Prints one line per binary.
#   scripts/check-cross.sh BINARY…
set -euo pipefail
ALLOWED='^(libc\.so\.6|libm\.so\.6|ld-linux-aarch64\.so\.1|libp11-kit\.so\.0)$'
[ $# -gt 0 ] || { echo "usage: $0 BINARY…" >&2; exit 2; }
rc=0
for b in "$@"; do
    desc=$(file -b "$b")
    case "$desc" in *"ARM aarch64"*) ;; *) echo "check-cross: $b is not an aarch64 ELF: $desc" >&2; rc=1; continue ;; esac
    case "$desc" in *", stripped"*) ;; *) echo "check-cross: $b is not stripped" >&2; rc=1 ;; esac
    needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    for n in $needed; do
        [[ $n =~ $ALLOWED ]] || { echo "check-cross: $b needs $n (not allowed)" >&2; rc=1; }
    done
    echo "check-cross: $b ok: aarch64, stripped, $(stat -c %s "$b") bytes, NEEDED: $needed"
done
exit $rc
