import QubeMemSlurm

/// What the summary needs of one entry.
struct EntryFigures {
    var state: Int
    var oom: Bool
    var nearMiss: Bool
    var noData: Bool
    var measuredOverPredicted: Double?
    var requestedOverMeasured: Double?
    var wastedGiB: Double?
    var elapsedSeconds: Double

    @inline(__always)
    init(_ job: JobFigures, predicted: UInt64?, requested: UInt64?, nearMiss: Bool) {
        state = job.state.ordinal
        oom = job.oom
        self.nearMiss = nearMiss
        noData = job.peak == nil
        measuredOverPredicted = AuditEntry.ratio(job.peak, over: predicted)
        requestedOverMeasured = AuditEntry.ratio(requested, over: job.peak)
        wastedGiB = AuditEntry.wasted(requested: requested, peak: job.peak, nodes: job.nodes)
            .map { Double($0) / 1_073_741_824 }
        elapsedSeconds = Double(job.elapsedSeconds)
    }
}

/// The plain figures of a job that the report reads.
struct JobFigures {
    var state: JobState
    var oom: Bool
    var peak: UInt64?
    var nodes: UInt32
    var elapsedSeconds: UInt64
}

/// What the report reads of one job, from either job table (`ReportJobTable`). Plain numbers
/// only (the table gives the record's texts on request), so going through a table copies no
/// string.
struct ReportJob {
    var figures: JobFigures
    /// Requested memory per node, bytes: ReqMem's, else (with a record) the record's request.
    var requested: UInt64?
    var found: Found
    /// The record's index in the table's list of distinct records, when it has one (-1 otherwise):
    /// jobs with the same record class are in the same groups.
    var classID = -1

    enum Found {
        /// A record (`ReportJobTable.recordClass`): its slack, and the prediction per node worked
        /// out from it (`AuditEntry.predicted`).
        case record(slack: UInt64, predicted: UInt64?)
        case warned
        /// An unreadable record (`ReportJobTable.reason`).
        case invalid
        case none
    }
}

/// A table of finished jobs in job-id order that the report can read again and again (it reads
/// it once to count, then once per quantile list and per slack it tries, instead of keeping the
/// values of every job).
protocol ReportJobTable {
    var count: Int { get }
    func job(_ i: Int) -> ReportJob
    /// The comment of a job without a usable record.
    func comment(_ i: Int) -> String
    /// What the report reads of the record of a job with one.
    func recordClass(_ i: Int) -> RecordClass
    /// Why the record of a job with an unreadable one is so.
    func reason(_ i: Int) -> String
}

/// `[AccountedJob]` as a report table.
struct AccountedJobTable: ReportJobTable {
    let jobs: [AccountedJob]

    var count: Int { jobs.count }

    @inline(__always)
    func job(_ i: Int) -> ReportJob {
        jobs.withUnsafeBufferPointer { all -> ReportJob in
            // Stored properties only, read in place: the 264-byte job is not copied.
            let nodes = all[i].nodes, cpus = all[i].cpus
            let state = all[i].state
            let figures = JobFigures(
                state: state, oom: state == .outOfMemory || all[i].oomStep,
                peak: state.peakIsTheRuns ? all[i].peakBytes : nil,
                nodes: nodes, elapsedSeconds: all[i].elapsedSeconds)
            let perNode = all[i].requested?.perNodeBytes(nodes: nodes, cpus: cpus)
            switch all[i].record {
            case .record(let r):
                return ReportJob(
                    figures: figures, requested: AuditEntry.requested(perNode: perNode, record: r),
                    found: .record(slack: r.slackTenThousandths, predicted: AuditEntry.predicted(r, cpus: cpus, nodes: nodes)))
            case .warned: return ReportJob(figures: figures, requested: perNode, found: .warned)
            case .invalid: return ReportJob(figures: figures, requested: perNode, found: .invalid)
            case .none: return ReportJob(figures: figures, requested: perNode, found: .none)
            }
        }
    }

    func comment(_ i: Int) -> String { jobs[i].comment }

    func recordClass(_ i: Int) -> RecordClass {
        guard case .record(let r) = jobs[i].record else { return RecordClass(action: "", model: "?", path: "?") }
        return RecordClass(r)
    }

    func reason(_ i: Int) -> String {
        guard case .invalid(let why) = jobs[i].record else { return "" }
        return why
    }
}

extension SummaryJobs: ReportJobTable {
    @inline(__always)
    func job(_ i: Int) -> ReportJob {
        let j = jobs[i]
        let figures = JobFigures(
            state: j.state, oom: j.state == .outOfMemory || j.has(SummaryJob.oomStep),
            peak: j.has(SummaryJob.hasPeak) && j.state.peakIsTheRuns ? j.peak : nil, nodes: j.nodes,
            elapsedSeconds: j.elapsedSeconds)
        let requested = j.has(SummaryJob.hasRequested) ? j.requested : nil
        switch j.found {
        case .record:
            return ReportJob(
                figures: figures, requested: requested,
                found: .record(slack: classes[Int(j.aux)].slack, predicted: j.has(SummaryJob.hasPredicted) ? j.predicted : nil),
                classID: Int(j.aux))
        case .warned: return ReportJob(figures: figures, requested: requested, found: .warned)
        case .invalid: return ReportJob(figures: figures, requested: requested, found: .invalid)
        case .none: return ReportJob(figures: figures, requested: requested, found: .none)
        }
    }

    func comment(_ i: Int) -> String { comments[Int(jobs[i].aux)] }

    func recordClass(_ i: Int) -> RecordClass { classes[Int(jobs[i].aux)] }

    func reason(_ i: Int) -> String { reasons[Int(jobs[i].aux)] ?? "" }
}

/// Small integer ids for the few distinct group names (paths, models) of an audit.
struct NameIDs {
    private(set) var names: [String] = []
    private var last = -1
    private var many: [String: Int] = [:]

    @inline(__always)
    mutating func id(_ name: String) -> Int {
        if last >= 0 && names[last] == name { return last }
        if names.count <= 16 {
            for (i, n) in names.enumerated() where n == name {
                last = i
                return i
            }
        } else if let i = many[name] {
            last = i
            return i
        }
        let i = names.count
        names.append(name)
        if names.count > 16 {
            if many.isEmpty { for (j, n) in names.enumerated() { many[n] = j } } else { many[name] = i }
        }
        last = i
        return i
    }
}
