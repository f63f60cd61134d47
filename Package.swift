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
        .executable(name: "ergod", targets: ["ergod"]),
        .executable(name: "ergo-train", targets: ["ergo-train"]),
        .library(name: "ErgometerClient", targets: ["ErgometerClient"]),
        .library(name: "ErgometerCore", targets: ["ErgometerCore"]),
        .library(name: "ErgometerProbes", targets: ["ErgometerProbes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),  // Hummingbird's; HTTPService names its parse error
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
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
        // NVML's declarations and a dlopen loader: no build-time NVIDIA dependency.
        .target(name: "CNVML", linkerSettings: [.linkedLibrary("dl")]),
        // ergod's allocator: one glibc arena, malloc_trim after a prune (flat memory for months), and
        // the bytes in use (the soak's leak check).
        .target(name: "CFreeMemory"),
        // statfs(2)'s file-system type, which Glibc's module does not export (KernelFileSystem).
        .target(name: "CFileSystemType"),
        // getdents64(2), which Glibc's module does not export either (KeptOpenDirectory).
        .target(name: "CDirectoryEntries"),
        .target(name: "ErgometerCore", swiftSettings: strictSwift),
        .target(
            name: "ErgometerProbes",
            dependencies: ["ErgometerCore", "CSensors", "CPCI", "CNVML", "CFileSystemType", "CDirectoryEntries"],
            swiftSettings: strictSwift
        ),
        .target(name: "ErgometerWire", swiftSettings: strictSwift),
        // SVG pictures of reports, comparisons and projections (pure: text out).
        .target(name: "ErgometerCharts", dependencies: ["ErgometerCore", "ErgometerWire"], swiftSettings: strictSwift),
        .target(name: "ErgometerClient", dependencies: ["ErgometerWire"], swiftSettings: strictSwift),
        .target(
            name: "ErgometerStore",
            dependencies: ["ErgometerCore", "ErgometerWire", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSwift
        ),
        .target(
            name: "ErgometerDaemon",
            dependencies: [
                "CFreeMemory",
                "ErgometerCore", "ErgometerProbes", "ErgometerStore", "ErgometerWire", "ErgometerClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "ergod",
            dependencies: [
                "ErgometerDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "ergo",
            dependencies: [
                "ErgometerCore",
                "ErgometerProbes",
                "ErgometerDaemon",
                "ErgometerClient",
                "ErgometerWire",
                "ErgometerCharts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // The training workload: optimised even in debug builds, since it is the thing measured.
        .executableTarget(
            name: "ergo-train",
            dependencies: ["ErgometerClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .unsafeFlags(["-O"])]
        ),
        // Benchmarks (make bench): time and allocations per call; the malloc family is interposed
        // by CMallocCounter, linked into this executable only.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "ergometer-bench",
            dependencies: [
                "CMallocCounter", "ErgometerCore", "ErgometerProbes", "ErgometerDaemon", "ErgometerStore", "ErgometerWire",
                "ErgometerTestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ergometer-bench",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // The soak (make soak): months of a busy node in simulated time against the real
        // sampler and store, each bound printed "held" or "broke".
        .executableTarget(
            name: "ergometer-soak",
            dependencies: [
                "ErgometerDaemon", "ErgometerWire", "ErgometerTestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ergometer-soak",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Fuzzing (make fuzz; a short run in the tests): seeded mutations of real inputs for
        // every parser a stranger can reach, each answer checked against the parser's contract.
        .executableTarget(
            name: "ergometer-fuzz",
            dependencies: [
                "ErgometerCore", "ErgometerProbes", "ErgometerDaemon", "ErgometerWire", "ErgometerTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Fuzz/ergometer-fuzz",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // zlib, for the tests that read back the PNGs Chromium renders of the charts.
        .systemLibrary(name: "CZlib", path: "Tests/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Fixture paths, the built binaries and a process runner, shared by the test targets.
        .target(
            name: "ErgometerTestSupport", dependencies: ["CFreeMemory", "ErgometerDaemon", .product(name: "Logging", package: "swift-log")], path: "Tests/ErgometerTestSupport"),
        .testTarget(name: "ErgometerCoreTests", dependencies: ["ErgometerCore", "ErgometerTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "ErgometerProbesTests",
            dependencies: ["ErgometerProbes", "ErgometerCore", "ErgometerTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ErgometerDaemonTests",
            dependencies: [
                "ErgometerDaemon", "ErgometerCore", "ErgometerStore", "ErgometerClient", "ErgometerWire", "ErgometerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ergoTests",
            dependencies: [
                "ErgometerCore", "ErgometerClient", "ErgometerWire", "ErgometerTestSupport", "ergo", "ergod", "ergo-train", "ergometer-bench",
                "ergometer-fuzz", "ErgometerDaemon", "ErgometerStore", "ErgometerCharts", "CZlib", .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Snapshots"],
            swiftSettings: strictSwift
        ),
    ]
)
