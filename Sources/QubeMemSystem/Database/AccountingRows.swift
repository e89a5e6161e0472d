#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QubeMem

/// Turns what the MariaDB/MySQL client prints in batch mode for `AccountingSQL`'s statements into
/// the `sacct --parsable2 --noconvert` rows the audit reads (`SacctField` order): one row per job
/// record sacct would show, and one per step of it.
///
/// Four kinds of client row, told apart by their first column (`AccountingSQL` puts it there):
/// - `N`: the server's estimate of the job table's rows (InnoDB statistics, free to read), doubled,
///   handed to `onEstimate` so that the audit's job table and this converter's are reserved
///   once instead of grown by doubling (at 10 M jobs the old and new storage of a doubling
///   would be held at once, about 0.5 GB more at the peak). It comes first.
/// - `D`: a job id with more than one record in the table (a requeued job), with the newest
///   record's submit time, Unix seconds. These come first.
/// - `J`: a job record of the window. It is written at once, unless its job has a newer record:
///   then it is held (only the newest held record of a job is kept), and written by `finishJobs`
///   if no newer record of that job was in the window. This is sacct's rule without
///   `--duplicates`: of a job's records that match the selection, the one submitted last.
/// - `S`: a step, found by its record's `job_db_inx` among the jobs written (steps of records
///   not written are dropped, as the join did). Steps come after `finishJobs`.
///
/// Figures are written in forms the sacct parser reads with the same meaning: memory in bytes,
/// requested memory in MiB with an `M`, and TRESUsageInTot as just its `mem=` figure (the only one
/// the audit uses). Free text has its control characters replaced, and the fields before Comment
/// lose any `|`, so that a row always splits into the right fields.
///
/// Work is done on bytes, with no `String` per field; output is handed over in chunks. Memory:
/// one line, one chunk, and per job written 16 bytes plus its JobID text and 2 (the step rows
/// need the JobID and Account of their job: the step table has only the record's index), about
/// 26 bytes a job; plus, per requeued job id in the table, 12 bytes, and per held record, its line.
public struct AccountingRows {
    /// The name of a uid (`User` is a name, the database stores the number).
    public typealias UserName = (UInt32) -> String

    /// Which steps the step statement must read, from the jobs written.
    public enum StepSelection: Equatable, Sendable {
        /// No job was written: no step statement.
        case none
        /// These records' steps (few jobs: a list the server looks up by its primary key).
        case records([UInt64])
        /// Steps of records in this range of `job_db_inx` (a straight scan of the step table's
        /// primary key; steps of records in the range that were not written are dropped here).
        case range(UInt64, UInt64)
    }

    /// Above this many jobs, `stepSelection` is a range instead of a list.
    static let listedRecordsLimit = 1000

    /// A written job, for its steps: its record's index, its JobID text in `idText` at `idStart`
    /// (2-byte length, then the bytes) and its account's number in `accounts`.
    private struct WrittenJob {
        var record: UInt64
        var idStart: UInt32
        var account: UInt32
    }

    /// An older record of a requeued job, kept until the job's records are all read.
    private struct HeldRecord {
        var submit: Int64
        var record: UInt64
        var line: [UInt8]
    }

    private let userName: UserName
    /// Unix seconds: "now", for the elapsed time of jobs still running.
    private let now: Int64
    private var line: [UInt8] = []
    private var out: [UInt8] = []
    private var starts: [Int] = []
    private var jobID: [UInt8] = []
    private var names: [UInt32: [UInt8]] = [:]
    /// Job ids with several records (`D` rows) and the newest one's submit time.
    private var requeued: [UInt32: Int64] = [:]
    /// Requeued job ids whose newest record was in the window and written.
    private var newestWritten: Set<UInt32> = []
    private var held: [UInt32: HeldRecord] = [:]
    /// Jobs written, in the order read (the job statement's scan: record order), and whether
    /// that order is increasing (`finishJobs` sorts them otherwise).
    private var written: [WrittenJob] = []
    private var writtenInOrder = true
    /// Held records written by `finishJobs`, sorted by record.
    private var writtenLate: [WrittenJob] = []
    private var idText: [UInt8] = []
    private var accountNumbers: [[UInt8]: UInt32] = [:]
    private var accounts: [[UInt8]] = []
    /// The last step's job, to find the next step's (steps come in record order) without a search.
    private var lastStepJob = 0
    private var jobsFinished = false
    /// Client rows that could not be read: the wrong kind or number of columns, or a count or id
    /// wider than its column's type (the database cannot hold it, so the row is not the query's).
    public private(set) var unreadable = 0
    /// The first such row (at most 200 bytes) and why it was refused.
    public private(set) var firstUnreadable: String?
    public private(set) var firstUnreadableReason: String?
    /// Job rows written so far.
    public var jobsWritten: Int { written.count + writtenLate.count }

