// libFuzzer entry for the library's untrusted inputs: job comments (what any user controls, and
// what slurmctld hands the plugin) and qubemem.conf text. Built and run by scripts/fuzz.sh with
// the QubeMem sources compiled into the same module, under AddressSanitizer: any trap (overflow,
// bounds, force unwrap) or memory error is a crash and fails the run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    _ = QubeComment.parse(utf8: input)

    // Behind a marker, so that every input reaches the pair parser and the predictor.
    var comment = Array("qube: ".utf8)
    comment.append(contentsOf: input)
    let site = SiteConfig()
    let memories: [UserMemory] = [.none, .perNode(mib: 4000), .perCPU(mib: UInt64(size), cpusPerNode: UInt64.max)]
    comment.withUnsafeBufferPointer { bytes in
        for memory in memories {
            let decision = SubmissionDecision.decide(commentBytes: bytes, userMemory: memory, config: site)
            if case let .setMemory(mib) = decision.outcome, mib == 0 {
                fatalError("set a job's memory to 0 MiB for \(Array(bytes))")
            }
        }
    }
    if case let .success(spec)? = comment.withUnsafeBufferPointer({ QubeComment.parse(utf8: $0) }) {
        // What render writes, parse reads back.
        let again = QubeComment.parse(QubeComment.render(spec))
        if case .success(spec)? = again {} else { fatalError("render/parse round trip lost \(spec)") }
    }
    _ = SiteConfig.parse(String(decoding: input, as: UTF8.self))
    return 0
}
