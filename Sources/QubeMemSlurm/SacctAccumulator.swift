/// How a job's measured peak per node was obtained from its step rows.
///
/// - `singleTask`: every step with data ran one task; MaxRSS is that task's peak, i.e. the node's.
/// - `taskSum`: a step ran several tasks on one node. MaxRSS is only the largest task, so the figure
///   is the sum of the task peaks (TRESUsageInTot's mem), an upper bound of what the node held at
///   once (peaks of different tasks need not coincide); without TRESUsageInTot, MaxRSS × tasks.
/// - `multiNodeBound`: a step spanned nodes. sacct keeps no per-node sums, so the figure is the
///   tightest upper bound of the busiest node it allows: min(sum of all task peaks,
///   MaxRSS × (tasks − nodes + 1)), since every node runs at least one task and no task exceeds MaxRSS.
///
/// Upper bounds are used so that a slack chosen from the audit never under-covers a node.
public enum PeakBasis: String, Sendable, Comparable {
    case singleTask = "single_task"
    case taskSum = "task_sum"
    case multiNodeBound = "multi_node_bound"

    var rank: Int {
        switch self {
        case .singleTask: return 0
        case .taskSum: return 1
        case .multiNodeBound: return 2
        }
    }

    public static func < (a: PeakBasis, b: PeakBasis) -> Bool { a.rank < b.rank }
}

/// One job as merged from its allocation row and step rows.
public struct AccountedJob: Sendable {
    public var key: JobKey
    /// Line of the first row seen for this job (1-based).
    public var line: Int
    public var hasAllocation = false
    public var name = ""
    public var user = ""
    public var account = ""
    public var partition = ""
    /// The allocation row's state (first word).
    public var state: JobState = .pending
    public var elapsedSeconds: UInt64 = 0
    public var nodes: UInt32 = 0
    public var cpus: UInt32 = 0
    public var requested: RequestedMemory? = nil
    /// The job comment, kept only when there is no usable AdminComment record (it is then the
    /// only source of a prediction); empty otherwise, to keep memory per job small.
    public var comment = ""
    /// The last qubemem record of the AdminComment (parsed as the row is read; the text is not kept).
    public var record: AdminRecord.Found = .none
    /// Measured peak per node, bytes; nil when no step had a figure ("no data", never zero).
    public var peakBytes: UInt64? = nil
    public var peakBasis: PeakBasis = .singleTask
    /// A step ended OUT_OF_MEMORY (some releases mark only the step).
    public var oomStep = false
    public var stepRows: UInt32 = 0

    init(key: JobKey, line: Int) {
        self.key = key
        self.line = line
    }

    /// Requested memory per node, bytes.
    public var requestedPerNodeBytes: UInt64? {
        requested?.perNodeBytes(nodes: nodes, cpus: cpus)
    }

    /// True when the job or any of its steps ran out of memory.
    public var outOfMemory: Bool { state == .outOfMemory || oomStep }
}

/// A row that could not be read.
public struct MalformedRow: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Streams `sacct -P` output and merges rows into jobs. Memory grows with jobs, not rows.
///
/// Feed bytes in chunks of any size (`feed`), then call `finish()`. Each line is one row with the
/// fields of `SacctField` in order, or in the order of a header line if the input starts with one.
/// Rows may come in any order; a job's rows need not be together.
public struct SacctAccumulator: Sendable {
    /// What is kept of each job.
    public enum Keeping: Sendable {
        /// Everything (`AccountedJob`, 264 bytes a job): for reports that list jobs.
        case jobs
        /// What the summary and the recommendation need (`SummaryJobs`, 64 bytes a job).
        case summary
    }

    public let keeping: Keeping

    /// How many malformed rows are kept with their reasons; the rest are only counted.
    public static let keptIssues = 5

