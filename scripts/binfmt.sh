#!/usr/bin/env bash
# Makes sure arm64 binaries run on this amd64 host through qemu-user-static + binfmt_misc
# with the F (fix binary) flag, so they also run inside chroots. Needs root; idempotent.
set -euo pipefail
[ "$(uname -m)" = aarch64 ] && exit 0
command -v update-binfmts >/dev/null && [ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || {
    echo "binfmt: install qemu-user-static and binfmt-support" >&2; exit 1; }
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64
fi
grep -qs '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || {
    echo "binfmt: qemu-aarch64 is registered without the F flag" >&2; exit 1; }
