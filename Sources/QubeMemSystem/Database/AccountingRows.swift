#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QubeMem
import QubeMemSlurm

/// Turns what the MariaDB/MySQL client prints in batch mode for `AccountingSQL`'s statements into
/// the `sacct --parsable2 --noconvert` rows the audit reads (`SacctField` order): one row per job
/// record sacct would show, and one per step of it.
///
/// Five kinds of client row, told apart by their first column (`AccountingSQL` puts it there):
/// - `N`: the server's estimate of the job table's rows (InnoDB statistics, free to read), doubled,
///   handed to `onEstimate` so that the audit's job table and this converter's are reserved
///   once instead of grown by doubling (at 10 M jobs the old and new storage of a doubling
///   would be held at once, about 0.5 GB more at the peak). It comes first.
/// - `A`: an association: its id, user and account. A job's User is its association's user, as
///   slurmdbd gives it to sacct; for a job whose association is gone, the name of its uid, or
///   its number when the system does not know the uid (a deleted user), as sacct prints it from 24.11 on. A job
///   record without an account takes its association's. These come before the `J` rows.
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

    /// A written job, for its steps: its record's index, its JobID as numbers (slurmdbd's ids are
    /// 32-bit) and its account's number in `accounts`. 24 bytes a job.
    struct WrittenJob {
        var record: UInt64
        var job: UInt32
        /// `pendingArray` for a pending array's record: its JobID text is in `pendingArrayIDs`.
        var arrayTask: UInt32
        var hetComponent: UInt32
        var account: UInt32

        /// Marks a pending array's record (no array task or component takes this value: both are
        /// below NO_VAL, 0xFFFFFFFE, and `JobKey.none` is 0xFFFFFFFF).
        static let pendingArray: UInt32 = 0xFFFF_FFFE

        init(record: UInt64, key: JobKey?, account: UInt32) {
            self.record = record
            self.job = UInt32(truncatingIfNeeded: key?.job ?? 0)
            self.arrayTask = key?.arrayTask ?? Self.pendingArray
            self.hetComponent = key?.hetComponent ?? JobKey.none
            self.account = account
        }

        /// The job as the audit keys it; nil for a pending array's record.
        var key: JobKey? {
            arrayTask == Self.pendingArray
                ? nil : JobKey(job: UInt64(job), arrayTask: arrayTask, hetComponent: hetComponent)
        }
    }

    /// An older record of a requeued job, kept until the job's records are all read.
    struct HeldRecord {
        var submit: Int64
        var record: UInt64
        var line: [UInt8]
        var starts: [Int]
        /// The record's integer columns when they came as integers (`feed(bound:)`).
        var boundMask: UInt32
        var boundValues: [UInt64]
    }

    let userName: UserName
    /// True when fields carry the command-line client's escapes (`\t \n \\ \0`, `feed(_:emit:)`);
    /// false for rows from the client library (`feed(row:lengths:count:emit:)`): the stored bytes.
    let escaped: Bool
    /// Unix seconds: "now", for the elapsed time of jobs still running.
    let now: Int64
    var line: [UInt8] = []
    var out: [UInt8] = []
    var starts: [Int] = []
    /// Columns of the current row that came as integers (`feed(bound:)`, the job records read
    /// through a prepared statement): bit i is set when column i's value is `boundValues[i]`,
    /// its field in `line` then empty.
    var boundMask: UInt32 = 0
    var boundValues = [UInt64](repeating: 0, count: Job.count)
    /// The current row read through the prepared statement while its texts are read in place,
    /// not yet copied into `line` (`materializeLine`); nil otherwise.
    var unmaterialized: BoundRow?
    var jobID: [UInt8] = []
    var names: [UInt32: [UInt8]] = [:]
    /// Associations (`A` rows): the User of their jobs, and the Account of those whose record has
    /// none, as written (cleaned of `|` and control characters).
    var associations: [UInt32: (user: [UInt8], account: [UInt8])] = [:]
    /// Job ids with several records (`D` rows) and the newest one's submit time.
    var requeued: [UInt32: Int64] = [:]
    /// Requeued job ids whose newest record was in the window and written.
    var newestWritten: Set<UInt32> = []
    var held: [UInt32: HeldRecord] = [:]
    /// Jobs written, in the order read (the job statement's scan: record order), and whether
    /// that order is increasing (`finishJobs` sorts them otherwise).
    var written: [WrittenJob] = []
    var writtenInOrder = true
    /// Held records written by `finishJobs`, sorted by record.
    var writtenLate: [WrittenJob] = []
    /// The JobID texts of pending arrays' records written (`123_[4-9]`), by record.
    var pendingArrayIDs: [UInt64: [UInt8]] = [:]
    var accountNumbers: [[UInt8]: UInt32] = [:]
    var accounts: [[UInt8]] = []
    /// The previous job's account number, tried first.
    var lastAccount = 0
    /// The last step's job, to find the next step's (steps come in record order) without a search.
    var lastStepJob = 0
    var jobsFinished = false
    /// Client rows that could not be read: the wrong kind or number of columns, or a count or id
    /// wider than its column's type (the database cannot hold it, so the row is not the query's).
    public internal(set) var unreadable = 0
    /// The first such row (at most 200 bytes) and why it was refused.
    public internal(set) var firstUnreadable: String?
    public internal(set) var firstUnreadableReason: String?
    /// Job rows written so far.
    public var jobsWritten: Int { written.count + writtenLate.count }

    /// When set, `J` rows are not written as sacct rows: their figures are handed here instead
    /// (`audit --suggest-config` through the client library, which reads the steps as figures
    /// too: with it set, no `S` row can find its job's Account). A row whose figures cannot
    /// stand for its sacct row (`withRecordFigures`) is still written, and handed to `emit` before
    /// the next row's figures, so that the audit reads the rows in the statement's order.
    public var onJob: ((JobRecordFigures) -> Void)?
    /// When set, `S` rows are not written as sacct rows: their figures are handed here instead
    /// (the parallel step read, `AccountingStepReader`), with the record the step belongs to.
    public var onStepFigures: ((StepFigures) -> Void)?
    /// Records of `J` rows seen, in the statement's order: their count and the last one.
    public internal(set) var recordsSeen = 0
    public internal(set) var lastRecordSeen: UInt64 = 0
    public internal(set) var firstRecordSeen: UInt64 = 0
    /// The records of `held`, to keep the steps of a record that may still be written.
    var heldRecords: Set<UInt64> = []

    /// Called with the `N` row's estimate, rows of the job table (an upper bound of the jobs
    /// written, give or take the statistics' error).
    public var onEstimate: ((Int) -> Void)?

    /// - Parameter escaped: true for the command-line client's text, false for the library's rows.
    public init(now: Int64, userName: @escaping UserName, escaped: Bool = true) {
        self.now = now
        self.userName = userName
        self.escaped = escaped
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
            if mustFlush { flush(emit) }
        }
        flush(emit)
    }

    /// Converts one row from the client library: `count` fields of `lengths` bytes each, the stored
    /// bytes without escapes (a nil field is SQL NULL, read as the command-line client prints it,
    /// `NULL`). Needs `escaped: false`.
    public mutating func feed(
        row fields: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, lengths: UnsafeMutablePointer<UInt>, count: Int,
        emit: (UnsafeRawBufferPointer) -> Void
    ) {
        line.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        for i in 0..<count {
            if i > 0 { line.append(0x09) }  // fieldRange's end is the next start less one
            starts.append(line.count)
            if let field = fields[i] {
                line.append(contentsOf: UnsafeRawBufferPointer(start: field, count: Int(lengths[i])))
            } else {
                line.append(contentsOf: [0x4E, 0x55, 0x4C, 0x4C])  // NULL
            }
        }
        convertFields()
        line.removeAll(keepingCapacity: true)
        if mustFlush { flush(emit) }
    }

    /// True when the rows converted must be handed over now: a chunk's worth, or, with `onJob`,
    /// any (a row written while the others' figures go straight to the audit).
    var mustFlush: Bool { out.count >= 1 << 16 || (onJob != nil && !out.isEmpty) }

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
        heldRecords = []
        newestWritten = []
        requeued = [:]
        for record in late {
            line = record.line
            starts = record.starts
            boundMask = record.boundMask
            if boundMask != 0 { boundValues = record.boundValues }
            writeJob(late: true)
            if onJob != nil { flush(emit) }
        }
        line.removeAll()
        boundMask = 0
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

    mutating func noteSeen(record: UInt64) {
        if recordsSeen == 0 { firstRecordSeen = record }
        recordsSeen += 1
        lastRecordSeen = record
    }

    /// Hands the sacct rows converted so far to `emit`.
    public mutating func flush(_ emit: (UnsafeRawBufferPointer) -> Void) {
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
        static let association = 23
        static let count = 24
        /// `int unsigned` in slurmdbd's schema and written as ids or counts.
        static let unsigned32 = [id, arrayJob, arrayTask, hetJob, hetOffset, user, nodes, association]
        /// The integer columns, read as integers through the prepared statement (`feed(bound:)`).
        static let integers = [record, id, arrayJob, arrayTask, hetJob, hetOffset, user, state, cancelledBy, start, end,
                               suspended, nodes, submit, association]
        static let integerMask: UInt32 = integers.reduce(0) { $0 | 1 << $1 }
    }

    /// Positions of the `A` rows' columns: an association's id, user and account.
    enum Association {
        static let id = 1, user = 2, account = 3
        static let count = 4
    }

    /// Positions of the `S` rows' columns (`AccountingSQL.stepColumns`).
    enum Step {
        static let record = 1, id = 2, hetComponent = 3, state = 4, nodes = 5, tasks = 6, tresMax = 7, tresTotal = 8
        static let count = 9
        static let unsigned32 = [nodes, tasks]
    }

    /// Positions of the `D` rows' columns: the job id and its newest record's submit time.
    enum Requeued {
        static let id = 1, newestSubmit = 2
        static let count = 3
    }
}