    public private(set) var rows = 0
    public private(set) var malformedCount = 0
    public private(set) var malformed: [MalformedRow] = []
    /// Allocation rows of jobs that have not ended (pending, running, …), skipped.
    public private(set) var liveJobs = 0
    /// Array ranges whose tasks never started, such as `123_[4-9]` (pending, or cancelled before
    /// starting), skipped: they used nothing.
    public private(set) var pendingArrayRows = 0
    /// An unusable header line stops the parse; this says why.
    public private(set) var headerError: String? = nil

    private var index = JobIndex()
    private var records: [AccountedJob] = []
    private var summary = SummaryJobs()
    private var classIDs = RecordClassIDs()
    /// True while every job was first seen in increasing key order (sacct's order): the table is
    /// then sorted and searched by bisection, and `index` is not built (it costs 16 bytes a job).
    private var inOrder = true
    private var liveKeys: Set<JobKey> = []
    private var carry: [UInt8] = []
    private var lineNumber = 0
    private var layout = Layout.standard
    private var sawFirstLine = false
    private var lastKey = JobKey(job: UInt64.max)
    private var lastSlot = -1
    /// End of each field of the current row (the offset of the `|` after it, or of the row's end).
    private var ends: [Int] = []
    private var fieldCount = 0

    public init(keeping: Keeping = .jobs) {
        self.keeping = keeping
    }

    /// Column of each field in a row.
    struct Layout: Sendable {
        var column: [Int]  // indexed by SacctField ordinal
        var count: Int
        /// Free-text fields are the last two columns, so extra `|` can be absorbed.
        var textLast: Bool

        static let standard = Layout(
            column: Array(0..<SacctField.allCases.count), count: SacctField.allCases.count, textLast: true)
    }

    /// Reserves room for about `jobs` jobs (a hint, e.g. from the input's size) to avoid copying the
    /// job table as it grows. Only address space: pages are touched as jobs arrive, so memory still
    /// follows the jobs read (the index is not reserved, since reserving it touches its storage).
    public mutating func reserve(jobs: Int) {
        switch keeping {
        case .jobs: records.reserveCapacity(min(max(jobs, 0), 1 << 24))
        case .summary: summary.jobs.reserveCapacity(min(max(jobs, 0), 1 << 26))
        }
    }

    /// Moves the finished jobs out as `SummaryJobs` (with `keeping: .summary`; empty otherwise),
    /// like `takeFinishedJobs`: jobs that are not listed are removed, the rest are in key order.
    public mutating func takeSummary() -> SummaryJobs {
        index = JobIndex()
        inOrder = true
        lastSlot = -1
        var taken = summary
        summary = SummaryJobs()
        let liveKeys = liveKeys
        let anyLive = !liveKeys.isEmpty
        func unlisted(_ job: SummaryJob) -> Bool {
            !job.has(SummaryJob.hasAllocation) || job.state.isLive || (anyLive && liveKeys.contains(job.key))
        }
        var sorted = true, allListed = true
        for i in taken.jobs.indices {
            if unlisted(taken.jobs[i]) { allListed = false }
            if i > 0 && !(taken.jobs[i - 1].key < taken.jobs[i].key) { sorted = false }
        }
        if !allListed { taken.jobs.removeAll { unlisted($0) } }
        if !sorted { taken.jobs.sort { $0.key < $1.key } }
        return taken
    }

