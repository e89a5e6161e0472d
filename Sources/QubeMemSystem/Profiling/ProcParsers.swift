import QubeMem
/// Parsers for the Linux /proc files the profiler reads.
///
/// They take the file's bytes and never touch the file system, so the tests run them on fixture
/// files as well as on the live /proc. Sizes come out in bytes (the kernel writes kB = KiB).

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

/// `/proc/PID/statm`: the process's memory sizes in pages (size resident shared text lib data dt).
///
/// The kernel writes it from a handful of counters, about a sixth of the cost of `status`, which is
/// why the sampler reads it at every tick. It has no high-water mark: a reading is the RSS at that
/// instant only.
public struct ProcStatm: Sendable, Equatable {
    /// Total virtual size, pages. Zero when the process has no memory (a zombie, a kernel thread).
    public var sizePages: UInt64 = 0
    /// Resident pages: VmRSS in pages (anonymous + file-backed + shmem).
    public var residentPages: UInt64 = 0
    /// Resident file-backed and shmem pages (RssFile + RssShmem).
    public var sharedPages: UInt64 = 0

    public init(sizePages: UInt64 = 0, residentPages: UInt64 = 0, sharedPages: UInt64 = 0) {
        self.sizePages = sizePages; self.residentPages = residentPages; self.sharedPages = sharedPages
    }

    /// Whether the process has an address space (false for a zombie: the kernel writes zeros).
    public var hasMemory: Bool { sizePages > 0 }

    /// Parses the text of `/proc/PID/statm`: seven decimal fields separated by single spaces. The
    /// first three are kept; the line must hold at least those, all decimal.
    public static func parse(_ bytes: some Collection<UInt8>) -> ProcStatm? {
        Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// The same over a raw buffer (the sampler's, read in place at every tick).
    public static func parse(buffer b: UnsafeBufferPointer<UInt8>) -> ProcStatm? {
        var fields: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var i = 0
        let n = b.count
        for k in 0..<3 {
            while i < n, b[i] == 32 { i += 1 }
            guard let (value, end) = DecimalText.prefix(of: b, from: i) else { return nil }
            i = end
            guard i == n || b[i] == 32 || b[i] == 10 else { return nil }
            switch k {
            case 0: fields.0 = value
            case 1: fields.1 = value
            default: fields.2 = value
            }
        }
        return ProcStatm(sizePages: fields.0, residentPages: fields.1, sharedPages: fields.2)
    }
}

/// `/proc/PID/smaps_rollup`: the process's mappings summed, in bytes.
///
/// Keys are kept as the kernel writes them (`Rss`, `Pss`, `Pss_Anon`, `Anonymous`, ...), so a
/// kernel that adds a field needs no change here.
public struct SmapsRollup: Sendable, Equatable {
    /// Every `Key: N kB` line, in bytes, in file order.
    public var fields: [(key: String, bytes: UInt64)] = []

    public init(fields: [(key: String, bytes: UInt64)] = []) { self.fields = fields }

    public static func == (a: SmapsRollup, b: SmapsRollup) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.key == $1.key && $0.bytes == $1.bytes }
    }

    /// The value of one key in bytes, 0 when the kernel does not write it.
    public subscript(_ key: String) -> UInt64 {
        fields.first { $0.key == key }?.bytes ?? 0
    }

    public var rss: UInt64 { self["Rss"] }
    public var pss: UInt64 { self["Pss"] }

    /// Adds another process's rollup key by key (for a tree total).
    public mutating func add(_ other: SmapsRollup) {
        for field in other.fields {
            if let i = fields.firstIndex(where: { $0.key == field.key }) {
                fields[i].bytes = fields[i].bytes &+ field.bytes
            } else {
                fields.append(field)
            }
        }
    }

    /// Parses the text of `/proc/PID/smaps_rollup` (the first line is the `[rollup]` range).
    public static func parse(_ bytes: some Collection<UInt8>) -> SmapsRollup? {
        var rollup = SmapsRollup()
        var sawRange = false
        var ok = true
        forEachLine(bytes) { key, value in
            guard value.last(where: { $0 != 32 }) != nil else { return }
            if let v = parseKiB(value) {
                rollup.fields.append((key, v))
            } else if !sawRange, key.contains("-") {
                sawRange = true
            } else {
                ok = false
            }
        }
        return ok && !rollup.fields.isEmpty ? rollup : nil
    }
}

/// The fields of `/proc/PID/stat` the profiler uses.
public struct ProcStat: Sendable, Equatable {
    public var pid: Int32
    /// The command name between the parentheses (it may itself hold spaces and parentheses).
    public var comm: String
    /// One-letter state: R, S, D, Z, T, ...
    public var state: Character
    public var ppid: Int32
    /// Process group id.
    public var pgrp: Int32 = 0
    /// Start time after boot, in clock ticks: with the pid, it names a process for good.
    public var startTime: UInt64

