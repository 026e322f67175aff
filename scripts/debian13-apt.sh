#!/usr/bin/env bash
# Runs apt-get (or apt-cache) against Debian 13 ("trixie") through a private apt
# configuration, so Debian 13 packages can be downloaded for the cross build and
# the image without ever touching the Debian 12 host's package database.
#
# The archive address is derived from the host's own apt configuration (first
# Debian "main" source), which also respects a local mirror. Set
# AUTOHOME_DEBIAN_MIRROR to override it.
#
#   scripts/debian13-apt.sh mirror                 -> prints the archive URI
#   scripts/debian13-apt.sh update                 -> refreshes the private lists
#   scripts/debian13-apt.sh apt-get download PKG…  -> any apt-get/apt-cache call
#   scripts/debian13-apt.sh sources                -> prints the sources.list line
#
# State lives in ${AUTOHOME_CACHE:-/var/cache/auto-home-build}/apt-trixie-<arch>.
set -euo pipefail

ARCH=${DEB_ARCH:-amd64}
CACHE=${AUTOHOME_CACHE:-/var/cache/auto-home-build}
ROOT="$CACHE/apt-trixie-$ARCH"

host_mirror() {
    if [ -n "${AUTOHOME_DEBIAN_MIRROR:-}" ]; then echo "$AUTOHOME_DEBIAN_MIRROR"; return; fi
    local uri=""
    # deb822 sources first (Debian 12 default), then one-line sources.
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '
            /^URIs:/ {u=$2} /^Suites:/ {s=$0} /^Components:/ {c=$0}
            /^$/ { if (u != "" && s !~ /security/ && c ~ /main/) {print u; exit} u=""; s=""; c="" }
            END { if (u != "" && s !~ /security/ && c ~ /main/) print u }' "$f" | head -n1)
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
              awk '$1=="deb" && $0 !~ /security/ && $0 ~ / main/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | head -n1)
    fi
    [ -n "$uri" ] || { echo "debian13-apt: no Debian source found in the host's apt configuration" >&2; exit 1; }
    echo "${uri%/}"
}

setup() {
    mkdir -p "$ROOT"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d,state}
    local m; m=$(host_mirror)
    echo "deb [arch=$ARCH signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $m trixie main non-free-firmware" > "$ROOT/etc/sources.list"
    : > "$ROOT/state/status"
}

APT_OPTS=()
opts() {
    APT_OPTS=(
        -o "Dir::Etc::SourceList=$ROOT/etc/sources.list"
        -o "Dir::Etc::SourceParts=/nonexistent"
        -o "Dir::Etc::Preferences=$ROOT/etc/preferences"
        -o "Dir::Etc::PreferencesParts=$ROOT/etc/preferences.d"
        -o "Dir::State::Lists=$ROOT/lists"
        -o "Dir::State::status=$ROOT/state/status"
        -o "Dir::Cache=$ROOT"
        -o "Dir::Cache::archives=$ROOT/archives"
        -o "APT::Architecture=$ARCH"
        -o "APT::Architectures::=$ARCH"
        -o "Debug::NoLocking=1"
    )
}

cmd=${1:-}
case "$cmd" in
    mirror) host_mirror ;;
    sources) setup; cat "$ROOT/etc/sources.list" ;;
    update) setup; opts; apt-get "${APT_OPTS[@]}" -q update ;;
    apt-get|apt-cache)
        shift; setup; opts
        [ -n "$(ls -A "$ROOT/lists" 2>/dev/null | grep -v partial)" ] || apt-get "${APT_OPTS[@]}" -q update >&2
        "$cmd" "${APT_OPTS[@]}" "$@" ;;
    *) echo "usage: $0 mirror|sources|update|apt-get ARGS…|apt-cache ARGS…" >&2; exit 2 ;;
esac