    /// Moves the finished jobs out (see `finishedJobs`), leaving the accumulator without jobs; the
    /// counts stay. The job table is handed over, not copied: jobs that are not listed are removed
    /// in place, and it is sorted in place only when sacct's order was not by id.
    public mutating func takeFinishedJobs() -> [AccountedJob] {
        index = JobIndex()
        inOrder = true
        lastSlot = -1
        var jobs = records
        records = []
        let liveKeys = liveKeys
        let anyLive = !liveKeys.isEmpty
        @inline(__always) func unlisted(_ job: UnsafePointer<AccountedJob>) -> Bool {
            !job.pointee.hasAllocation || job.pointee.state.isLive || (anyLive && liveKeys.contains(job.pointee.key))
        }
        // Usually every job is listed and in order: then nothing is moved.
        let (sorted, allListed) = jobs.withUnsafeBufferPointer { b -> (Bool, Bool) in
            guard let base = b.baseAddress else { return (true, true) }
            var sorted = true, allListed = true
            for i in b.indices {
                if unlisted(base + i) { allListed = false }
                if i > 0 && !(base[i - 1].key < base[i].key) { sorted = false }
            }
            return (sorted, allListed)
        }
        if !allListed { jobs.removeAll { withUnsafePointer(to: $0) { unlisted($0) } } }
        if !sorted { jobs.sort { $0.key < $1.key } }
        return jobs
    }

