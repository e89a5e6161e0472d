// swift-tools-version:6.0
// The libFuzzer targets for a QUBE run's own inputs (scripts/fuzz.sh yaml fits). A package of its
// own, beside the main one: these targets link Yams (with libyaml's C sources) and load CFITSIO,
// which the one-module swiftc builds of scripts/fuzz.sh cannot, and `swift build` of the main
// package never builds them. scripts/fuzz.sh builds them with every Swift and C module of the
// graph instrumented (-sanitize=fuzzer,address; -fsanitize=fuzzer-no-link,address for libyaml).
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the clone was called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let qubemem = root.lastPathComponent

let package = Package(
    name: "qubemem-fuzz-inputs",
    dependencies: [.package(path: "../..")],
    targets: [
        // The declaration of libFuzzer's LLVMFuzzerRunDriver, which each target's main calls.
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "fuzz-yaml",
            dependencies: ["CFuzzerDriver", .product(name: "QubeMemInputs", package: qubemem)]
        ),
        .executableTarget(
            name: "fuzz-fits",
            dependencies: ["CFuzzerDriver", .product(name: "QubeMemInputs", package: qubemem)]
        ),
    ]
)
