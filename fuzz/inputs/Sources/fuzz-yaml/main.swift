// libFuzzer target `yaml`: a QUBE run's YAML config (qubemem predict --qube-config), through Yams
// and libyaml (both instrumented) to the memory-relevant keys, then QUBE's derivation of the run
// as predict does it. A thrown InputError or a refused derivation is an answer; a trap, an ASan
// report or a hang is a finding.
import CFuzzerDriver
import Foundation
import QubeMem
import QubeMemInputs

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    // QubeConfigFile.read refuses bytes that are not UTF-8; parse also sees the repaired text of
    // any other bytes.
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let file = try? QubeConfigFile.parse(text, path: "fuzz.yaml") else { return 0 }
    _ = file.warnings.count
    // What predict does next, with one unmasked pixel per field standing in for the mask.
    var config = file.config
    config.nObs = config.spins.map { _ in 1 }
    if case let .success(run) = config.derive() {
        _ = run.spec
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
