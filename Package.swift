// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "OpenMTD",
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .executable(name: "openmtd", targets: ["openmtd"]),
        .library(name: "MTDCore", targets: ["MTDCore"]),
        .library(name: "MTDIntel", targets: ["MTDIntel"]),
        .library(name: "MTDDetection", targets: ["MTDDetection"]),
        .library(name: "MTDAgent", targets: ["MTDAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/vapor/vapor", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver", from: "2.14.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .target(name: "MTDCore"),
        .target(name: "MTDAgent", dependencies: ["MTDCore"]),
        .target(
            name: "MTDSimulator",
            dependencies: [
                "MTDAgent", "MTDCore", "MTDIntel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "MTDIntel",
            dependencies: [
                "MTDCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Data")]
        ),
        .target(
            name: "MTDDetection",
            dependencies: ["MTDCore", "MTDIntel", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "MTDStore",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDDetection",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BuiltinUEM",
            dependencies: [
                "MTDCore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        .target(
            name: "UEMClient",
            dependencies: [
                "MTDCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The domain layer the server's modules share: serialized writes with deadlines, wake-ups
        // after commit, rate limits in the database, secrets. (Growing: DESIGN.md's MTDServices.)
        .target(
            name: "MTDServices",
            dependencies: [
                "MTDCore", "MTDStore",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Rules that act on THREAT and DEVICE events: signed webhooks with retries, delays, dry runs.
        .target(
            name: "MTDAutomations",
            dependencies: [
                "MTDCore", "MTDStore", "MTDServices", "UEMClient",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The protective DNS resolver: policy decisions on every query, a TTL cache, upstreams with
        // failover, plain DNS and DNS-over-TLS listeners (DoH is served by MTDServer's HTTP server).
        .target(
            name: "ProtectiveDNS",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDDetection",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Lookout Mobile Risk API v2-compatible REST and event stream, application keys, OAuth token.
        .target(
            name: "MobileRiskAPI",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDStore", "MTDServices",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        .target(
            name: "MTDServer",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDDetection", "MTDStore", "MTDServices", "MobileRiskAPI", "MTDAutomations", "BuiltinUEM", "UEMClient",
                "ProtectiveDNS",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        .executableTarget(
            name: "openmtd",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDDetection", "MTDServer", "MTDServices", "MTDAutomations", "MTDAgent", "MTDSimulator", "UEMClient",
                "ProtectiveDNS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "MTDCoreTests", dependencies: ["MTDCore"]),
        .testTarget(name: "MTDAutomationsTests", dependencies: ["MTDAutomations", "MTDCore"]),
        .testTarget(name: "UEMClientTests", dependencies: ["UEMClient"]),
        // Helpers every test target shares; a plain target so test targets can depend on it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MTDIntelTests", dependencies: ["MTDIntel"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MTDDetectionTests", dependencies: ["MTDDetection"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OpenMTDCLITests", dependencies: ["openmtd"]),
        .testTarget(name: "MTDAgentTests", dependencies: ["MTDAgent", "MTDCore"]),
        .testTarget(name: "MTDSimulatorTests", dependencies: ["MTDSimulator", "MTDCore"]),
        .testTarget(
            name: "BuiltinUEMTests",
            dependencies: [
                "BuiltinUEM", "MTDServer", "MTDServices", "UEMClient", "MTDStore", "MTDCore", "ProtectiveDNS", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .testTarget(
            name: "MTDServerTests",
            dependencies: [
                "MTDServer", "MTDServices", "MobileRiskAPI", "MTDAutomations", "MTDStore", "MTDCore", "MTDAgent", "MTDSimulator", "BuiltinUEM", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
