import QubeMemSlurm

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
    private var layout = SacctRowFields.Layout.standard
    private var sawFirstLine = false
    private var lastKey = JobKey(job: UInt64.max)
    private var lastSlot = -1
    /// Where the current row's fields end.
    private var fields = SacctRowFields()

    public init(keeping: Keeping = .jobs) {
        self.keeping = keeping
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
        Self.keepFinished(&taken.jobs, liveKeys: liveKeys)
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
        Self.keepFinished(&jobs, liveKeys: liveKeys)
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
        var jobs = records
        Self.keepFinished(&jobs, liveKeys: liveKeys)
        return jobs
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
            if let header = SacctRowFields.headerLayout(line) {
                switch header {
                case .success(let l): layout = l
                case .failure(let error): headerError = error.message
                }
                return
            }
        }
        rows += 1
        fields.split(line)
        let fieldCount = fields.count
        if fieldCount < layout.count || (fieldCount > layout.count && !layout.textLast) {
            return reject("expected \(layout.count) fields separated by '|', found \(fieldCount)")
        }
        @inline(__always) func start(_ c: Int) -> Int { c == 0 ? 0 : fields.ends[c - 1] + 1 }
        @inline(__always) func field(_ f: SacctField) -> UnsafeBufferPointer<UInt8> {
            let c = layout.column[f.ordinal]
            return UnsafeBufferPointer(rebasing: line[start(c)..<fields.ends[c]])
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
                comment = UnsafeBufferPointer(rebasing: line[start(commentColumn)..<fields.ends[fieldCount - 2]])
                admin = UnsafeBufferPointer(rebasing: line[start(fieldCount - 1)..<fields.ends[fieldCount - 1]])
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
}
