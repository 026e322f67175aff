#!/usr/bin/env bash
# Installs the Debian 12 host tools the cross build, the image and its boot test use
# (only the missing ones; nothing from Debian 13 touches the host). Needs root.
set -euo pipefail
PKGS="mmdebstrap qemu-user-static binfmt-support qemu-system-arm e2fsprogs fdisk dosfstools mtools bmap-tools file binutils python3"
missing=()
for p in $PKGS; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "host-deps: installing ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
"$(dirname "$0")/binfmt.sh"
