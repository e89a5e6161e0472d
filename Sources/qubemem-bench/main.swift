// qubemem-bench: times the budget library in-process on configs read from standard input, for
// bench/predict/run.sh (`qubemem-bench [REPS] < configs.txt`). One config per line:
//   MODEL harmonic N_PIX N_MODES LMAX_SIGNAL LMAX|- KEEP_V(0/1) WORKING_DIM|-
//   MODEL pixel_direct N_PIX N_BINS N_PARAMS LMAX_SIGNAL|- SWITCH(0/1) CACHE(0/1) WORKING_DIM|-
// Prints the best-of-REPS time per config in nanoseconds and a checksum of lifetime peaks, so
// the Python side can show it did the same work.
import QubeMem
#if canImport(Glibc)
import Glibc
#endif

enum Config {
    case harmonic(ModelVersion, HarmonicInputs)
    case pixel(ModelVersion, PixelDirectInputs)
}

func parse(_ line: Substring) -> Config? {
    let f = line.split(separator: " ").map(String.init)
    guard f.count >= 2, let model = ModelVersion.parse(f[0]) else { return nil }
    func opt(_ s: String) -> Int? { s == "-" ? nil : Int(s) }
    if f[1] == "harmonic", f.count == 8, let n = Int(f[2]), let m = Int(f[3]), let ls = Int(f[4]) {
        return .harmonic(model, HarmonicInputs(nPix: n, nModes: m, lmaxSignal: ls, lmax: opt(f[5]),
                                               releasePixelProjector: f[6] == "0", workingDim: opt(f[7])))
    }
    if f[1] == "pixel_direct", f.count == 9, let n = Int(f[2]), let b = Int(f[3]), let p = Int(f[4]) {
        return .pixel(model, PixelDirectInputs(
            nPix: n, nBins: b, nParams: p, lmaxSignal: opt(f[5]),
            hasSwitch: model == .v1_0 ? f[6] == "1" : nil,
            cacheDerivatives: model == .v1_0 ? nil : f[7] == "1", workingDim: opt(f[8])))
    }
    return nil
}

let args = CommandLine.arguments
var configs: [Config] = []
var text = ""
while let line = readLine() { text += line + "\n" }
for line in text.split(separator: "\n") {
    guard let c = parse(line) else { print("bad config line: \(line)"); exit(65) }
    configs.append(c)
}
let reps = args.count > 1 ? Int(args[1]) ?? 5 : 5
var best = Duration.seconds(1_000_000)
var checksum: UInt64 = 0
let clock = ContinuousClock()
for _ in 0..<reps {
    var sum: UInt64 = 0
    let elapsed = clock.measure {
        for c in configs {
            let r: Result<Budget, BudgetError>
            switch c {
            case let .harmonic(m, i): r = ReferenceModel.harmonic(i, model: m)
            case let .pixel(m, i): r = ReferenceModel.pixelDirect(i, model: m)
            }
            if case let .success(b) = r { sum &+= b.lifetimePeakBytes }
        }
    }
    checksum = sum
    best = min(best, elapsed)
}
let ns = Double(best.components.seconds) * 1e9 + Double(best.components.attoseconds) / 1e9
print("configs=\(configs.count) best_ns_per_config=\(ns / Double(configs.count)) checksum=\(checksum)")
