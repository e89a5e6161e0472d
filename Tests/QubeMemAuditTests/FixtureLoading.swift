import Foundation
import QubeMemSlurm
import QubeMemAudit

/// Reads a fixture shipped with the test bundle.
func fixtureBytes(_ name: String) throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return Array(try Data(contentsOf: url))
}

struct FixtureMissing: Error { var name: String }

/// Parses bytes in chunks of `chunk` bytes (to exercise lines split across reads).
func accumulate(_ bytes: [UInt8], chunk: Int = 1 << 16) -> SacctAccumulator {
    var acc = SacctAccumulator()
    var i = 0
    while i < bytes.count {
        let j = min(i + chunk, bytes.count)
        acc.feed(Array(bytes[i..<j]))
        i = j
    }
    acc.finish()
    return acc
}

/// A stand-in for the current model: any `qube:` comment is priced at 1 GiB, except `bogus`.
let fakeRecompute: Recompute = { comment in
    guard comment.contains("qube:") else { return nil }
    if comment.contains("bogus") { return .failure(RecomputeError("unknown key 'bogus'")) }
    return .success(RecomputedPrediction(model: "1.3", path: "harmonic", totalBytes: 1 << 30))
}

let MiB: UInt64 = 1 << 20
let GiB: UInt64 = 1 << 30
