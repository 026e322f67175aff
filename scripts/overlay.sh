#!/usr/bin/env bash
# Assembles build/overlay-arm64 = overlay/ + the cross-built binaries at usr/bin/.
#   scripts/overlay.sh [BIN_DIR] [OUT_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=${1:-$REPO/build/arm64}
OUT=${2:-$REPO/build/overlay-arm64}
[ -x "$BIN/autohomed" ] || { echo "overlay: $BIN/autohomed missing (make cross)" >&2; exit 1; }
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
cp -a "$REPO/overlay/." "$OUT.tmp/"
mkdir -p "$OUT.tmp/usr/bin"
for b in autohomed autohome; do
    [ -x "$BIN/$b" ] && install -m 0755 "$BIN/$b" "$OUT.tmp/usr/bin/$b"
done
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "overlay: $OUT ($(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1))"