    /// Called with the `N` row's estimate, rows of the job table (an upper bound of the jobs
    /// written, give or take the statistics' error).
    public var onEstimate: ((Int) -> Void)?

    public init(now: Int64, userName: @escaping UserName) {
        self.now = now
        self.userName = userName
        line.reserveCapacity(1024)
        out.reserveCapacity(1 << 16)
    }

    /// Converts a chunk of client output; `emit` receives whole sacct rows (each ending in "\n").
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        // Lines are found with memchr and copied whole (a byte-at-a-time append cost a quarter of
        // the conversion's time).
        guard let base = chunk.baseAddress else { return }
        var offset = 0
        while offset < chunk.count {
            let rest = chunk.count - offset
            guard let found = memchr(base + offset, 0x0A, rest) else {
                line.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: rest))
                break
            }
            let length = UnsafeRawPointer(found) - (base + offset)
            line.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: length))
            convertLine()
            line.removeAll(keepingCapacity: true)
            offset += length + 1
            if out.count >= 1 << 16 { flush(emit) }
        }
        flush(emit)
    }

    /// Converts a last line without its newline, if any (call at the end of each client's output).
    public mutating func finish(emit: (UnsafeRawBufferPointer) -> Void) {
        if !line.isEmpty { convertLine() }
        line.removeAll()
        flush(emit)
    }

    /// Ends the job rows: writes the held records whose job had no newer record in the window,
    /// and readies the lookup of steps. Call after the `D` and `J` rows, before any `S` row.
    public mutating func finishJobs(emit: (UnsafeRawBufferPointer) -> Void) {
        finish(emit: emit)
        guard !jobsFinished else { return }
        jobsFinished = true
        let late = held.filter { !newestWritten.contains($0.key) }.values.sorted { $0.record < $1.record }
        held = [:]
        newestWritten = []
        requeued = [:]
        for record in late {
            line = record.line
            splitLine()
            writeJob(late: true)
        }
        line.removeAll()
        if !writtenInOrder { written.sort { $0.record < $1.record } }
        flush(emit)
    }

    /// The steps to read, once `finishJobs` was called.
    public var stepSelection: StepSelection {
        let count = jobsWritten
        if count == 0 { return .none }
        if count <= Self.listedRecordsLimit {
            return .records((written + writtenLate).map(\.record).sorted())
        }
        let low = min(written.first?.record ?? .max, writtenLate.first?.record ?? .max)
        let high = max(written.last?.record ?? 0, writtenLate.last?.record ?? 0)
        return .range(low, high)
    }

    private mutating func flush(_ emit: (UnsafeRawBufferPointer) -> Void) {
        guard !out.isEmpty else { return }
        out.withUnsafeBytes { emit($0) }
        out.removeAll(keepingCapacity: true)
    }

    // MARK: - Columns

    /// Positions of the `J` rows' columns (`AccountingSQL.jobColumns`).
    enum Job {
        static let record = 1, id = 2, arrayJob = 3, arrayTask = 4, hetJob = 5, hetOffset = 6, user = 7, state = 8
        static let cancelledBy = 9, start = 10, end = 11, suspended = 12, nodes = 13, tresAlloc = 14, tresRequested = 15
        static let name = 16, account = 17, partition = 18, comment = 19, adminComment = 20, arrayTasks = 21, submit = 22
        static let count = 23
        /// `int unsigned` in slurmdbd's schema and written as ids or counts.
        static let unsigned32 = [id, arrayJob, arrayTask, hetJob, hetOffset, user, nodes]
    }

    /// Positions of the `S` rows' columns (`AccountingSQL.stepColumns`).
    enum Step {
        static let record = 1, id = 2, hetComponent = 3, state = 4, cancelledBy = 5, start = 6, end = 7, suspended = 8
        static let nodes = 9, tasks = 10, tresAlloc = 11, tresMax = 12, tresTotal = 13, name = 14
        static let count = 15
        static let unsigned32 = [nodes, tasks]
    }

    /// Positions of the `D` rows' columns: the job id and its newest record's submit time.
    enum Requeued {
        static let id = 1, newestSubmit = 2
        static let count = 3
    }

    // MARK: - One client row

    private mutating func splitLine() {
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
        line.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count, let tab = memchr(base + offset, 0x09, bytes.count - offset) {
                offset = UnsafeRawPointer(tab) - UnsafeRawPointer(base) + 1
                starts.append(offset)
            }
        }
    }

    private mutating func convertLine() {
        splitLine()
        let kind = field(0)
        guard kind.count == 1, let tag = kind.first else { return refuse("no row kind (N, D, J or S) in the first column") }
        switch tag {
        case UInt8(ascii: "N"):
            guard starts.count == 2 else { return refuse("2 columns expected in an N row, found \(starts.count)") }
            // Twice the estimate: InnoDB's can be tens of percent low (2.67 M for 3 M rows here),
            // and a table reserved a little too small doubles near its full size, which is the
            // peak a reserve is meant to avoid. Reserved room is not touched: room beyond the jobs
            // written costs address space only.
            let estimate = Int(min(number(1), 1 << 25)) * 2
            written.reserveCapacity(estimate)
            idText.reserveCapacity(estimate * 10)  // a job id of 8 digits and its 2-byte length
            onEstimate?(estimate)
        case UInt8(ascii: "D"):
            guard starts.count == Requeued.count else {
                return refuse("\(Requeued.count) columns expected in a D row, found \(starts.count)")
            }
            guard fitsUInt32(Requeued.id) else { return refuse("id_job '\(text(Requeued.id))' is not an unsigned 32-bit number") }
            requeued[UInt32(truncatingIfNeeded: number(Requeued.id))] = signed(Requeued.newestSubmit)
        case UInt8(ascii: "J"):
            guard !jobsFinished else { return refuse("a job row after the steps began") }
            guard starts.count == Job.count else {
                return refuse("\(Job.count) columns expected in a J row, found \(starts.count)")
            }
            for column in Job.unsigned32 where !fitsUInt32(column) {
                return refuse("\(AccountingSQL.jobColumns[column]) '\(text(column))' is not an unsigned 32-bit number")
            }
            let id = UInt32(truncatingIfNeeded: number(Job.id))
            if let newest = requeued[id] {
                let submit = signed(Job.submit), record = number(Job.record)
                guard submit >= newest else {
                    // An older record: held until it is known whether a newer one is in the window.
                    if let kept = held[id], (kept.submit, kept.record) >= (submit, record) { return }
                    held[id] = HeldRecord(submit: submit, record: record, line: line)
                    return
                }
                newestWritten.insert(id)
            }
            writeJob(late: false)
        case UInt8(ascii: "S"):
            guard starts.count == Step.count else {
                return refuse("\(Step.count) columns expected in an S row, found \(starts.count)")
            }
            for column in Step.unsigned32 where !fitsUInt32(column) {
                return refuse("\(AccountingSQL.stepColumns[column]) '\(text(column))' is not an unsigned 32-bit number")
            }
            writeStep()
        default:
            refuse("row kind '\(text(0))' is not N, D, J or S")
        }
    }

    /// Writes the job row of the current `J` line and remembers its JobID and Account for its steps.
    private mutating func writeJob(late: Bool) {
        let allocatedCPUs = tres(Job.tresAlloc, id: 1) ?? 0
        guard allocatedCPUs <= UInt64(UInt32.max) else {
            return refuse("j.tres_alloc CPU count \(allocatedCPUs) is wider than SLURM's 32-bit CPU counts")
        }
        let idStart = out.count
        writeJobID()
        let idLength = out.count - idStart
        guard idLength <= Int(UInt16.max), idText.count + idLength + 2 <= Int(UInt32.max) else {
            out.removeSubrange(idStart...)
            return refuse("the job id '\(String(decoding: out[idStart...].prefix(40), as: UTF8.self))' is too long to keep")
        }
        let entry = WrittenJob(record: number(Job.record), idStart: UInt32(idText.count), account: accountNumber())
        idText.append(UInt8(truncatingIfNeeded: idLength))
        idText.append(UInt8(truncatingIfNeeded: idLength >> 8))
        idText.append(contentsOf: out[idStart...])
        if late {
            writtenLate.append(entry)
        } else {
            if let last = written.last, last.record >= entry.record { writtenInOrder = false }
            written.append(entry)
        }
        out.append(0x7C)
        writeText(Job.name, plain: true)  // JobName
        out.append(0x7C)
        let uid = UInt32(truncatingIfNeeded: number(Job.user))
        if names[uid] == nil { names[uid] = Self.plainBytes(userName(uid)) }
        out.append(contentsOf: names[uid] ?? [])
        out.append(0x7C)
        writeText(Job.account, plain: true)  // Account
        out.append(0x7C)
        writeText(Job.partition, plain: true)  // Partition
        out.append(0x7C)
        writeState(Job.state, requid: Job.cancelledBy)
        out.append(0x7C)
        writeDecimal(Self.elapsed(start: signed(Job.start), end: signed(Job.end), suspended: signed(Job.suspended), now: now))
        out.append(0x7C)
        writeDecimal(number(Job.nodes))  // NNodes
        out.append(contentsOf: [0x7C, 0x7C])  // no NTasks for the allocation
        writeDecimal(allocatedCPUs)  // AllocCPUS
        out.append(0x7C)
        if let mib = tres(Job.tresRequested, id: 2) {  // ReqMem
            writeDecimal(mib)
            out.append(UInt8(ascii: "M"))
        }
        out.append(contentsOf: [0x7C, 0x7C, 0x7C])  // no MaxRSS or TRES for the allocation
        writeText(Job.comment, plain: false)  // Comment
        out.append(0x7C)
        writeText(Job.adminComment, plain: false)  // AdminComment
        out.append(0x0A)
    }

    /// The number of the current job line's account in `accounts` (a site has few accounts).
    private mutating func accountNumber() -> UInt32 {
        let start = out.count
        writeText(Job.account, plain: true)
        let bytes = Array(out[start...])
        out.removeSubrange(start...)
        if let known = accountNumbers[bytes] { return known }
        let number = UInt32(truncatingIfNeeded: accounts.count)
        accounts.append(bytes)
        accountNumbers[bytes] = number
        return number
    }

    /// The written job of a record, or nil.
    private mutating func writtenJob(record: UInt64) -> WrittenJob? {
        // Steps come in record order: most are the last step's job, or the next one.
        if lastStepJob < written.count, written[lastStepJob].record == record { return written[lastStepJob] }
        if lastStepJob + 1 < written.count, written[lastStepJob + 1].record == record {
            lastStepJob += 1
            return written[lastStepJob]
        }
        if let i = Self.search(written, record) {
            lastStepJob = i
            return written[i]
        }
        return Self.search(writtenLate, record).map { writtenLate[$0] }
    }

    /// Bisection in jobs sorted by record.
    private static func search(_ jobs: [WrittenJob], _ record: UInt64) -> Int? {
        var low = 0, high = jobs.count
        while low < high {
            let mid = (low + high) / 2
            if jobs[mid].record < record { low = mid + 1 } else { high = mid }
        }
        return low < jobs.count && jobs[low].record == record ? low : nil
    }

    /// Writes the step row of the current `S` line, under its job's id; nothing for a step of a
    /// record that was not written (another record of a requeued job, or outside the window).
    private mutating func writeStep() {
        guard let job = writtenJob(record: number(Step.record)) else { return }
        let start = Int(job.idStart)
        let length = Int(idText[start]) | Int(idText[start + 1]) << 8
        out.append(contentsOf: idText[(start + 2)..<(start + 2 + length)])
        out.append(UInt8(ascii: "."))
        writeStepName()
        out.append(0x7C)
        writeText(Step.name, plain: true)  // JobName: the step's name
        out.append(contentsOf: [0x7C, 0x7C])  // no User for steps
        out.append(contentsOf: accounts[Int(job.account)])  // Account: the job's
        out.append(contentsOf: [0x7C, 0x7C])  // no Partition for steps
        writeState(Step.state, requid: Step.cancelledBy)
        out.append(0x7C)
        writeDecimal(Self.elapsed(start: signed(Step.start), end: signed(Step.end), suspended: signed(Step.suspended), now: now))
        out.append(0x7C)
        writeDecimal(number(Step.nodes))  // NNodes
        out.append(0x7C)
        writeDecimal(number(Step.tasks))  // NTasks
        out.append(0x7C)
        writeDecimal(tres(Step.tresAlloc, id: 1) ?? 0)  // AllocCPUS
        out.append(contentsOf: [0x7C, 0x7C])  // no ReqMem for steps
        if let maxRSS = tres(Step.tresMax, id: 2) { writeDecimal(maxRSS) }
        out.append(0x7C)
        if let total = tres(Step.tresTotal, id: 2) {
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

    /// A field's first 40 bytes, for messages.
    private func text(_ i: Int) -> String {
        String(decoding: field(i).prefix(40), as: UTF8.self)
    }

    /// True when field `i` is empty or decimal digits with a value of at most `UInt32.max`.
    private func fitsUInt32(_ i: Int) -> Bool {
        withField(i) { $0.isEmpty || DecimalText.parse($0, limit: UInt64(UInt32.max)) != nil }
    }

    /// The bytes of field `i` (empty past the last).
    private func fieldRange(_ i: Int) -> Range<Int> {
        guard i < starts.count else { return 0..<0 }
        let end = i + 1 < starts.count ? starts[i + 1] - 1 : line.count
        return starts[i]..<end
    }

    private func field(_ i: Int) -> ArraySlice<UInt8> {
        line[fieldRange(i)]
    }

    /// Runs `body` on field `i`'s bytes without a copy or a reference count (an `ArraySlice` per
    /// field read cost a fifth of the conversion's time in retains and releases).
    @inline(__always)
    private func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let range = fieldRange(i)
        return line.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// A decimal field as a number (0 when empty or not a number).
    private func number(_ i: Int, skip: Int = 0) -> UInt64 {
        withField(i) { DecimalText.parse(UnsafeBufferPointer(rebasing: $0.dropFirst(skip))) ?? 0 }
    }

    /// A decimal field that may be negative (-1 when empty).
    private func signed(_ i: Int) -> Int64 {
        guard let first = withField(i, \.first) else { return -1 }
        if first == UInt8(ascii: "-") { return -Int64(truncatingIfNeeded: number(i, skip: 1)) }
        return Int64(truncatingIfNeeded: number(i))
    }

    /// The value of one TRES in a `1=4,2=1024` list field, or nil when absent (or NO_VAL64).
    private func tres(_ i: Int, id: UInt64) -> UInt64? {
        var key: UInt64 = 0, value: UInt64 = 0, inValue = false, digits = 0
        func done() -> UInt64? { inValue && key == id && digits > 0 && value < 0xFFFF_FFFF_FFFF_FFFE ? value : nil }
        return withField(i) { bytes in
        for b in bytes {
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
        // Most text has nothing to undo or replace: copied whole.
        let asIs = withField(i) { bytes in
            bytes.allSatisfy { b in b >= 0x20 && b != 0x7F && b != 0x5C && (!plain || b != 0x7C) }
        }
        if asIs {
            let range = fieldRange(i)
            line.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
            return
        }
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
        let arrayJob = number(Job.arrayJob), arrayTask = number(Job.arrayTask), hetJob = number(Job.hetJob), hetOffset = number(Job.hetOffset)
        if arrayTask < noValue, arrayJob != 0 {
            writeDecimal(arrayJob)
            out.append(UInt8(ascii: "_"))
            writeDecimal(arrayTask)
        } else if arrayJob != 0, let tasks = Self.taskRanges(hexMask: String(decoding: field(Job.arrayTasks), as: UTF8.self)) {
            writeDecimal(arrayJob)
            out.append(contentsOf: Array("_[\(tasks)]".utf8))
        } else if hetJob != 0, hetOffset < noValue {
            writeDecimal(hetJob)
            out.append(UInt8(ascii: "+"))
            writeDecimal(hetOffset)
        } else {
            writeDecimal(number(Job.id))
        }
    }

    /// A step's id as sacct prints it: `batch`, `extern`, `interactive`, or its number, with
    /// `+N` for a component of a heterogeneous step.
    private mutating func writeStepName() {
        switch signed(Step.id) {
        case -5, 0xFFFF_FFFB: out.append(contentsOf: Array("batch".utf8))
        case -4, 0xFFFF_FFFC: out.append(contentsOf: Array("extern".utf8))
        case -6, 0xFFFF_FFFA: out.append(contentsOf: Array("interactive".utf8))
        case -3, 0xFFFF_FFFD: out.append(contentsOf: Array("pending".utf8))
        case let step: writeDecimal(step)
        }
        let component = number(Step.hetComponent)
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
