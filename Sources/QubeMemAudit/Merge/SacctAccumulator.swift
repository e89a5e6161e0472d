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

    public internal(set) var rows = 0
    public internal(set) var malformedCount = 0
    public internal(set) var malformed: [MalformedRow] = []
    /// Allocation rows of jobs that have not ended (pending, running, …), skipped.
    public internal(set) var liveJobs = 0
    /// Array ranges whose tasks never started, such as `123_[4-9]` (pending, or cancelled before
    /// starting), skipped: they used nothing.
    public internal(set) var pendingArrayRows = 0
    /// An unusable header line stops the parse; this says why.
    public internal(set) var headerError: String? = nil

    // The state below is read by the row reader, the merge and the job table (SacctRowReader,
    // SacctRowMerge and JobTable, beside this file): internal for them, used nowhere else.
    var index = JobIndex()
    var records: [AccountedJob] = []
    var summary = SummaryJobs()
    var classIDs = RecordClassIDs()
    /// True while every job was first seen in increasing key order (sacct's order): the table is
    /// then sorted and searched by bisection, and `index` is not built (it costs 16 bytes a job).
    var inOrder = true
    var liveKeys: Set<JobKey> = []
    private var carry: [UInt8] = []
    var lineNumber = 0
    var layout = SacctRowFields.Layout.standard
    var sawFirstLine = false
    var lastKey = JobKey(job: UInt64.max)
    var lastSlot = -1
    /// Where the current row's fields end.
    var fields = SacctRowFields()

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
}
