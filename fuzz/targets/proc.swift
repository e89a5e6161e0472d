// libFuzzer target `proc`: the /proc files the profiler reads (status, statm, smaps_rollup,
// stat), whose text a profiled process partly controls (its comm name is in stat and status).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    _ = ProcStatus.parse(buffer: bytes)
    _ = ProcStatus.parse(Array(bytes))
    _ = ProcStatm.parse(buffer: bytes)
    _ = SmapsRollup.parse(Array(bytes))
    _ = ProcStat.parse(Array(bytes))
    return 0
}
