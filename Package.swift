// swift-tools-version:6.0
import PackageDescription

/// Strictness flags shared by every Swift target (as swift-log does).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "qubemem",
    products: [
        .library(name: "QubeMem", targets: ["QubeMem"]),
        .executable(name: "qubemem", targets: ["qubemem"]),
        // The Swift half of job_submit_qubemem.so: the C ABI and its implementation. Linked
        // statically into the plugin by plugin/Package.swift together with the C shim.
        .library(name: "QubeMemPlugin", targets: ["CQubeMemABI", "QubeMemCExports"]),
        // A QUBE run's YAML config and FITS mask readers, for the fuzz targets of fuzz/inputs/
        // (a package of their own, built with sanitizers by scripts/fuzz.sh).
        .library(name: "QubeMemInputs", targets: ["QubeMemInputs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML for QUBE's own run configs (qubemem predict --qube-config). CLI only: never
        // reachable from the plugin's product.
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // Pure budget math, comment grammar and request policy. Standard library only:
        // it is linked into slurmctld. No Foundation, no I/O, no global state, no traps.
        .target(name: "QubeMem", swiftSettings: strict),
        // SLURM's formats, parsing only: job ids and states, memory sizes, the sacct field list,
        // AdminComment records, slurmdbd.conf. Standard library only.
        .target(name: "QubeMemSlurm", dependencies: ["QubeMem"], swiftSettings: strict),
        // The audit: sacct rows merged into jobs, then statistics, slack recommendation and report.
        // Standard library only: every byte it reads is handed to it by QubeMemSystem.
        .target(name: "QubeMemAudit", dependencies: ["QubeMemSlurm"], swiftSettings: strict),
        // Every side effect: files, processes (sacct, the database client, profiled runs), /proc
        // and cgroups, and the SQL over slurmdbd's tables.
        .target(name: "QubeMemSystem", dependencies: ["QubeMem", "QubeMemSlurm", "CMariaDB"], swiftSettings: strict),
        // MariaDB Connector/C's header (Debian's libmariadb-dev), for `audit --source db`. The
        // library itself is loaded with dlopen when the database is read (see its module.modulemap).
        .systemLibrary(name: "CMariaDB", providers: [.apt(["libmariadb-dev"])]),
        // The one C contract between the plugin shim and Swift: include/qubemem_abi.h.
        .target(name: "CQubeMemABI"),
        // @c / @_cdecl qubemem_v1_* functions: ABI structs <-> Swift types, statuses, config file.
        .target(name: "QubeMemCExports", dependencies: ["QubeMem", "CQubeMemABI"], swiftSettings: strict),
        // CFITSIO's header (Debian's libcfitsio-dev), for reading HEALPix masks. CLI only; the
        // library itself is loaded with dlopen when a mask is read (see its module.modulemap).
        .systemLibrary(name: "CCFITSIO", providers: [.apt(["libcfitsio-dev"])]),
        // A QUBE run's own inputs read from disk: its YAML config (Yams) and its FITS mask (CFITSIO).
        .target(
            name: "QubeMemInputs",
            dependencies: ["QubeMem", "CCFITSIO", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Subcommands, context, typed CLI errors, output formatting.
        .target(
            name: "QubeMemCLI",
            dependencies: [
                "QubeMem", "QubeMemSlurm", "QubeMemAudit", "QubeMemSystem", "QubeMemInputs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The @main root command only.
        .executableTarget(name: "qubemem", dependencies: ["QubeMemCLI"], swiftSettings: strict),
        // Timing utilities for qubemem's own measurements (standard library only). A module of
        // its own, so that nothing of it is linked into the plugin.
        .target(name: "QubeMemTiming", swiftSettings: strict),
        // In-process timing of the budget library for BENCHMARKS.md (bench/predict/run.sh).
        .executableTarget(name: "qubemem-bench", dependencies: ["QubeMem"], swiftSettings: strict),

        .testTarget(name: "QubeMemTests", dependencies: ["QubeMem"], swiftSettings: strict),
        .testTarget(name: "QubeMemTimingTests", dependencies: ["QubeMemTiming"], swiftSettings: strict),
        .testTarget(name: "QubeMemCExportsTests", dependencies: ["QubeMemCExports", "CQubeMemABI", "QubeMem"],
                    swiftSettings: strict),
        .testTarget(name: "QubeMemSlurmTests", dependencies: ["QubeMemSlurm"], swiftSettings: strict),
        .testTarget(name: "QubeMemAuditTests", dependencies: ["QubeMemAudit", "QubeMemSlurm"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "QubeMemSystemTests", dependencies: ["QubeMemSystem", "QubeMemAudit", "QubeMemSlurm"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "QubeMemInputsTests", dependencies: ["QubeMemInputs", "QubeMem"],
                    swiftSettings: strict),
        .testTarget(name: "QubeMemCLITests", dependencies: ["QubeMemCLI", "qubemem"],
                    resources: [.copy("Snapshots")], swiftSettings: strict),
    ]
)
