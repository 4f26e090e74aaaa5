// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Ringwatt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ringwatt", targets: ["ringwatt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        // C libraries, each imported by exactly one Swift module.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        .target(name: "Support"),
        // Our C: the collectives' element-wise kernels, one variant per x86-64 level, picked at load.
        // Optimised in every configuration, so the tests (debug builds) check the vector code that runs.
        // No fused multiply-adds: a variant with FMA would round differently from one without.
        // No errno from libm: sqrtf is then one correctly rounded instruction that vectorises
        // (the same bits as the scalar call), not a call per element.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off", "-fno-math-errno"])]),
        // Release builds skip Swift's run-time exclusivity checks here (compile-time ones stay, and
        // debug builds — the tests — keep both): about fifteen checked accesses to AllReduce's state
        // are a measurable share of a small all-reduce. One thread uses an AllReduce at a time by
        // contract (GradientBuckets hands it between threads, never shares it).
        .target(name: "Collectives", dependencies: ["CKernels", "Support"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // MPITransport and the MPI error policy: the only importer of CMPI.
        .target(name: "MPI", dependencies: ["CMPI", "Collectives", "Support"]),
        .target(name: "Model", dependencies: ["CBLAS", "CKernels", "Support"]),
        .target(name: "Datasets", dependencies: ["CZlib", "CKernels", "Support"]),
        .target(name: "Energy", dependencies: ["Support"]),
        // The maths of scaling: bus bandwidth, the all-reduce's cost on a two-level network and its
        // fit, prediction, the plan (a grid of configurations, its frontier and recommendation).
        .target(name: "CostModel", dependencies: ["Collectives", "Energy"]),
        // The run-file contract: configuration, records, summary, run directory, exports; what
        // `report`, `compare` and `predict` read. No MPI.
        .target(name: "RunFiles", dependencies: ["Collectives", "Model", "Datasets", "Energy", "CostModel", "Support"]),
        // The cluster's energy by phase: the step's phases, the power plan, windows closed from
        // sampled curves, machine accounts, idle/dynamic, the phase fit, the flush, metrics.prom.
        .target(name: "Accounting",
                dependencies: ["RunFiles", "Collectives", "Energy", "CostModel", "Support",
                               .product(name: "Prometheus", package: "swift-prometheus")]),
        .target(name: "Trainer",
                dependencies: ["Accounting", "RunFiles", "Collectives", "Model", "Datasets", "Energy", "Support",
                               .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "ringwatt",
                          dependencies: ["Trainer", "RunFiles", "Accounting", "MPI", "CostModel",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")]),

        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Support"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "CKernels"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        // Fixture trees and counters; runs/ holds run directories written by earlier versions (read by tests).
        .target(name: "Fixtures", dependencies: ["Support"], path: "Tests/Fixtures", exclude: ["runs", "preload"]),
        .testTarget(name: "EnergyTests", dependencies: ["Energy", "Fixtures"]),
        .testTarget(name: "CostModelTests", dependencies: ["CostModel", "Collectives"]),
        .testTarget(name: "RunFilesTests", dependencies: ["RunFiles", "Accounting", "Model", "Trainer"]),
        // The trainer in-process, on threads-as-ranks, against fixture counters.
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "RunFiles", "Accounting", "Collectives", "Energy", "Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Trainer", "RunFiles", "Accounting", "Fixtures", "Support"]),
    ]
)
