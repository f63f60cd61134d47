// swift-tools-version:6.1
import PackageDescription

// Module layout: see DESIGN.md. Pure logic in ErgometerCore, machine I/O in ErgometerProbes,
// thin executables on top. The system-library targets wrap libsensors and libpci.
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Ergometer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ergo", targets: ["ergo"]),
        .library(name: "ErgometerCore", targets: ["ErgometerCore"]),
        .library(name: "ErgometerProbes", targets: ["ErgometerProbes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSensors",
            providers: [.apt(["libsensors-dev"])]
        ),
        // A real C target, not only a header: libpci's error handler must be C (variadic, noreturn).
        .target(
            name: "CPCI",
            linkerSettings: [.linkedLibrary("pci")]
        ),
        .target(name: "ErgometerCore", swiftSettings: strictSwift),
        .target(
            name: "ErgometerProbes",
            dependencies: ["ErgometerCore", "CSensors", "CPCI"],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "ergo",
            dependencies: [
                "ErgometerCore",
                "ErgometerProbes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Fixture paths, the built binaries and a process runner, shared by the test targets.
        .target(name: "ErgometerTestSupport", path: "Tests/ErgometerTestSupport"),
        .testTarget(name: "ErgometerCoreTests", dependencies: ["ErgometerCore"], swiftSettings: strictSwift),
        .testTarget(
            name: "ErgometerProbesTests",
            dependencies: ["ErgometerProbes", "ErgometerCore", "ErgometerTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ergoTests",
            dependencies: ["ErgometerCore", "ErgometerTestSupport", "ergo"],
            exclude: ["Snapshots"],
            swiftSettings: strictSwift
        ),
    ]
)