    public init(pid: Int32, comm: String, state: Character, ppid: Int32, pgrp: Int32 = 0, startTime: UInt64) {
        self.pid = pid; self.comm = comm; self.state = state; self.ppid = ppid; self.pgrp = pgrp; self.startTime = startTime
    }

    /// Parses `/proc/PID/stat`. The command name is delimited by the first `(` and the *last* `)`.
    public static func parse(_ bytes: some Collection<UInt8>) -> ProcStat? {
        let all = Array(bytes)
        guard let open = all.firstIndex(of: UInt8(ascii: "(")),
              let close = all.lastIndex(of: UInt8(ascii: ")")), open < close,
              let pid = parseDecimal(all[..<open].filter { $0 != 32 })
        else { return nil }
        let comm = String(decoding: all[(open + 1)..<close], as: UTF8.self)
        // Fields after the name: state(3) ppid(4) ... starttime(22).
        let rest = all[(close + 1)...].split(separator: 32, omittingEmptySubsequences: true)
        guard rest.count >= 20, let stateByte = rest[0].first,
              let ppid = parseDecimal(rest[1]), let pgrp = parseDecimal(rest[2]), let start = parseDecimal(rest[19])
        else { return nil }
        return ProcStat(pid: Int32(truncatingIfNeeded: pid), comm: comm,
                        state: Character(Unicode.Scalar(stateByte)),
                        ppid: Int32(truncatingIfNeeded: ppid), pgrp: Int32(truncatingIfNeeded: pgrp), startTime: start)
    }
}

/// `/proc/PID/task/TID/children`: the ids of the processes that thread started (space-separated,
/// possibly empty). nil on anything but digits and spaces.
public func parsePidList(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int32]? {
    var out: [Int32] = []
    var value: Int32 = 0
    var digits = 0
    for b in bytes {
        if b >= 48, b <= 57 {
            guard digits < 9 else { return nil }
            value = value * 10 + Int32(b - 48)
            digits += 1
        } else if b == 32 || b == 10 {
            if digits > 0 { out.append(value) }
            value = 0
            digits = 0
        } else {
            return nil
        }
    }
    if digits > 0 { out.append(value) }
    return out
}

/// `/proc/loadavg`'s last field: the most recently allocated pid in this pid namespace. When it has
/// not moved since the last scan, no process was created and the tree need not be rescanned.
public func parseLastPid(_ bytes: some Collection<UInt8>) -> Int32? {
    let trimmed = Array(bytes).split(whereSeparator: { $0 == 32 || $0 == 10 })
    guard trimmed.count >= 5, let v = parseDecimal(trimmed[4]) else { return nil }
    return Int32(truncatingIfNeeded: v)
}

// MARK: - Small byte parsers

/// Calls `body(key, value)` with the bytes of every `Key:<ws>value` line.
func forEachLineBytes(_ all: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
    var start = all.startIndex
    let n = all.endIndex
    while start < n {
        var end = start
        var colon = -1
        while end < n && all[end] != 10 {
            if colon < 0 && all[end] == UInt8(ascii: ":") { colon = end }
            end += 1
        }
        if colon > start { body(all[start..<colon], all[(colon + 1)..<end]) }
        start = end + 1
    }
}

/// Calls `body(key, value)` for every `Key:<ws>value` line.
func forEachLine(_ bytes: some Collection<UInt8>, _ body: (String, ArraySlice<UInt8>) -> Void) {
    let all = Array(bytes)
    for line in all.split(separator: 10, omittingEmptySubsequences: true) {
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let key = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            body(key, line[(colon + 1)...])
        } else if let space = line.firstIndex(of: 32) {
            // smaps_rollup's first line: "start-end ---p ... [rollup]".
            body(String(decoding: line[line.startIndex..<space], as: UTF8.self), line[(space + 1)...])
        }
    }
}

/// A non-negative decimal integer, surrounding blanks and tabs allowed. nil on anything else or
/// on overflow.
func parseDecimal<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> UInt64? {
    let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
    guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) })
    else { return nil }
    return DecimalText.parse(bytes[first...last])
}

/// `   1234 kB` → 1234 × 1024 bytes. nil unless the unit is kB.
func parseKiB(_ bytes: ArraySlice<UInt8>) -> UInt64? {
    bytes.withUnsafeBufferPointer { parseKiB($0) }
}

/// `parseKiB` over a raw buffer.
func parseKiB(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
    var i = bytes.startIndex
    let end = bytes.endIndex
    while i < end, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
    guard let (value, afterDigits) = DecimalText.prefix(of: bytes, from: i) else { return nil }
    i = afterDigits
    while i < end, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
    guard end - i >= 2, bytes[i] == UInt8(ascii: "k"), bytes[i + 1] == UInt8(ascii: "B") else { return nil }
    i += 2
    while i < end, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 { i += 1 }
    guard i == end else { return nil }
    let (b, o) = value.multipliedReportingOverflow(by: 1024)
    return o ? nil : b
}
