#!/usr/bin/env bash
# Installs the Debian 12 host tools the cross build, the image and its boot test use
# (only the missing ones; nothing from Debian 13 touches the host). Needs root.
# Every package is named here: --no-install-recommends would drop the ones that are
# only recommended (arch-test for mmdebstrap's foreign-arch check, ipxe-qemu for
# the virtio-net ROM qemu loads). scripts/check-host-tools.sh proves the result.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
missing=()
for p in $(grep -hv '^\s*#' "$HERE/image-host-packages.txt" | awk 'NF{print $1}'); do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "host-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    echo "host-deps: installing ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
"$HERE/binfmt.sh"
"$HERE/check-host-tools.sh"
