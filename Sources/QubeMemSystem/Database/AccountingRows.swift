import QubeMem

/// Turns the rows of `AccountingSQL`'s query, as the MariaDB/MySQL client prints them in batch
/// mode, into the `sacct --parsable2 --noconvert` rows the audit reads (`SacctField` order): a
/// job row the first time a job appears, and one row per step.
///
/// Figures are written in forms the sacct parser reads with the same meaning: memory in bytes,
/// requested memory in MiB with an `M`, and TRESUsageInTot as just its `mem=` figure (the only one
/// the audit uses). Free text has its control characters replaced, and the fields before Comment
/// lose any `|`, so that a row always splits into the right fields.
///
/// Rows may come in any order (every client row carries its job's columns). Work is done on bytes,
/// with no `String` per field; output is handed over in chunks. Memory: one line, one chunk, and
/// one 8-byte id per job seen.
public struct AccountingRows {
    /// The name of a uid (`User` is a name, the database stores the number).
    public typealias UserName = (UInt32) -> String

    private let userName: UserName
    /// Unix seconds: "now", for the elapsed time of jobs still running.
    private let now: Int64
    private var line: [UInt8] = []
    private var out: [UInt8] = []
    private var starts: [Int] = []
    private var emittedJobs: Set<UInt64> = []
    private var jobID: [UInt8] = []
    private var names: [UInt32: [UInt8]] = [:]
    /// Client rows that could not be read: the wrong number of columns, or a count or id wider
    /// than its column's type (the database cannot hold it, so the row is not the query's).
    public private(set) var unreadable = 0
    /// The first such row (at most 200 bytes) and why it was refused.
    public private(set) var firstUnreadable: String?
    public private(set) var firstUnreadableReason: String?

    public init(now: Int64, userName: @escaping UserName) {
        self.now = now
        self.userName = userName
        line.reserveCapacity(1024)
        out.reserveCapacity(1 << 16)
    }