    /// Feeds the next chunk of input.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard headerError == nil else { return }
        let bytes = chunk.bindMemory(to: UInt8.self)
        var lineStart = 0
        let n = bytes.count
        while true {
            let i = firstIndex(of: UInt8(ascii: "\n"), in: bytes, from: lineStart)
            if i >= n { break }
            if carry.isEmpty {
                handleLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<i]))
            } else {
                carry.append(contentsOf: bytes[lineStart..<i])
                let pending = carry
                carry.removeAll(keepingCapacity: true)
                pending.withUnsafeBufferPointer { handleLine($0) }
            }
            lineStart = i + 1
        }
        if lineStart < n { carry.append(contentsOf: bytes[lineStart..<n]) }
    }

    /// Feeds bytes held in an array.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Processes a last line without a newline.
    public mutating func finish() {
        if !carry.isEmpty && headerError == nil {
            let pending = carry
            carry.removeAll()
            pending.withUnsafeBufferPointer { handleLine($0) }
        }
    }

    /// Finished jobs that had an allocation row, in job-id order. Live jobs are left out, as are step
    /// rows whose allocation row was not in the input (counted in `orphanJobs`).
    public var finishedJobs: [AccountedJob] {
        var order: [Int] = []
        order.reserveCapacity(records.count)
        for (i, r) in records.enumerated() where r.hasAllocation && !r.state.isLive && !liveKeys.contains(r.key) {
            order.append(i)
        }
        // sacct lists jobs mostly in id order already; sort only when it did not.
        if !zip(order, order.dropFirst()).allSatisfy({ records[$0.0].key < records[$0.1].key }) {
            order.sort { records[$0].key < records[$1].key }
        }
        return order.map { records[$0] }
    }

    /// Jobs seen only through step rows.
    public var orphanJobs: Int {
        switch keeping {
        case .jobs: return records.lazy.filter { !$0.hasAllocation && !liveKeys.contains($0.key) }.count
        case .summary:
            return summary.jobs.lazy.filter {
                !$0.has(SummaryJob.hasAllocation) && !self.liveKeys.contains($0.key)
            }.count
        }
    }

    // MARK: - Rows

    private mutating func handleLine(_ raw: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        var line = raw
        if let last = line.last, last == UInt8(ascii: "\r") {
            line = UnsafeBufferPointer(rebasing: line[0..<(line.count - 1)])
        }
        if line.isEmpty { return }
        if !sawFirstLine {
            sawFirstLine = true
            if let header = headerLayout(line) {
                switch header {
                case .success(let l): layout = l
                case .failure(let error): headerError = error.message
                }
                return
            }
        }
        rows += 1
        splitFields(line)
        let fieldCount = fieldCount
        if fieldCount < layout.count || (fieldCount > layout.count && !layout.textLast) {
            return reject("expected \(layout.count) fields separated by '|', found \(fieldCount)")
        }
        @inline(__always) func start(_ c: Int) -> Int { c == 0 ? 0 : ends[c - 1] + 1 }
        @inline(__always) func field(_ f: SacctField) -> UnsafeBufferPointer<UInt8> {
            let c = layout.column[f.ordinal]
            return UnsafeBufferPointer(rebasing: line[start(c)..<ends[c]])
        }
        guard let id = JobIDField.parse(field(.jobID)) else {
            return reject("JobID '\(text(field(.jobID)))' is not a job or step id")
        }
        switch id {
        case .pendingArray:
            pendingArrayRows += 1
        case .job(let key):
            guard let state = JobState.parse(field(.state)) else {
                return reject("State '\(text(field(.state)))' is not a SLURM job state")
            }
            if state.isLive {
                if liveKeys.insert(key).inserted { liveJobs += 1 }
                return
            }
            guard let elapsed = number(field(.elapsedRaw)) else {
                return reject("ElapsedRaw '\(text(field(.elapsedRaw)))' is not a number of seconds")
            }
            guard let nodes = number(field(.nNodes)), nodes <= UInt32.max else {
                return reject("NNodes '\(text(field(.nNodes)))' is not a count")
            }
            guard let cpus = number(field(.allocCPUs)), cpus <= UInt32.max else {
                return reject("AllocCPUS '\(text(field(.allocCPUs)))' is not a count")
            }
            let reqField = field(.reqMem)
            var requested: RequestedMemory? = nil
            if !reqField.isEmpty {
                guard let r = RequestedMemory.parse(reqField) else {
                    return reject("ReqMem '\(text(reqField))' is not a memory size")
                }
                requested = r
            }
            // Usually the job's first row: then its entry is made whole and appended, else the
            // entry its step rows started is completed.
            let existing = existingSlot(key)
            if let slot = existing,
               keeping == .jobs ? records[slot].hasAllocation : summary.jobs[slot].has(SummaryJob.hasAllocation)
            {
                return reject("second allocation row for job \(key)")
            }
            let comment: UnsafeBufferPointer<UInt8>
            let admin: UnsafeBufferPointer<UInt8>
            if fieldCount > layout.count {
                // Extra '|' inside the free text: the last piece is AdminComment, the rest Comment.
                let commentColumn = layout.column[SacctField.comment.ordinal]
                comment = UnsafeBufferPointer(rebasing: line[start(commentColumn)..<ends[fieldCount - 2]])
                admin = UnsafeBufferPointer(rebasing: line[start(fieldCount - 1)..<ends[fieldCount - 1]])
            } else {
                comment = field(.comment)
                admin = field(.adminComment)
            }
            let record = AdminRecord.find(in: admin)
            if keeping == .summary {
                return addSummaryAllocation(
                    key: key, slot: existing, state: state, elapsed: elapsed, nodes: UInt32(nodes), cpus: UInt32(cpus),
                    requested: requested, record: record, comment: comment)
            }
            var hasRecord = false
            if case .record = record { hasRecord = true }
            let allocation = Allocation(
                state: state, name: text(field(.jobName)), user: text(field(.user)), account: text(field(.account)),
                partition: text(field(.partition)), elapsedSeconds: elapsed, nodes: UInt32(nodes),
                cpus: UInt32(cpus), requested: requested, comment: hasRecord ? "" : text(comment), record: record)
            if let slot = existing {
                allocation.apply(to: &records[slot])
            } else {
                var job = AccountedJob(key: key, line: lineNumber)
                allocation.apply(to: &job)
                append(consume job)
            }
        case .step(let key, _):
            let state = JobState.parse(field(.state))
            if state == nil && !field(.state).isEmpty {
                return reject("State '\(text(field(.state)))' is not a SLURM job state")
            }
            let maxRSS = MemorySize.parse(field(.maxRSS), bareUnitShift: 0)
            if maxRSS == .invalid {
                return reject("MaxRSS '\(text(field(.maxRSS)))' is not a memory size")
            }
            guard let tot = tresMemory(field(.tresUsageInTot)) else {
                return reject("TRESUsageInTot '\(text(field(.tresUsageInTot)))' has an unreadable mem figure")
            }
            let tasksField = field(.nTasks)
            let tasks = tasksField.isEmpty ? 1 : number(tasksField)
            let nodesField = field(.nNodes)
            let nodes = nodesField.isEmpty ? 1 : number(nodesField)
            guard let tasks, let nodes else {
                return reject("NTasks/NNodes '\(text(tasksField))'/'\(text(nodesField))' are not counts")
            }
            var peak: (UInt64, PeakBasis)? = nil
            if case .bytes(let rss) = maxRSS {
                peak = Self.nodePeak(maxRSS: rss, tasks: tasks, nodes: nodes, taskSum: tot)
            }
            if keeping == .summary {
                let slot = existingSlot(key) ?? appendSummary(SummaryJob(key: key))
                summary.jobs[slot].addStep(outOfMemory: state == .outOfMemory, peak: peak?.0)
                return
            }
            let slot = existingSlot(key) ?? append(AccountedJob(key: key, line: lineNumber))
            Self.addStep(to: &records[slot], outOfMemory: state == .outOfMemory, peak: peak)
        }
    }

    /// The peak per node of one step (see `PeakBasis`).
    static func nodePeak(maxRSS: UInt64, tasks: UInt64, nodes: UInt64, taskSum: UInt64?)
        -> (UInt64, PeakBasis)
    {
        if tasks <= 1 { return (maxRSS, .singleTask) }
        if nodes <= 1 {
            if let taskSum, taskSum >= maxRSS { return (taskSum, .taskSum) }
            let (p, o) = maxRSS.multipliedReportingOverflow(by: tasks)
            return (o ? UInt64.max : p, .taskSum)
        }
        let busiest = tasks > nodes ? tasks - nodes + 1 : 1
        let (p, o) = maxRSS.multipliedReportingOverflow(by: busiest)
        var bound = o ? UInt64.max : p
        if let taskSum, taskSum < bound { bound = taskSum }
        return (max(bound, maxRSS), .multiNodeBound)
    }

    /// A step row's figures merged into its job (one access to the job table).
    @inline(__always)
    private static func addStep(to job: inout AccountedJob, outOfMemory: Bool, peak: (UInt64, PeakBasis)?) {
        job.stepRows &+= 1
        if outOfMemory { job.oomStep = true }
        if let (figure, basis) = peak {
            if let current = job.peakBytes {
                if figure > current { job.peakBytes = figure }
            } else {
                job.peakBytes = figure
            }
            if basis > job.peakBasis { job.peakBasis = basis }
        }
    }

    /// What an allocation row says of its job.
    private struct Allocation {
        var state: JobState
        var name, user, account, partition: String
        var elapsedSeconds: UInt64
        var nodes, cpus: UInt32
        var requested: RequestedMemory?
        var comment: String
        var record: AdminRecord.Found

        @inline(__always)
        func apply(to job: inout AccountedJob) {
            job.hasAllocation = true
            job.state = state
            job.name = name
            job.user = user
            job.account = account
            job.partition = partition
            job.elapsedSeconds = elapsedSeconds
            job.nodes = nodes
            job.cpus = cpus
            job.requested = requested
            job.record = record
            job.comment = comment
        }
    }

    /// An allocation row's figures, for `keeping: .summary`: what the report would work out from
    /// the whole row (`AuditEntry.requested`, `.predicted`) is worked out now, and the rest dropped.
    private mutating func addSummaryAllocation(
        key: JobKey, slot: Int?, state: JobState, elapsed: UInt64, nodes: UInt32, cpus: UInt32,
        requested: RequestedMemory?, record: AdminRecord.Found, comment: UnsafeBufferPointer<UInt8>
    ) {
        var job = slot.map { summary.jobs[$0] } ?? SummaryJob(key: key)
        job.bits |= SummaryJob.hasAllocation
        job.state = state
        job.elapsedSeconds = elapsed
        job.nodes = nodes
        var request = requested?.perNodeBytes(nodes: nodes, cpus: cpus)
        var predicted: UInt64? = nil
        switch record {
        case .record(let r):
            job.found = .record
            job.aux = UInt32(truncatingIfNeeded: classIDs.id(RecordClass(r), in: &summary.classes))
            request = AuditEntry.requested(perNode: request, record: r)
            predicted = AuditEntry.predicted(r, cpus: cpus, nodes: nodes)
        case .warned, .invalid, .none:
            // As `AccountedJob.comment`: kept when there is no usable record.
            job.aux = UInt32(truncatingIfNeeded: summary.comments.count)
            summary.comments.append(text(comment))
            if case .invalid(let why) = record {
                job.found = .invalid
                summary.reasons.append(why)
            } else {
                job.found = record == .warned ? .warned : .none
                summary.reasons.append(nil)
            }
        }
        job.requested = request ?? 0
        job.set(SummaryJob.hasRequested, request != nil)
        job.predicted = predicted ?? 0
        job.set(SummaryJob.hasPredicted, predicted != nil)
        if let slot {
            summary.jobs[slot] = job
        } else {
            appendSummary(job)
        }
    }

    /// The key of the job in a slot of the table kept.
    @inline(__always)
    private func key(at slot: Int) -> JobKey {
        keeping == .jobs ? records[slot].key : summary.jobs[slot].key
    }

    private var tableCount: Int { keeping == .jobs ? records.count : summary.jobs.count }

    /// The slot of a job already in the table.
    private mutating func existingSlot(_ key: JobKey) -> Int? {
        // sacct prints a job's steps right after it: most lookups are for the previous row's job.
        if key == lastKey, lastSlot >= 0 { return lastSlot }
        var slot = -1
        if inOrder {
            // Sorted table: a key above the last is new; any other is found by bisection.
            let n = tableCount
            guard n > 0, !(self.key(at: n - 1) < key) else { return nil }
            var lo = 0, hi = n - 1
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if self.key(at: mid) < key { lo = mid + 1 } else { hi = mid }
            }
            if self.key(at: lo) == key { slot = lo }
        } else if keeping == .jobs {
            slot = index.slot(of: key) { records[$0].key }
        } else {
            slot = index.slot(of: key) { summary.jobs[$0].key }
        }
        guard slot >= 0 else { return nil }
        lastKey = key
        lastSlot = slot
        return slot
    }

    /// Notes a job appended at `slot` (the last): keeps the bisection order, or the index.
    private mutating func noteAppended(_ slot: Int, key: JobKey) {
        if inOrder && slot > 0 && !(self.key(at: slot - 1) < key) {
            // The first job out of order: index every job from now on.
            inOrder = false
            for s in 0..<slot { index.insert(s, key: self.key(at: s)) }
        }
        if !inOrder { index.insert(slot, key: key) }
        lastKey = key
        lastSlot = slot
    }

    /// Adds a job not in the table yet; returns its slot.
    @discardableResult
    private mutating func append(_ job: consuming AccountedJob) -> Int {
        let slot = records.count
        records.append(job)
        noteAppended(slot, key: records[slot].key)
        return slot
    }

    /// Adds a job not in the summary table yet; returns its slot.
    @discardableResult
    private mutating func appendSummary(_ job: SummaryJob) -> Int {
        let slot = summary.jobs.count
        summary.jobs.append(job)
        noteAppended(slot, key: job.key)
        return slot
    }

    private mutating func reject(_ reason: String) {
        malformedCount += 1
        if malformed.count < Self.keptIssues {
            malformed.append(MalformedRow(line: lineNumber, reason: reason))
        }
    }

    /// Sets `ends` and `fieldCount` for a row. Writes into `ends` in place, 32 fields at a time.
    private mutating func splitFields(_ line: UnsafeBufferPointer<UInt8>) {
        let n = line.count
        var count = 0
        var start = 0
        var done = false
        while !done {
            if ends.count < count + 32 { ends.append(contentsOf: repeatElement(0, count: count + 32 - ends.count)) }
            ends.withUnsafeMutableBufferPointer { e in
                for _ in 0..<32 {
                    let i = firstIndex(of: UInt8(ascii: "|"), in: line, from: start)
                    e[count] = i
                    count &+= 1
                    if i >= n {
                        done = true
                        return
                    }
                    start = i &+ 1
                }
            }
        }
        fieldCount = count
    }

    /// A header line (first field `JobID`) sets the column order; every audit field must be present.
    private func headerLayout(_ line: UnsafeBufferPointer<UInt8>) -> Result<Layout, HeaderError>? {
        let names = text(line).split(separator: "|", omittingEmptySubsequences: false).map {
            String($0).lowercased()
        }
        guard names.first == "jobid" else { return nil }
        var column = [Int](repeating: -1, count: SacctField.allCases.count)
        for field in SacctField.allCases {
            guard let c = names.firstIndex(of: field.rawValue.lowercased()) else {
                return .failure(HeaderError(message: "the header line has no '\(field.rawValue)' column; "
                    + "the audit needs: \(SacctField.formatList)"))
            }
            column[field.ordinal] = c
        }
        let n = names.count
        let textLast = column[SacctField.comment.ordinal] == n - 2
            && column[SacctField.adminComment.ordinal] == n - 1
        return .success(Layout(column: column, count: n, textLast: textLast))
    }

    struct HeaderError: Error { var message: String }
}

