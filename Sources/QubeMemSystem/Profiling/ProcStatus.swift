import QubeMem

// The parsers for the Linux /proc files the profiler reads, one file each (ProcStatus, ProcStatm
// and SmapsRollup, ProcStat and the pid lists), with their shared line and number readers in
// ProcFieldReaders.swift. They take the file's bytes and never touch the file system, so the
// tests run them on fixture files as well as on the live /proc. Sizes come out in bytes (the
// kernel writes kB = KiB).

/// The fields of `/proc/PID/status` the profiler uses.
public struct ProcStatus: Sendable, Equatable {
    /// The command name (`Name:`), at most 15 bytes as the kernel keeps it.
    public var name: String = ""
    /// Parent process id (`PPid:`).
    public var ppid: Int32 = 0
    /// Thread-group id (`Tgid:`): equal to the pid for a process, the process's pid for a thread.
    public var tgid: Int32 = 0
    /// This entry's own id (`Pid:`).
    public var pid: Int32 = 0
    /// Resident set size now (`VmRSS:`), bytes. Zero for a kernel thread or a zombie.
    public var rssBytes: UInt64 = 0
    /// Resident high-water mark (`VmHWM:`), bytes: the largest RSS since the process started or
    /// since its mark was last reset through `clear_refs`.
    public var hwmBytes: UInt64 = 0
    /// Peak virtual size (`VmPeak:`), bytes.
    public var vmPeakBytes: UInt64 = 0
    /// Anonymous resident memory (`RssAnon:`), bytes.
    public var rssAnonBytes: UInt64 = 0
    /// File-backed resident memory (`RssFile:`), bytes.
    public var rssFileBytes: UInt64 = 0
    /// Shared-memory resident memory (`RssShmem:`), bytes.
    public var rssShmemBytes: UInt64 = 0
    /// Threads in the process (`Threads:`); 0 when the line is missing.
    public var threads: Int32 = 0
    /// Whether the file had a `VmRSS:` line (a kernel thread or a zombie has none).
    public var hasMemory: Bool = false

    public init() {}

    /// Parses the text of `/proc/PID/status`. Unknown lines are ignored; a malformed number on a
    /// line we use makes the parse fail.
    public static func parse(_ bytes: some Collection<UInt8>) -> ProcStatus? {
        parse(slice: ArraySlice(bytes))
    }

    /// The same, on bytes already in an array (the sampler's buffer): no copy.
    public static func parse(slice: ArraySlice<UInt8>) -> ProcStatus? {
        slice.withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// The byte-level parse every sample runs, over a raw buffer: keys are told apart by their
    /// first bytes and length, values read in place.
    public static func parse(buffer b: UnsafeBufferPointer<UInt8>) -> ProcStatus? {
        var status = ProcStatus()
        let n = b.count
        var i = 0
        while i < n {
            // Key: up to ':'.
            let keyStart = i
            while i < n, b[i] != 58, b[i] != 10 { i += 1 }
            guard i < n, b[i] == 58 else {
                i += 1
                continue
            }
            let keyLength = i - keyStart
            i += 1
            let valueStart = i
            while i < n, b[i] != 10 { i += 1 }
            let value = UnsafeBufferPointer(rebasing: b[valueStart..<i])
            i += 1
            func key(_ text: StaticString) -> Bool {
                ByteText.equal(UnsafeBufferPointer(rebasing: b[keyStart..<(keyStart + keyLength)]), text)
            }
            func kib() -> UInt64? { parseKiB(value) }
            func decimal() -> Int32? { parseDecimal(value).map { Int32(truncatingIfNeeded: $0) } }
            switch b[keyStart] {
            case 78 where key("Name"):  // N
                var start = 0
                while start < value.count, value[start] == 32 || value[start] == 9 { start += 1 }
                status.name = String(decoding: UnsafeBufferPointer(rebasing: value[start...]), as: UTF8.self)
            case 80:  // P
                if key("PPid") { guard let v = decimal() else { return nil }; status.ppid = v }
                else if key("Pid") { guard let v = decimal() else { return nil }; status.pid = v }
            case 84:  // T
                if key("Tgid") { guard let v = decimal() else { return nil }; status.tgid = v }
                else if key("Threads") { guard let v = decimal() else { return nil }; status.threads = v }
            case 86:  // V
                if key("VmRSS") { guard let v = kib() else { return nil }; status.rssBytes = v; status.hasMemory = true }
                else if key("VmHWM") { guard let v = kib() else { return nil }; status.hwmBytes = v }
                else if key("VmPeak") { guard let v = kib() else { return nil }; status.vmPeakBytes = v }
            case 82:  // R
                if key("RssAnon") { guard let v = kib() else { return nil }; status.rssAnonBytes = v }
                else if key("RssFile") { guard let v = kib() else { return nil }; status.rssFileBytes = v }
                else if key("RssShmem") { guard let v = kib() else { return nil }; status.rssShmemBytes = v }
            default:
                break
            }
        }
        return status
    }

    /// The reference parse (slower, kept for the tests to check the fast one against).
    static func parseSlow(slice: ArraySlice<UInt8>) -> ProcStatus? {
        var status = ProcStatus()
        var ok = true
        // Keys compared as bytes: this runs for every process at every sample.
        forEachLineBytes(slice) { key, value in
            guard let first = key.first else { return }
            switch first {
            case UInt8(ascii: "N") where key.elementsEqual("Name".utf8):
                status.name = String(decoding: value.drop { $0 == 32 || $0 == 9 }, as: UTF8.self)
            case UInt8(ascii: "P"):
                if key.elementsEqual("PPid".utf8) {
                    if let v = parseDecimal(value) { status.ppid = Int32(truncatingIfNeeded: v) } else { ok = false }
                } else if key.elementsEqual("Pid".utf8) {
                    if let v = parseDecimal(value) { status.pid = Int32(truncatingIfNeeded: v) } else { ok = false }
                }
            case UInt8(ascii: "T"):
                if key.elementsEqual("Tgid".utf8) {
                    if let v = parseDecimal(value) { status.tgid = Int32(truncatingIfNeeded: v) } else { ok = false }
                } else if key.elementsEqual("Threads".utf8) {
                    if let v = parseDecimal(value) { status.threads = Int32(truncatingIfNeeded: v) } else { ok = false }
                }
            case UInt8(ascii: "V"):
                if key.elementsEqual("VmRSS".utf8) {
                    if let v = parseKiB(value) { status.rssBytes = v; status.hasMemory = true } else { ok = false }
                } else if key.elementsEqual("VmHWM".utf8) {
                    if let v = parseKiB(value) { status.hwmBytes = v } else { ok = false }
                } else if key.elementsEqual("VmPeak".utf8) {
                    if let v = parseKiB(value) { status.vmPeakBytes = v } else { ok = false }
                }
            case UInt8(ascii: "R"):
                if key.elementsEqual("RssAnon".utf8) {
                    if let v = parseKiB(value) { status.rssAnonBytes = v } else { ok = false }
                } else if key.elementsEqual("RssFile".utf8) {
                    if let v = parseKiB(value) { status.rssFileBytes = v } else { ok = false }
                } else if key.elementsEqual("RssShmem".utf8) {
                    if let v = parseKiB(value) { status.rssShmemBytes = v } else { ok = false }
                }
            default: break
            }
        }
        return ok ? status : nil
    }
}