    /// Converts a chunk of client output; `emit` receives whole sacct rows (each ending in "\n").
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        for byte in chunk {
            if byte == 0x0A {
                convertLine()
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
            }
        }
        flush(emit)
    }

    /// Converts a last line without its newline, if any.
    public mutating func finish(emit: (UnsafeRawBufferPointer) -> Void) {
        if !line.isEmpty { convertLine() }
        line.removeAll()
        flush(emit)
    }

    private mutating func flush(_ emit: (UnsafeRawBufferPointer) -> Void) {
        guard !out.isEmpty else { return }
        out.withUnsafeBytes { emit($0) }
        out.removeAll(keepingCapacity: true)
    }

    // MARK: - One client row

    private mutating func convertLine() {
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
        for (i, b) in line.enumerated() where b == 0x09 { starts.append(i + 1) }
        guard starts.count == AccountingSQL.columns.count else {
            return refuse("\(AccountingSQL.columns.count) columns expected, found \(starts.count)")
        }
        // The `int unsigned` columns: a wider value cannot come from the database, and written out
        // it would be a job id or count the sacct reader refuses.
        for column in Self.unsigned32Columns where !fitsUInt32(column) {
            return refuse("\(AccountingSQL.columns[column]) '\(String(decoding: field(column).prefix(40), as: UTF8.self))' is not an unsigned 32-bit number")
        }
        let allocatedCPUs = tres(13, id: 1) ?? 0
        guard allocatedCPUs <= UInt64(UInt32.max) else {
            return refuse("j.tres_alloc CPU count \(allocatedCPUs) is wider than SLURM's 32-bit CPU counts")
        }
        // The job's id, written once and copied into the job row and the step row.
        let idStart = out.count
        writeJobID()
        jobID.removeAll(keepingCapacity: true)
        jobID.append(contentsOf: out[idStart...])
        out.removeSubrange(idStart...)

        if emittedJobs.insert(number(0)).inserted {
            out.append(contentsOf: jobID)
            out.append(0x7C)
            writeText(15, plain: true)  // JobName
            out.append(0x7C)
            let uid = UInt32(truncatingIfNeeded: number(6))
            if names[uid] == nil { names[uid] = Self.plainBytes(userName(uid)) }
            out.append(contentsOf: names[uid] ?? [])
            out.append(0x7C)
            writeText(16, plain: true)  // Account
            out.append(0x7C)
            writeText(17, plain: true)  // Partition
            out.append(0x7C)
            writeState(7, requid: 8)
            out.append(0x7C)
            writeDecimal(Self.elapsed(start: signed(9), end: signed(10), suspended: signed(11), now: now))
            out.append(0x7C)
            writeDecimal(number(12))  // NNodes
            out.append(contentsOf: [0x7C, 0x7C])  // no NTasks for the allocation
            writeDecimal(allocatedCPUs)  // AllocCPUS
            out.append(0x7C)
            if let mib = tres(14, id: 2) {  // ReqMem
                writeDecimal(mib)
                out.append(UInt8(ascii: "M"))
            }
            out.append(contentsOf: [0x7C, 0x7C, 0x7C])  // no MaxRSS or TRES for the allocation
            writeText(18, plain: false)  // Comment
            out.append(0x7C)
            writeText(19, plain: false)  // AdminComment
            out.append(0x0A)
        }
        guard !field(20).isEmpty else { return }  // no step (left join)
        out.append(contentsOf: jobID)
        out.append(UInt8(ascii: "."))
        writeStepName()
        out.append(0x7C)
        writeText(32, plain: true)  // JobName: the step's name
        out.append(contentsOf: [0x7C, 0x7C])  // no User for steps
        writeText(16, plain: true)  // Account: the job's
        out.append(contentsOf: [0x7C, 0x7C])  // no Partition for steps
        writeState(22, requid: 23)
        out.append(0x7C)
        writeDecimal(Self.elapsed(start: signed(24), end: signed(25), suspended: signed(26), now: now))
        out.append(0x7C)
        writeDecimal(number(27))  // NNodes
        out.append(0x7C)
        writeDecimal(number(28))  // NTasks
        out.append(0x7C)
        writeDecimal(tres(29, id: 1) ?? 0)  // AllocCPUS
        out.append(contentsOf: [0x7C, 0x7C])  // no ReqMem for steps
        if let maxRSS = tres(30, id: 2) { writeDecimal(maxRSS) }
        out.append(0x7C)
        if let total = tres(31, id: 2) {
            out.append(contentsOf: [0x6D, 0x65, 0x6D, 0x3D])  // "mem="
            writeDecimal(total)
        }
        out.append(contentsOf: [0x7C, 0x7C, 0x0A])  // no Comment or AdminComment for steps
    }

    private mutating func refuse(_ reason: String) {
        unreadable += 1
        if firstUnreadable == nil {
            firstUnreadable = String(decoding: line.prefix(200), as: UTF8.self)
            firstUnreadableReason = reason
        }
    }

    // MARK: - Fields

    /// Columns of `AccountingSQL.columns` that are `int unsigned` in slurmdbd's schema and are
    /// written into ids or counts: id_job, id_array_job, id_array_task, het_job_id,
    /// het_job_offset, id_user, nodes_alloc, and the step's nodes_alloc and task_cnt.
    static let unsigned32Columns = [1, 2, 3, 4, 5, 6, 12, 27, 28]

    /// True when field `i` is empty or decimal digits with a value of at most `UInt32.max`.
    private func fitsUInt32(_ i: Int) -> Bool {
        field(i).isEmpty || DecimalText.parse(field(i), limit: UInt64(UInt32.max)) != nil
    }

    private func field(_ i: Int) -> ArraySlice<UInt8> {
        let end = i + 1 < starts.count ? starts[i + 1] - 1 : line.count
        return line[starts[i]..<end]
    }

    /// A decimal field as a number (0 when empty or not a number).
    private func number(_ i: Int, skip: Int = 0) -> UInt64 {
        DecimalText.parse(field(i).dropFirst(skip)) ?? 0
    }

    /// A decimal field that may be negative (-1 when empty).
    private func signed(_ i: Int) -> Int64 {
        let f = field(i)
        guard let first = f.first else { return -1 }
        if first == UInt8(ascii: "-") { return -Int64(truncatingIfNeeded: number(i, skip: 1)) }
        return Int64(truncatingIfNeeded: number(i))
    }

    /// The value of one TRES in a `1=4,2=1024` list field, or nil when absent (or NO_VAL64).
    private func tres(_ i: Int, id: UInt64) -> UInt64? {
        var key: UInt64 = 0, value: UInt64 = 0, inValue = false, digits = 0
        func done() -> UInt64? { inValue && key == id && digits > 0 && value < 0xFFFF_FFFF_FFFF_FFFE ? value : nil }
        for b in field(i) {
            if b == UInt8(ascii: ",") {
                if let v = done() { return v }
                key = 0; value = 0; inValue = false; digits = 0
            } else if b == UInt8(ascii: "=") {
                inValue = true
            } else if b >= 0x30, b <= 0x39 {
                if inValue {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
                    value = o1 || o2 ? UInt64.max : a
                    digits += 1
                } else {
                    key = key &* 10 &+ UInt64(b - 0x30)
                }
            }
        }
        return done()
    }

    // MARK: - Writing

    private mutating func writeDecimal(_ value: UInt64) {
        DecimalDigits.append(value, to: &out)
    }

    private mutating func writeDecimal(_ value: Int64) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        writeDecimal(value.magnitude)
    }

    /// Copies a text field, undoing the client's escapes (`\t \n \\ \0`): control characters become
    /// `?` (plain) or a space (Comment, AdminComment); plain fields also turn `|` into `?`.
    private mutating func writeText(_ i: Int, plain: Bool) {
        let f = field(i)
        var index = f.startIndex
        while index < f.endIndex {
            var b = f[index]
            if b == 0x5C, f.index(after: index) < f.endIndex {
                index = f.index(after: index)
                switch f[index] {
                case UInt8(ascii: "t"): b = 0x09
                case UInt8(ascii: "n"): b = 0x0A
                case UInt8(ascii: "0"): b = 0x00
                default: b = f[index]
                }
            }
            out.append(Self.clean(b, plain: plain))
            index = f.index(after: index)
        }
    }

    /// sacct's JobID: `123`, `123_4` for an array task, `123+1` for a heterogeneous component, and
    /// `123_[4-9]` for an array's record of its tasks not yet started.
    private mutating func writeJobID() {
        let noValue: UInt64 = 0xFFFF_FFFE  // NO_VAL
        let arrayJob = number(2), arrayTask = number(3), hetJob = number(4), hetOffset = number(5)
        if arrayTask < noValue, arrayJob != 0 {
            writeDecimal(arrayJob)
            out.append(UInt8(ascii: "_"))
            writeDecimal(arrayTask)
        } else if arrayJob != 0, let tasks = Self.taskRanges(hexMask: String(decoding: field(33), as: UTF8.self)) {
            writeDecimal(arrayJob)
            out.append(contentsOf: Array("_[\(tasks)]".utf8))
        } else if hetJob != 0, hetOffset < noValue {
            writeDecimal(hetJob)
            out.append(UInt8(ascii: "+"))
            writeDecimal(hetOffset)
        } else {
            writeDecimal(number(1))
        }
    }

    /// A step's id as sacct prints it: `batch`, `extern`, `interactive`, or its number, with
    /// `+N` for a component of a heterogeneous step.
    private mutating func writeStepName() {
        switch signed(20) {
        case -5, 0xFFFF_FFFB: out.append(contentsOf: Array("batch".utf8))
        case -4, 0xFFFF_FFFC: out.append(contentsOf: Array("extern".utf8))
        case -6, 0xFFFF_FFFA: out.append(contentsOf: Array("interactive".utf8))
        case -3, 0xFFFF_FFFD: out.append(contentsOf: Array("pending".utf8))
        case let step: writeDecimal(step)
        }
        let component = number(21)
        if component != 0xFFFF_FFFE {  // NO_VAL: not heterogeneous
            out.append(UInt8(ascii: "+"))
            writeDecimal(component)
        }
    }

    /// The state name, `CANCELLED by UID` when the database knows who cancelled.
    private mutating func writeState(_ i: Int, requid: Int) {
        guard let state = AccountingSQL.state(number: number(i)) else {
            out.append(contentsOf: Array("UNKNOWN".utf8))
            return
        }
        out.append(contentsOf: Array(state.rawValue.utf8))
        let who = signed(requid)
        if state == .cancelled, who >= 0, who < 0xFFFF_FFFE {
            out.append(contentsOf: Array(" by ".utf8))
            writeDecimal(who)
        }
    }

    // MARK: - Helpers

    /// Seconds from start to end (or now), less the time suspended; 0 before the start.
    static func elapsed(start: Int64, end: Int64, suspended: Int64, now: Int64) -> Int64 {
        guard start > 0 else { return 0 }
        let stop = end > 0 ? end : now
        return max(0, stop - start - max(0, suspended))
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

    /// A user name for the User field: control characters and `|` become `?`.
    static func plainBytes(_ s: String) -> [UInt8] {
        s.utf8.map { clean($0, plain: true) }
    }

    /// A byte of free text as written: control characters become `?` (plain fields) or a space
    /// (Comment, AdminComment); plain fields also turn `|` into `?`.
    static func clean(_ b: UInt8, plain: Bool) -> UInt8 {
        if b < 0x20 || b == 0x7F { return plain ? 0x3F : 0x20 }
        return plain && b == 0x7C ? 0x3F : b
    }
}
