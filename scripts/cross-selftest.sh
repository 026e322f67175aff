#!/usr/bin/env bash
# Proves the arm64 cross toolchain independently of the (possibly mid-edit) real package:
# writes a scratch Swift package outside the repo that imports system-library modules
# and calls MuJS, SQLite, GnuTLS, ngtcp2 (+ its GnuTLS crypto helper), nghttp3 and
# libgpiod (v2 API), plus swift-argument-parser resolved from the local package copies
# through git's insteadOf mapping; cross-builds it with scripts/cross-build.sh, checks
# the ELF (scripts/check-cross.sh) and runs it under qemu-user with the sysroot.
#   scripts/cross-selftest.sh [WORK_DIR]        (default: a fresh temp dir)
set -euo pipefail
shopt -s inherit_errexit
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d /tmp/autohome-xtest.XXXXXX)}
mkdir -p "$W/Sources/CMuJS" "$W/Sources/CLibs" "$W/Sources/xtest"
DEP=""; PROD=""; IMPORT=""
if git ls-remote https://github.com/apple/swift-argument-parser.git >/dev/null 2>&1; then
    DEP='dependencies: [.package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.3.0")],'
    PROD=', .product(name: "ArgumentParser", package: "swift-argument-parser")'
    IMPORT='import ArgumentParser'
fi
cat > "$W/Package.swift" <<EOF
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "xtest",
    products: [.executable(name: "xtest", targets: ["xtest"])],
    $DEP
    targets: [
        .systemLibrary(name: "CMuJS", path: "Sources/CMuJS"),
        .systemLibrary(name: "CLibs", path: "Sources/CLibs"),
        .executableTarget(name: "xtest", dependencies: ["CMuJS", "CLibs"$PROD], path: "Sources/xtest",
                          swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
EOF
printf 'module CMuJS [system] {\n    header "shim.h"\n    link "mujs"\n    link "m"\n    export *\n}\n' > "$W/Sources/CMuJS/module.modulemap"
echo '#include <mujs.h>' > "$W/Sources/CMuJS/shim.h"
cat > "$W/Sources/CLibs/module.modulemap" <<'EOF'
module CLibs [system] {
    header "shim.h"
    link "sqlite3"
    link "gnutls"
    link "ngtcp2"
    link "ngtcp2_crypto_gnutls"
    link "nghttp3"
    link "gpiod"
    export *
}
EOF
cat > "$W/Sources/CLibs/shim.h" <<'EOF'
#include <sqlite3.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <nghttp3/nghttp3.h>
#include <gpiod.h>
EOF
cat > "$W/Sources/xtest/main.swift" <<EOF
import CMuJS
import CLibs
$IMPORT

let J = js_newstate(nil, nil, 0)
js_dostring(J, "var r = 6 * 7;")
js_getglobal(J, "r")
print("mujs: 6 * 7 = \(js_tonumber(J, -1))")
js_freestate(J)
print("sqlite3: \(String(cString: sqlite3_libversion()))")
print("gnutls: \(String(cString: gnutls_check_version(nil))) init=\(gnutls_global_init())")
var session: gnutls_session_t? = nil
_ = gnutls_init(&session, UInt32(GNUTLS_SERVER))
print("ngtcp2: \(String(cString: ngtcp2_version(0).pointee.version_str)) crypto_gnutls=\(ngtcp2_crypto_gnutls_configure_server_session(session))")
gnutls_deinit(session)
print("nghttp3: \(String(cString: nghttp3_version(0).pointee.version_str))")
print("gpiod: \(String(cString: gpiod_api_version()))")
EOF
echo "cross-selftest: package in $W" >&2
PRODUCTS=xtest "$HERE/cross-build.sh" "$W" "$W/out"
"$HERE/check-cross.sh" "$W/out/xtest"
if command -v qemu-aarch64-static >/dev/null; then
    out=$(qemu-aarch64-static -L "$("$HERE/cross-toolchain.sh" sysroot)" "$W/out/xtest")
    echo "$out"
    for want in "mujs: 6 * 7 = 42.0" "sqlite3: 3." "gnutls: 3." "crypto_gnutls=0" "nghttp3: 1." "gpiod: 2."; do
        grep -qF "$want" <<<"$out" || { echo "cross-selftest: missing '$want'" >&2; exit 1; }
    done
fi
echo "cross-selftest: ok"
