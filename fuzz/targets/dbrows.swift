// libFuzzer target `dbrows`: what the MariaDB client prints for `audit --source db`'s two runs
// (requeued job ids and job records, then steps; the input is cut in two where its first byte
// says), turned into sacct rows, which are then read as sacct's would be. Free text in the
// database (job names, comments) is user-controlled.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var rows = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    var accumulator = SacctAccumulator()
    let cut = size == 0 ? 0 : Int(data[0]) % (size + 1)
    rows.feed(UnsafeRawBufferPointer(start: data, count: cut)) { accumulator.feed($0) }
    rows.finishJobs { accumulator.feed($0) }
    _ = rows.stepSelection
    rows.feed(UnsafeRawBufferPointer(start: data + cut, count: size - cut)) { accumulator.feed($0) }
    rows.finish { accumulator.feed($0) }
    accumulator.finish()
    // Every converted row must split into sacct's fields and carry readable figures. Two
    // refusals are allowed, both counted as bad rows by the audit as sacct's own output would be:
    // a state number this SLURM release does not have (written as UNKNOWN), and two database
    // records that render as the same job id (found by this target: the converter keys jobs by
    // their record, the reader by their id).
    if accumulator.malformed.contains(where: {
        !$0.reason.hasPrefix("State 'UNKNOWN'") && !$0.reason.hasPrefix("second allocation row")
    }) {
        fatalError("converted rows the sacct reader refuses: \(accumulator.malformed.prefix(2))")
    }
    // The client library's way (`audit --source db` without --db-client): the same rows, the
    // steps handed over as figures and merged with `addStep`, must give the same jobs.
    var direct = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    var figures: [StepFigures] = []
    direct.onStepFigures = { figures.append($0) }
    var merged = SacctAccumulator()
    direct.feed(UnsafeRawBufferPointer(start: data, count: cut)) { merged.feed($0) }
    direct.finishJobs { merged.feed($0) }
    direct.feed(UnsafeRawBufferPointer(start: data + cut, count: size - cut)) { merged.feed($0) }
    direct.finish { merged.feed($0) }
    for step in figures {
        guard let key = direct.jobKey(record: step.record) else { continue }
        merged.addStep(job: key, state: step.state, maxRSS: step.maxRSS, taskSum: step.taskSum, tasks: step.tasks, nodes: step.nodes)
    }
    merged.finish()
    func jobs(_ acc: inout SacctAccumulator) -> String {
        String(describing: acc.takeFinishedJobs().map { job in var j = job; j.line = 0; return j })
    }
    let text = jobs(&accumulator), library = jobs(&merged)
    if text != library {
        fatalError("steps merged as figures differ from their sacct rows:\n\(text.prefix(600))\n\(library.prefix(600))")
    }
    return 0
}
