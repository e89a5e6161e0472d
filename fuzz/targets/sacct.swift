// libFuzzer target `sacct`: `sacct --parsable2 --noconvert` output as the audit reads it (a dump
// file, or sacct's own output), merged into jobs and summarised into a report. Whatever the
// bytes, the accumulator counts rows and jobs without trapping, and the report is built.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var accumulator = SacctAccumulator()
    // In two chunks split at a byte the input chooses, so lines cross chunk boundaries.
    let cut = size == 0 ? 0 : Int(data[0]) % (size + 1)
    accumulator.feed(UnsafeRawBufferPointer(start: data, count: cut))
    accumulator.feed(UnsafeRawBufferPointer(start: data + cut, count: size - cut))
    accumulator.finish()
    let jobs = accumulator.takeFinishedJobs()
    let report = AuditReport(jobs: jobs, settings: AuditSettings(), recompute: { _ in nil })
    _ = report.overall
    for entry in report.entries { _ = entry.measuredOverPredicted }
    return 0
}
