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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "MTDCore"),
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
        .executableTarget(
            name: "openmtd",
            dependencies: [
                "MTDCore", "MTDIntel", "MTDDetection",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MTDCoreTests", dependencies: ["MTDCore"]),
        .testTarget(name: "MTDIntelTests", dependencies: ["MTDIntel"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MTDDetectionTests", dependencies: ["MTDDetection"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OpenMTDCLITests", dependencies: ["openmtd"]),
    ],
    swiftLanguageModes: [.v6]
)