extension SacctAccumulator {
    fileprivate func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// A plain unsigned decimal; nil if empty or not a number.
    fileprivate func number(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        if bytes.isEmpty { return nil }
        var value: UInt64 = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }

    /// The `mem=` figure of a TRES list (`cpu=…,mem=123456,…`) in bytes.
    /// - Returns: `.some(nil)` when there is no mem entry, nil when the entry is unreadable.
    fileprivate func tresMemory(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64?? {
        var i = 0
        let n = bytes.count
        while i < n {
            var j = i
            while j < n && bytes[j] != UInt8(ascii: ",") { j += 1 }
            // entry is bytes[i..<j]
            if j - i > 4 && bytes[i] == UInt8(ascii: "m") && bytes[i + 1] == UInt8(ascii: "e")
                && bytes[i + 2] == UInt8(ascii: "m") && bytes[i + 3] == UInt8(ascii: "=")
            {
                switch MemorySize.parse(UnsafeBufferPointer(rebasing: bytes[(i + 4)..<j]), bareUnitShift: 0) {
                case .bytes(let b): return .some(b)
                case .empty: return .some(nil)
                case .invalid: return nil
                }
            }
            i = j + 1
        }
        return .some(nil)
    }
}

extension SacctField {
    var ordinal: Int {
        switch self {
        case .jobID: return 0
        case .jobName: return 1
        case .user: return 2
        case .account: return 3
        case .partition: return 4
        case .state: return 5
        case .elapsedRaw: return 6
        case .nNodes: return 7
        case .nTasks: return 8
        case .allocCPUs: return 9
        case .reqMem: return 10
        case .maxRSS: return 11
        case .tresUsageInTot: return 12
        case .comment: return 13
        case .adminComment: return 14
        }
    }
}

/// The index of the first `byte` in `buffer` at or after `from`, or `buffer.count`.
///
/// Reads 8 bytes at a time (SWAR: a word XOR the pattern has a zero byte where they match; the lowest
/// flagged byte is always a true match), then finishes byte by byte. Rows are scanned twice (for
/// newlines and for delimiters), so this is the parser's inner loop.
@inline(__always)
func firstIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
    let n = buffer.count
    var i = from
    if let base = buffer.baseAddress {
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let pattern = UInt64(byte) &* ones
        while i &+ 8 <= n {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            let found = (word &- ones) & ~word & highs
            if found != 0 { return i &+ (UInt64(littleEndian: found).trailingZeroBitCount >> 3) }
            i &+= 8
        }
    }
    while i < n {
        if buffer[i] == byte { return i }
        i &+= 1
    }
    return n
}

