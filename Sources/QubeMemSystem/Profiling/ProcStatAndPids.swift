import QubeMem

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
