import QubeMemSlurm

/// The finished jobs of an audit kept only as far as its summary and recommendation need them:
/// no names, no per-job entries (`SacctAccumulator(keeping: .summary)`, `qubemem audit
/// --suggest-config`).
///
/// A job takes 64 bytes (against 264 for an `AccountedJob`): its key, the figures the summary
/// counts, and one number saying where the rest is. What the AdminComment record says that is
/// shared by many jobs (action, model, path, slack, rank layout) is kept once per distinct value
/// (`RecordClass`); what is per job (the predicted and requested bytes per node) is worked out when
/// the allocation row is read, exactly as the report would from the whole record. A job without a
/// usable record keeps its comment (the only source of a prediction), and one whose record is
/// unreadable keeps the reason.
public struct SummaryJobs: Sendable {
    var jobs: [SummaryJob] = []
    var classes: [RecordClass] = []
    /// Comments of jobs without a usable record (`SummaryJob.aux` of jobs other than `.record`),
    /// to recompute a prediction from.
    var comments: [String] = []
    /// Beside each comment: why the job's record was unreadable (`.invalid`), else nil.
    var reasons: [String?] = []

    /// Finished jobs (with an allocation row).
    public var count: Int { jobs.count }
}

/// One job of `SummaryJobs`.
struct SummaryJob: Sendable {
    var key: JobKey
    /// Measured peak per node, bytes (when `hasPeak`).
    var peak: UInt64 = 0
    /// Requested memory per node, bytes (when `hasRequested`): ReqMem's, else (jobs with a record)
    /// the record's request_mib, as `AuditEntry.requested` takes it.
    var requested: UInt64 = 0
    /// The record's prediction per node, bytes (when `hasPredicted`), as `AuditEntry.predicted`.
    var predicted: UInt64 = 0
    var elapsedSeconds: UInt64 = 0
    var nodes: UInt32 = 0
    /// `.record`: index in `classes`; otherwise in `comments` and `reasons`.
    var aux: UInt32 = 0
    var state: JobState = .pending
    var bits: UInt8 = 0
    var found: Found = .none

    enum Found: UInt8, Sendable { case none, record, warned, invalid }

    static let hasAllocation: UInt8 = 1
    static let oomStep: UInt8 = 2
    static let hasPeak: UInt8 = 4
    static let hasRequested: UInt8 = 8
    static let hasPredicted: UInt8 = 16

    init(key: JobKey) { self.key = key }

    @inline(__always) func has(_ bit: UInt8) -> Bool { bits & bit != 0 }

    @inline(__always) mutating func set(_ bit: UInt8, _ on: Bool) {
        if on { bits |= bit } else { bits &= ~bit }
    }

    /// A step row's figures merged in (see `SacctAccumulator.addStep`).
    @inline(__always)
    mutating func addStep(outOfMemory: Bool, peak figure: UInt64?) {
        if outOfMemory { bits |= Self.oomStep }
        if let figure {
            if !has(Self.hasPeak) || figure > peak { peak = figure }
            bits |= Self.hasPeak
        }
    }
}

/// What the report reads of a record that many jobs share.
struct RecordClass: Hashable, Sendable {
    var action: String
    var model: String
    var path: String
    var slack: UInt64
    var ranks: RanksGroup

    init(action: String, model: String, path: String, slack: UInt64 = 0, ranks: RanksGroup = .single) {
        self.action = action
        self.model = model
        self.path = path
        self.slack = slack
        self.ranks = ranks
    }

    init(_ record: AdminRecord) {
        action = record.action
        model = record.model
        path = record.path
        slack = record.slackTenThousandths
        switch record.ranks {
        case nil: ranks = .single
        case .perNode(let r, _): ranks = .perNode(r)
        case .perCPU: ranks = .perCPU
        }
    }
}

/// A record's rank layout as far as the report's "ranks" groups go.
enum RanksGroup: Hashable, Sendable {
    case single
    case perNode(UInt64)
    case perCPU
}

/// Small ids for the record classes of an audit (a handful: one per model, path and slack).
struct RecordClassIDs: Sendable {
    private var last = -1
    private var ids: [RecordClass: Int] = [:]

    /// The id of `c` in `classes`, appending it when new.
    @inline(__always)
    mutating func id(_ c: RecordClass, in classes: inout [RecordClass]) -> Int {
        if last >= 0 && classes[last] == c { return last }
        if let i = ids[c] {
            last = i
            return i
        }
        let i = classes.count
        classes.append(c)
        ids[c] = i
        last = i
        return i
    }
}
