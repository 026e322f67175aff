// swift-tools-version:6.0
// Builds with Swift 6.0.3 (Debian 13, cross build) and 6.3.1 (build host).
import PackageDescription

let package = Package(
    name: "auto-home",
    products: [
        .executable(name: "autohomed", targets: ["autohomed"]),
        .library(name: "AutoHome", targets: ["AutoHome"]),
    ],
    targets: [
        // MuJS (Debian's libmujs-dev) behind a memory cap and a watchdog (see
        // docs/javascript.md). The Makefile puts a folder holding only the wanted
        // lib*.a first on the link path, so MuJS links statically.
        .target(
            name: "CJSGuard",
            path: "Sources/CJSGuard",
            linkerSettings: [.linkedLibrary("mujs"), .linkedLibrary("m"), .linkedLibrary("pthread")]
        ),
        // QUIC + HTTP/3 server core over ngtcp2, nghttp3 and GnuTLS. Every
        // library-version difference (Debian 12 vs 13) is bridged inside it.
        .target(
            name: "CQuic",
            path: "Sources/CQuic",
            linkerSettings: [
                .linkedLibrary("ngtcp2_crypto_gnutls"), .linkedLibrary("ngtcp2"),
                .linkedLibrary("nghttp3"), .linkedLibrary("gnutls"),
            ]
        ),
        .target(
            name: "AutoHome",
            dependencies: ["CJSGuard", "CQuic"],
            path: "Sources/AutoHome",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "autohomed",
            dependencies: ["AutoHome"],
            path: "Sources/autohomed",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // `make bench`: engine figures (not shipped on the image).
        .executableTarget(
            name: "autohome-bench",
            dependencies: ["AutoHome"],
            path: "Sources/autohome-bench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "AutoHomeTests",
            dependencies: ["AutoHome"],
            path: "Tests/AutoHomeTests",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
