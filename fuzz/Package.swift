// swift-tools-version: 6.0
// libFuzzer harnesses for OpenMTD's parsers (issue "No request crashes or corrupts OpenMTD").
// They depend on the Foundation-only modules (MTDCore, MTDDetection, MTDIntel), never on Vapor, so the
// sanitizer build stays small. Build and run them with fuzz/run.sh, not with the main package.
import PackageDescription

let package = Package(
    name: "openmtd-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "openmtd", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzCheckIn", dependencies: ["FuzzSupport", .product(name: "MTDCore", package: "openmtd")]),
        .executableTarget(name: "FuzzPolicy", dependencies: [
            "FuzzSupport",
            .product(name: "MTDCore", package: "openmtd"), .product(name: "MTDDetection", package: "openmtd"),
        ]),
        .executableTarget(name: "FuzzDNS", dependencies: ["FuzzSupport", .product(name: "MTDCore", package: "openmtd")]),
        .executableTarget(name: "FuzzSMTP", dependencies: ["FuzzSupport", .product(name: "MTDCore", package: "openmtd")]),
        .executableTarget(name: "FuzzIntel", dependencies: [
            "FuzzSupport",
            .product(name: "MTDCore", package: "openmtd"), .product(name: "MTDIntel", package: "openmtd"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
