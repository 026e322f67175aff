// swift-tools-version:6.0
// Builds with Swift 6.0.3 (Debian 13, cross build) and 6.3.1 (build host).
//
// The targets are the layers of ARCHITECTURE.md, so the compiler keeps the
// arrows pointing one way: AutoHomeSupport <- AutoHome (engine) <- AutoHomeServer
// <- autohomed. The engine never sees CQuic; the server never sees MuJS.
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "auto-home",
    products: [
        .executable(name: "autohomed", targets: ["autohomed"]),
        .executable(name: "autohome", targets: ["autohome"]),
        .library(name: "AutoHome", targets: ["AutoHome"]),
        .library(name: "AutoHomeServer", targets: ["AutoHomeServer"]),
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
        // QUIC + HTTP/3 core over ngtcp2, nghttp3 and GnuTLS. Every
        // library-version difference (Debian 12 vs 13) is bridged inside it.
        .target(
            name: "CQuic",
            path: "Sources/CQuic",
            linkerSettings: [
                .linkedLibrary("ngtcp2_crypto_gnutls"), .linkedLibrary("ngtcp2"),
                .linkedLibrary("nghttp3"), .linkedLibrary("gnutls"),
            ]
        ),
        // GPIO over libgpiod v1 (Debian 12) and v2 (Debian 13); every version
        // difference is bridged inside it. Linked statically like MuJS.
        .target(
            name: "CGPIO",
            path: "Sources/CGPIO",
            linkerSettings: [.linkedLibrary("gpiod")]
        ),
        // SQLite (Debian's libsqlite3-dev), linked statically like MuJS.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // JSON, files, locks, log, time, named threads, the timer service: no C
        // dependency beyond libc.
        .target(name: "AutoHomeSupport", path: "Sources/AutoHomeSupport", swiftSettings: v5),
        // The engine: Model, Pipeline, Scripting, Replay, the storage and plugin
        // seams. Knows no transport and no storage engine.
        .target(name: "AutoHome", dependencies: ["CJSGuard", "AutoHomeSupport"], path: "Sources/AutoHome", swiftSettings: v5),
        // Implementations of the engine's storage protocols: the SQLite store
        // the daemon uses, and the JSON files of the first release (import source).
        .target(name: "AutoHomeStore", dependencies: ["AutoHome", "AutoHomeSupport", "CSQLite"], path: "Sources/AutoHomeStore",
                swiftSettings: v5),
        // The plugin host: the registry behind plugin.<name>.<method>, and the
        // plugins (GPIO, sun, external helpers).
        .target(name: "AutoHomePlugins", dependencies: ["AutoHome", "AutoHomeSupport", "CGPIO"], path: "Sources/AutoHomePlugins",
                swiftSettings: v5),
        // HTTP/3 routes, auth and tokens, the action hub, over CQuic.
        .target(name: "AutoHomeServer", dependencies: ["AutoHome", "AutoHomeSupport", "CQuic"],
                path: "Sources/AutoHomeServer", swiftSettings: v5),
        // The client over CQuic's client role: connections, requests, streams,
        // certificate pinning. Knows nothing of the engine.
        .target(name: "AutoHomeClient", dependencies: ["CQuic", "AutoHomeSupport"], path: "Sources/AutoHomeClient",
                swiftSettings: v5),
        // The command-line client (SPEC §9): owner commands, `device`, `bench`.
        .executableTarget(name: "autohome", dependencies: ["AutoHomeClient", "AutoHomeSupport"],
                          path: "Sources/autohome", swiftSettings: v5),
        .executableTarget(name: "autohomed", dependencies: ["AutoHomeServer", "AutoHomeStore", "AutoHomePlugins", "AutoHome",
                                                          "AutoHomeSupport"],
                          path: "Sources/autohomed", swiftSettings: v5),
        // `make bench`: engine figures (not shipped on the image).
        .executableTarget(name: "autohome-bench", dependencies: ["AutoHome", "AutoHomeSupport"],
                          path: "Sources/autohome-bench", swiftSettings: v5),
        .testTarget(name: "AutoHomeSupportTests", dependencies: ["AutoHomeSupport"],
                    path: "Tests/AutoHomeSupportTests", swiftSettings: v5),
        .testTarget(name: "AutoHomeTests", dependencies: ["AutoHome", "AutoHomeSupport"],
                    path: "Tests/AutoHomeTests", swiftSettings: v5),
        .testTarget(name: "AutoHomeStoreTests", dependencies: ["AutoHomeStore", "AutoHome", "AutoHomeSupport", "CSQLite"],
                    path: "Tests/AutoHomeStoreTests", swiftSettings: v5),
        .testTarget(name: "AutoHomePluginsTests", dependencies: ["AutoHomePlugins", "AutoHome", "AutoHomeSupport", "CGPIO"],
                    path: "Tests/AutoHomePluginsTests", swiftSettings: v5),
        .testTarget(name: "AutoHomeClientTests", dependencies: ["AutoHomeClient", "AutoHomeSupport"],
                    path: "Tests/AutoHomeClientTests", swiftSettings: v5),
        .testTarget(name: "AutoHomeServerTests", dependencies: ["AutoHomeServer", "AutoHomeStore", "AutoHome", "AutoHomeSupport"],
                    path: "Tests/AutoHomeServerTests", swiftSettings: v5),
    ]
)

// Fuzz harnesses (Tests/fuzz, `make fuzz`): they link against libFuzzer, so
// they exist only when the Makefile asks for them with AUTOHOME_FUZZ=1 and
// builds with -sanitize=fuzzer into .build-fuzz.
if Context.environment["AUTOHOME_FUZZ"] == "1" {
    package.targets.append(.target(name: "FuzzDriver", path: "Tests/fuzz/swift/FuzzDriver"))
    let harnesses: [(name: String, deps: [Target.Dependency])] = [
        ("autohome-fuzz-json", ["AutoHomeSupport"]),
        ("autohome-fuzz-event", ["AutoHome", "AutoHomeSupport"]),
        ("autohome-fuzz-definitions", ["AutoHome", "AutoHomeSupport"]),
        ("autohome-fuzz-config", ["AutoHome", "AutoHomeSupport"]),
    ]
    for h in harnesses {
        package.targets.append(.executableTarget(name: h.name, dependencies: h.deps + ["FuzzDriver"], path: "Tests/fuzz/swift/\(h.name)",
                                                 swiftSettings: v5 + [.unsafeFlags(["-parse-as-library"])]))
    }
}
