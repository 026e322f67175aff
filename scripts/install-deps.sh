#!/usr/bin/env bash
# Installs the host packages the build and tests need (scripts/host-packages.txt
# plus any list given as arguments), and the Python test client. Idempotent:
# does nothing when everything is present, so `make test` stays quick.
set -euo pipefail
cd "$(dirname "$0")/.."
lists=(scripts/host-packages.txt "$@")
want=$(grep -hv '^\s*#' "${lists[@]}" | awk 'NF{print $1}' | sort -u)
missing=()
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! python3 -c 'import aioquic, pytest' 2>/dev/null; then
    python3 -m pip install -q aioquic pytest
fi
