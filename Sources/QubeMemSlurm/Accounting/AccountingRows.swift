/// Turns the rows of `AccountingSQL`'s query, as the MariaDB/MySQL client prints them in batch
/// mode, into the `sacct --parsable2 --noconvert` rows the audit reads (`SacctField` order): a
/// job row the first time a job appears, then one row per step.
///
/// Figures are written in forms the sacct parser reads with the same meaning: memory in bytes,
/// requested memory in MiB with an `M`, and TRESUsageInTot as just its `mem=` figure (the only one
/// the audit uses). Free text has its control characters replaced, and the fields before Comment
/// lose any `|`, so that a row always splits into the right fields.
///
/// Streaming: `feed` takes the client's output in any chunks; memory is one line.
public struct AccountingRows {
    /// The name of a uid (`User` is a name, the database stores the number).
    public typealias UserName = (UInt32) -> String

    private let userName: UserName
    /// Unix seconds: "now", for the elapsed time of jobs still running.
    private let now: Int64
    private var pending: [UInt8] = []
    private var lastJob: UInt64?
    private var jobID = ""
    private var account = ""
    /// Client rows that could not be read (wrong number of columns).
    public private(set) var unreadable = 0
    public private(set) var firstUnreadable: String?

    public init(now: Int64, userName: @escaping UserName) {
        self.now = now
        self.userName = userName
    }

