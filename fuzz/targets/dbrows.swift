// libFuzzer target `dbrows`: what the MariaDB client prints for `audit --source db`'s two runs
// (requeued job ids and job records, then steps; the input is cut in two where its first byte
// says), turned into sacct rows, which are then read as sacct's would be. Free text in the
// database (job names, comments) is user-controlled.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var rows = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    var accumulator = SacctAccumulator()
    // Cut after a whole line, as the real reads end their first client run.
    var cut = size == 0 ? 0 : Int(data[0]) % (size + 1)
    while cut > 0 && cut < size && data[cut - 1] != 0x0A { cut += 1 }
    rows.feed(UnsafeRawBufferPointer(start: data, count: cut)) { accumulator.feed($0) }
    rows.finishJobs { accumulator.feed($0) }
    _ = rows.stepSelection
    rows.feed(UnsafeRawBufferPointer(start: data + cut, count: size - cut)) { accumulator.feed($0) }
    rows.finish { accumulator.feed($0) }
    accumulator.finish()
    // Every converted row must split into sacct's fields and carry readable figures. Three
    // refusals are allowed, each counted as a bad row by the audit as sacct's own output would be:
    // a state number this SLURM release does not have (written as UNKNOWN), two database
    // records that render as the same job id (found by this target: the converter keys jobs by
    // their record, the reader by their id), and a requested memory in MiB too large to be a
    // number of bytes (sacct prints it as the same `<MiB>M`, which the reader refuses alike).
    if accumulator.malformed.contains(where: {
        !$0.reason.hasPrefix("State 'UNKNOWN'") && !$0.reason.hasPrefix("second allocation row")
            && !($0.reason.hasPrefix("ReqMem '") && $0.reason.hasSuffix("M' is not a memory size"))
    }) {
        fatalError("converted rows the sacct reader refuses: \(accumulator.malformed.prefix(2))")
    }
    // The client library's way (`audit --source db` without --db-client): the same rows, the
    // steps handed over as figures and merged with `addStep`, must give the same jobs. Each step
    // is merged as soon as its row is read, to its job if that job was written by then: the text
    // path's rule (a step row finds its job among the jobs written so far; the real reads only
    // ever hand over steps of records already read).
    var direct = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    var figures: [StepFigures] = []
    direct.onStepFigures = { figures.append($0) }
    var merged = SacctAccumulator()
    func mergeFigures() {
        for step in figures {
            guard let key = direct.jobKey(record: step.record) else { continue }
            merged.addStep(job: key, state: step.state, maxRSS: step.maxRSS, taskSum: step.taskSum, tasks: step.tasks, nodes: step.nodes)
        }
        figures.removeAll()
    }
    func feedLines(_ start: UnsafePointer<UInt8>, _ count: Int) {
        forEachLine(start, count) { line in
            direct.feed(line) { merged.feed($0) }
            mergeFigures()
        }
    }
    feedLines(data, cut)
    direct.finishJobs { merged.feed($0) }
    feedLines(data + cut, size - cut)
    direct.finish { merged.feed($0) }
    mergeFigures()
    merged.finish()
    func jobs(_ acc: inout SacctAccumulator) -> String {
        String(describing: acc.takeFinishedJobs().map { job in var j = job; j.line = 0; return j })
    }
    let text = jobs(&accumulator), library = jobs(&merged)
    if text != library {
        fatalError("steps merged as figures differ from their sacct rows:\n\(text.prefix(600))\n\(library.prefix(600))")
    }
    // `--suggest-config`'s way: the job records handed over as figures too (`onJob`, merged with
    // `addJob`), into a summary, which must be the summary of the sacct rows.
    var rowsSummary = SacctAccumulator(keeping: .summary)
    var textRows = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    textRows.feed(UnsafeRawBufferPointer(start: data, count: cut)) { rowsSummary.feed($0) }
    textRows.finishJobs { rowsSummary.feed($0) }
    textRows.feed(UnsafeRawBufferPointer(start: data + cut, count: size - cut)) { rowsSummary.feed($0) }
    textRows.finish { rowsSummary.feed($0) }
    rowsSummary.finish()
    final class Summary { var acc = SacctAccumulator(keeping: .summary) }
    let figuresSummary = Summary()
    var jobFigures = AccountingRows(now: 1_800_000_000, userName: { "u\($0)" })
    jobFigures.onJob = { job in
        figuresSummary.acc.addJob(key: job.key, state: job.state, elapsedSeconds: job.elapsedSeconds, nodes: job.nodes,
                                  cpus: job.cpus, requested: job.requested, comment: job.comment, adminComment: job.adminComment)
    }
    jobFigures.onStepFigures = { figures.append($0) }
    func feedFigureLines(_ start: UnsafePointer<UInt8>, _ count: Int) {
        forEachLine(start, count) { line in
            jobFigures.feed(line) { figuresSummary.acc.feed($0) }
            mergeStepFigures()
        }
    }
    func mergeStepFigures() {
        for step in figures {
            guard let key = jobFigures.jobKey(record: step.record) else { continue }
            figuresSummary.acc.addStep(job: key, state: step.state, maxRSS: step.maxRSS, taskSum: step.taskSum,
                                       tasks: step.tasks, nodes: step.nodes)
        }
        figures.removeAll()
    }
    feedFigureLines(data, cut)
    jobFigures.finishJobs { figuresSummary.acc.feed($0) }
    feedFigureLines(data + cut, size - cut)
    jobFigures.finish { figuresSummary.acc.feed($0) }
    mergeStepFigures()
    figuresSummary.acc.finish()
    func summary(_ acc: inout SacctAccumulator) -> String {
        "\(acc.rows) \(acc.malformed) \(acc.liveJobs) \(acc.pendingArrayRows) \(acc.takeSummary())"
    }
    let fromRows = summary(&rowsSummary), fromFigures = summary(&figuresSummary.acc)
    if fromRows != fromFigures {
        fatalError("jobs handed as figures differ from their sacct rows:\n\(fromRows.prefix(600))\n\(fromFigures.prefix(600))")
    }
    return 0
}

/// Calls `body` with each line of the `count` bytes at `start`, its newline included (the last
/// line may have none), as a client's rows come one at a time.
func forEachLine(_ start: UnsafePointer<UInt8>, _ count: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
    var offset = 0
    while offset < count {
        var end = offset
        while end < count && start[end] != 0x0A { end += 1 }
        let length = min(end + 1, count) - offset
        body(UnsafeRawBufferPointer(start: start + offset, count: length))
        offset += length
    }
}
