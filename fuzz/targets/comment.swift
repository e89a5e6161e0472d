// libFuzzer target `comment`: job comments, what any user controls and what slurmctld hands the
// plugin, with every task layout a job can carry. Any trap (overflow, bounds, force unwrap) or
// memory error is a crash and fails the run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    _ = QubeComment.parse(utf8: input)

    // Behind a marker, so that every input reaches the pair parser and the predictor. The first
    // bytes also choose a task layout (SLURM's 32- and 16-bit fields, NO_VAL and 0 included).
    var comment = Array("qube: ".utf8)
    comment.append(contentsOf: input)
    func word(_ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in at..<(at + 4) where i < size { v = v << 8 | UInt64(data[i]) }
        return v
    }
    let layouts = [TaskLayout.singleRank,
                   TaskLayout(tasks: word(0), nodes: word(4) & 0xFF, tasksPerNode: word(8) & 0xFFFF,
                              cpusPerTask: word(12) & 0xFFFF),
                   TaskLayout(tasks: word(0) & 0xFFFF),
                   TaskLayout(tasks: UInt64(UInt32.max), nodes: 1, cpusPerTask: UInt64(UInt16.max))]
    // One user memory and one layout per input, chosen by its last byte: every pair is reached
    // across inputs, at a twelfth of the cost of trying them all on each.
    let site = SiteConfig()
    let memories: [UserMemory] = [.none, .perNode(mib: 4000), .perCPU(mib: UInt64(size), cpusPerNode: UInt64.max)]
    let pick = size == 0 ? 0 : Int(data[size - 1])
    let memory = memories[pick % memories.count]
    let layout = layouts[(pick / memories.count) % layouts.count]
    comment.withUnsafeBufferPointer { bytes in
        let decision = SubmissionDecision.decide(commentBytes: bytes, userMemory: memory, config: site,
                                                 layout: layout)
        switch decision.outcome {
        case .setMemory(let mib), .setMemoryPerCPU(let mib):
            if mib == 0 { fatalError("set a job's memory to 0 MiB for \(Array(bytes))") }
        default: break
        }
        var message = ByteArraySink(), record = ByteArraySink()
        decision.writeUserMessage(to: &message)
        decision.writeAdminRecord(to: &record)
    }
    if case let .success(spec)? = comment.withUnsafeBufferPointer({ QubeComment.parse(utf8: $0) }) {
        // What render writes, parse reads back.
        let again = QubeComment.parse(QubeComment.render(spec))
        if case .success(spec)? = again {} else { fatalError("render/parse round trip lost \(spec)") }
    }
    return 0
}
