// swift-tools-version:6.0
// Builds job_submit_qubemem.so: the C shim (job_submit_qubemem.c) and the Swift half of qubemem
// (the root package's QubeMemPlugin product) in one shared object. Use `make` here, which passes
// `-Xswiftc -static-stdlib` so the Swift runtime is linked in (see docs/facts.md §5).
import Foundation
import PackageDescription

// The SLURM release to build for: the Makefile names a folder holding only slurm/*.h (default: the
// installed headers). Given to the C target alone, so another release recompiles the shim only.
let slurmInclude: [String] = ProcessInfo.processInfo.environment["QUBEMEM_SLURM_INCLUDE"]
    .map { ["-I", $0] } ?? []

let hardening: [String] = [
    "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing", "-Wall", "-Wextra",
    "-Werror", "-Wformat=2", "-Wno-unused-parameter", "-ffunction-sections",
]

let package = Package(
    name: "qubemem-plugin",
    products: [
        .library(name: "job_submit_qubemem", type: .dynamic, targets: ["JobSubmitQubemem"]),
    ],
    dependencies: [
        .package(name: "qubemem", path: ".."),
    ],
    targets: [
        .target(
            name: "JobSubmitQubemem",
            dependencies: [.product(name: "QubeMemPlugin", package: "qubemem")],
            path: ".",
            sources: ["job_submit_qubemem.c"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(slurmInclude + hardening)],
            linkerSettings: [
                .unsafeFlags([
                    "-Xlinker", "--version-script=\(Context.packageDirectory)/job_submit_qubemem.lds",
                    // The hot path's functions side by side (see Makefile and hot-functions.order):
                    // lld, whose symbol ordering works on Swift's function sections.
                    "-use-ld=lld",
                    "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/hot-functions.order",
                    "-Xlinker", "--no-warn-symbol-ordering",
                    // No string merging: literals stay in input order, those of one file together.
                    "-Xlinker", "-O0",
                    "-Xlinker", "-z", "-Xlinker", "relro", "-Xlinker", "-z", "-Xlinker", "now",
                    "-Xlinker", "-z", "-Xlinker", "noexecstack", "-Xlinker", "--as-needed",
                ]),
            ]
        ),
    ]
)