/// The accumulator's map from job key to slot in its job table: open addressing with linear probing.
///
/// Each cell holds a 32-bit hash of the key and the slot number, so probing reads only the table
/// (8 bytes a cell, at most half full: 16 bytes or less per job, against about 50 for a
/// `[JobKey: Int]`). The hash keeps job ids in order (`job + task × c₁ + component × c₂`, modulo
/// 2³²): sacct lists jobs by id, so consecutive jobs land in consecutive cells and the table is read
/// and written almost sequentially. Should ids ever cluster (a probe longer than `longProbe`), the
/// table switches to a scrambled position and is rebuilt, which needs only the stored hashes.
struct JobIndex: Sendable {
    /// `hash << 32 | (slot + 1)` per cell, 0 for empty; the count is a power of two. (32 bits of
    /// slot suffice: 2³² jobs would take a terabyte of job table first.)
    private var cells: [UInt64] = []
    private var count = 0
    private var scrambled = false

    static let longProbe = 64

    @inline(__always)
    static func hash(_ key: JobKey) -> UInt32 {
        UInt32(truncatingIfNeeded: key.job ^ (key.job >> 32))
            &+ key.arrayTask &* 0x9E37_79B1 &+ key.hetComponent &* 0x85EB_CA77
    }

    @inline(__always)
    private func home(_ hash: UInt32, _ mask: Int) -> Int {
        guard scrambled else { return Int(hash) & mask }
        return Int(truncatingIfNeeded: (UInt64(hash) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot of `key`, or -1; `keyAt` gives the key of the job in a slot.
    @inline(__always)
    mutating func slot(of key: JobKey, keyAt: (Int) -> JobKey) -> Int {
        if cells.isEmpty { return -1 }
        let h = Self.hash(key)
        let (slot, probes) = cells.withUnsafeBufferPointer { c -> (Int, Int) in
            let mask = c.count &- 1
            var i = home(h, mask)
            var probes = 0
            while true {
                let cell = c[i]
                if cell == 0 { return (-1, probes) }
                if UInt32(truncatingIfNeeded: cell >> 32) == h {
                    let s = Int(truncatingIfNeeded: cell & 0xFFFF_FFFF) &- 1
                    if keyAt(s) == key { return (s, probes) }
                }
                i = (i &+ 1) & mask
                probes &+= 1
            }
        }
        if probes > Self.longProbe && !scrambled { rebuild(cells.count, scrambled: true) }
        return slot
    }

    /// Adds a slot whose key is not in the index yet.
    mutating func insert(_ slot: Int, key: JobKey) {
        if (count &+ 1) &* 2 > cells.count { rebuild(max(1024, cells.count &* 2), scrambled: scrambled) }
        let h = Self.hash(key)
        let mask = cells.count &- 1
        var i = home(h, mask)
        while cells[i] != 0 { i = (i &+ 1) & mask }
        cells[i] = UInt64(h) << 32 | UInt64(truncatingIfNeeded: slot &+ 1)
        count &+= 1
    }

    private mutating func rebuild(_ size: Int, scrambled: Bool) {
        self.scrambled = scrambled
        var bigger = [UInt64](repeating: 0, count: size)
        let mask = size &- 1
        for cell in cells where cell != 0 {
            var i = home(UInt32(truncatingIfNeeded: cell >> 32), mask)
            while bigger[i] != 0 { i = (i &+ 1) & mask }
            bigger[i] = cell
        }
        cells = bigger
    }
}