    /// Converts a chunk of client output; `emit` receives whole sacct rows, each ending in "\n".
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (String) -> Void) {
        for byte in chunk {
            if byte == 0x0A {
                convert(pending, emit: emit)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
    }

    /// Converts a last line without its newline, if any.
    public mutating func finish(emit: (String) -> Void) {
        if !pending.isEmpty { convert(pending, emit: emit) }
        pending.removeAll()
    }

    private mutating func convert(_ line: [UInt8], emit: (String) -> Void) {
        let fields = Self.unescapedFields(line)
        guard fields.count == AccountingSQL.columns.count else {
            unreadable += 1
            if firstUnreadable == nil { firstUnreadable = String(decoding: line.prefix(200), as: UTF8.self) }
            return
        }
        func n(_ i: Int) -> UInt64 { UInt64(fields[i]) ?? 0 }
        func signed(_ i: Int) -> Int64 { Int64(fields[i]) ?? -1 }
        let dbIndex = n(0)
        if dbIndex != lastJob {
            lastJob = dbIndex
            jobID = Self.jobID(job: n(1), arrayJob: n(2), arrayTask: n(3), hetJob: n(4), hetOffset: n(5))
            if n(3) == 0xFFFF_FFFE, n(2) != 0, let tasks = Self.taskRanges(hexMask: fields[33]) {
                jobID = "\(n(2))_[\(tasks)]"  // an array's record of its tasks not yet started
            }
            account = Self.plain(fields[16])
            let state = Self.stateText(n(7), requid: signed(8))
            let elapsed = Self.elapsed(start: signed(9), end: signed(10), suspended: signed(11), now: now)
            let cpus = Self.tres(fields[13], id: 1) ?? 0
            let reqMem = Self.tres(fields[14], id: 2).map { "\($0)M" } ?? ""
            let row = [
                jobID, Self.plain(fields[15]), Self.plain(userName(UInt32(truncatingIfNeeded: n(6)))), account,
                Self.plain(fields[17]), state, "\(elapsed)", "\(n(12))", "", "\(cpus)", reqMem, "", "",
                Self.text(fields[18]), Self.text(fields[19]),
            ]
            emit(row.joined(separator: "|") + "\n")
        }
        guard !fields[20].isEmpty, let step = Int64(fields[20]) else { return }  // no step (left join)
        let stepID = jobID + "." + Self.stepName(step, hetComponent: n(21))
        let maxRSS = Self.tres(fields[30], id: 2).map(String.init) ?? ""
        let total = Self.tres(fields[31], id: 2).map { "mem=\($0)" } ?? ""
        let row = [
            stepID, Self.plain(fields[32]), "", account, "", Self.stateText(n(22), requid: signed(23)),
            "\(Self.elapsed(start: signed(24), end: signed(25), suspended: signed(26), now: now))", "\(n(27))",
            "\(n(28))", "\(Self.tres(fields[29], id: 1) ?? 0)", "", maxRSS, total, "", "",
        ]
        emit(row.joined(separator: "|") + "\n")
    }

    /// Splits a batch-mode line at tabs and undoes the client's escapes (`\t \n \\ \0`).
    static func unescapedFields(_ line: [UInt8]) -> [String] {
        var fields: [String] = []
        var current: [UInt8] = []
        var i = 0
        while i < line.count {
            let b = line[i]
            if b == 0x09 {
                fields.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else if b == 0x5C, i + 1 < line.count {
                i += 1
                switch line[i] {
                case UInt8(ascii: "t"): current.append(0x09)
                case UInt8(ascii: "n"): current.append(0x0A)
                case UInt8(ascii: "0"): current.append(0x00)
                default: current.append(line[i])
                }
            } else {
                current.append(b)
            }
            i += 1
        }
        fields.append(String(decoding: current, as: UTF8.self))
        return fields
    }

    /// sacct's JobID: `123`, `123_4` for an array task, `123+1` for a heterogeneous component.
    static func jobID(job: UInt64, arrayJob: UInt64, arrayTask: UInt64, hetJob: UInt64, hetOffset: UInt64) -> String {
        let noValue: UInt64 = 0xFFFF_FFFE  // NO_VAL
        if arrayTask != noValue, arrayJob != 0 { return "\(arrayJob)_\(arrayTask)" }
        if hetJob != 0, hetOffset != noValue { return "\(hetJob)+\(hetOffset)" }
        return "\(job)"
    }

    /// The tasks of a pending array's hex bit mask (`0x3F0` → `4-9`), or nil for no mask.
    static func taskRanges(hexMask: String) -> String? {
        guard hexMask.hasPrefix("0x"), hexMask.count > 2 else { return nil }
        var ranges: [String] = []
        var runStart: Int? = nil
        var task = 0
        for digit in hexMask.dropFirst(2).reversed() {  // the last digit holds tasks 0-3
            guard let value = digit.hexDigitValue else { return nil }
            for bit in 0..<4 {
                if value & (1 << bit) != 0 {
                    if runStart == nil { runStart = task }
                } else if let start = runStart {
                    ranges.append(start == task - 1 ? "\(start)" : "\(start)-\(task - 1)")
                    runStart = nil
                }
                task += 1
            }
        }
        if let start = runStart { ranges.append(start == task - 1 ? "\(start)" : "\(start)-\(task - 1)") }
        return ranges.isEmpty ? nil : ranges.joined(separator: ",")
    }

    /// A step's id as sacct prints it: `batch`, `extern`, `interactive`, or its number, with
    /// `+N` for a component of a heterogeneous step.
    static func stepName(_ step: Int64, hetComponent: UInt64) -> String {
        let name: String
        switch step {
        case -5, 0xFFFF_FFFB: name = "batch"
        case -4, 0xFFFF_FFFC: name = "extern"
        case -6, 0xFFFF_FFFA: name = "interactive"
        case -3, 0xFFFF_FFFD: name = "pending"
        default: name = "\(step)"
        }
        return hetComponent == 0xFFFF_FFFE ? name : "\(name)+\(hetComponent)"  // NO_VAL: not heterogeneous
    }

    /// The state name, `CANCELLED by UID` when the database knows who cancelled.
    static func stateText(_ number: UInt64, requid: Int64) -> String {
        guard let state = AccountingSQL.state(number: number) else { return "UNKNOWN" }
        if state == .cancelled, requid >= 0, requid < 0xFFFF_FFFE { return "CANCELLED by \(requid)" }
        return state.rawValue
    }

    /// Seconds from start to end (or now), less the time suspended; 0 before the start.
    static func elapsed(start: Int64, end: Int64, suspended: Int64, now: Int64) -> Int64 {
        guard start > 0 else { return 0 }
        let stop = end > 0 ? end : now
        return max(0, stop - start - max(0, suspended))
    }

    /// The value of one TRES in a `1=4,2=1024` list, or nil when absent (or unset: NO_VAL64).
    static func tres(_ list: String, id: Int) -> UInt64? {
        for item in list.split(separator: ",") {
            guard let eq = item.firstIndex(of: "="), Int(item[..<eq]) == id,
                  let value = UInt64(item[item.index(after: eq)...]) else { continue }
            return value >= 0xFFFF_FFFF_FFFF_FFFE ? nil : value
        }
        return nil
    }

    /// Text for a field before Comment: control characters and `|` become `?`.
    static func plain(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0 == "|" || $0.value == 0x7F ? "?" : $0 }))
    }

    /// Comment and AdminComment: control characters become spaces (`|` is kept; the parser
    /// expects it in these two last fields).
    static func text(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}
