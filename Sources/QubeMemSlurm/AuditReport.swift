/// Where a job's prediction came from.
public enum PredictionSource: String, Sendable {
    /// The plugin's AdminComment record: the number that was actually requested, and why.
    case record
    /// No record, but a `qube:` comment: recomputed with the current model (marked in the report).
    case recomputed
    /// Neither: shown only with `--all`, as plain requested-vs-used.
    case none
}

/// A prediction recomputed from a job comment by the current model.
public struct RecomputedPrediction: Sendable, Equatable {
    public var model: String
    public var path: String
    /// Baseline + lifetime peak, bytes.
    public var totalBytes: UInt64
    public init(model: String, path: String, totalBytes: UInt64) {
        self.model = model
        self.path = path
        self.totalBytes = totalBytes
    }
}

/// Recomputes a prediction from a job comment: nil when the comment has no `qube:` section, otherwise
/// the prediction or a message saying why it could not be made.
public typealias Recompute = @Sendable (String) -> Result<RecomputedPrediction, RecomputeError>?

public struct RecomputeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Settings of one audit.
public struct AuditSettings: Sendable {
    /// Share of jobs the recommended slack must cover (0 < target < 1).
    public var target = 0.99
    /// A job whose peak reaches this share of its request is a near miss.
    public var nearMiss = 0.9
    /// Show jobs without any prediction too.
    public var includeAll = false
    /// The slack in force, ten-thousandths; nil = the most common slack in the records, else
    /// `fallbackSlack`.
    public var currentSlack: UInt64? = nil
    /// The slack assumed when neither `currentSlack` nor any record gives one (the site's, 1.15 by default).
    public var fallbackSlack: UInt64 = 11_500
    public init() {}
}

/// One audited job.
public struct AuditEntry: Sendable {
    /// The job id as sacct prints it (made on demand: most entries are only counted).
    public var id: String { key.description }
    public var key: JobKey
    public var name: String
    public var user: String
    public var account: String
    public var partition: String
    public var state: JobState
    public var source: PredictionSource
    /// Plugin decision (`set`, `kept_user`, …) when the source is a record.
    public var action: String?
    public var model: String?
    public var path: String?
    /// Predicted total (baseline + peak), bytes.
    public var predictedBytes: UInt64?
    /// Requested memory per node, bytes.
    public var requestedBytes: UInt64?
    /// Measured peak per node, bytes; nil = no data.
    public var peakBytes: UInt64?
    public var peakBasis: PeakBasis
    public var nodes: UInt32
    public var elapsedSeconds: UInt64
    public var oom: Bool
    public var nearMiss: Bool
    /// The slack applied by the plugin, ten-thousandths.
    public var slack: UInt64?
    /// Why a record or comment could not be used, when that happened.
    public var note: String?

    public var measuredOverPredicted: Double? { Self.ratio(peakBytes, over: predictedBytes) }

    public var requestedOverMeasured: Double? { Self.ratio(requestedBytes, over: peakBytes) }

    /// Requested minus used, per node × nodes, bytes (0 when the job used all of it).
    public var wastedBytes: UInt64? { Self.wasted(requested: requestedBytes, peak: peakBytes, nodes: nodes) }

    @inline(__always)
    static func ratio(_ a: UInt64?, over b: UInt64?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return Double(a) / Double(b)
    }

    @inline(__always)
    static func wasted(requested: UInt64?, peak: UInt64?, nodes: UInt32) -> UInt64? {
        guard let r = requested, let p = peak else { return nil }
        let perNode = r > p ? r - p : 0
        let (w, o) = perNode.multipliedReportingOverflow(by: UInt64(max(nodes, 1)))
        return o ? UInt64.max : w
    }

    /// The recorded prediction per node, bytes: for a per-CPU record, on the CPUs SLURM gave each
    /// node (AllocCPUS / NNodes, rounded up).
    @inline(__always)
    static func predicted(_ record: AdminRecord?, cpus: UInt32, nodes: UInt32) -> UInt64? {
        guard let record else { return nil }
        guard case .perCPU = record.ranks else { return record.predictedTotalBytes }
        let n = UInt64(max(nodes, 1)), c = UInt64(cpus)
        return record.predictedNodeBytes(cpusPerNode: c / n + (c % n == 0 ? 0 : 1))
    }

    /// Requested memory per node, bytes: sacct's ReqMem, else the record's request (nil on overflow).
    @inline(__always)
    static func requested(perNode: UInt64?, record: AdminRecord?) -> UInt64? {
        if let bytes = perNode { return bytes }
        guard let record else { return nil }
        let (b, o) = record.requestMiB.multipliedReportingOverflow(by: 1 << 20)
        return o ? nil : b
    }
}

/// The listed jobs of an audit in job-id order, as `AuditEntry` values made on access.
///
/// Most of a large audit is only counted, so entries are not stored: the report keeps the jobs and,
/// per listed job, 24 bytes saying where its prediction came from and where its note is.
public struct AuditEntries: RandomAccessCollection, Sendable {
    let jobs: [AccountedJob]
    let listed: [Listed]
    let recomputed: [RecomputedPrediction]
    let notes: [String]

    struct Listed: Sendable {
        var job: Int
        /// Index in `recomputed` (source `.recomputed`), else -1.
        var recomputed: Int32
        /// Index in `notes`, or -1.
        var note: Int32
        var source: PredictionSource
        var nearMiss: Bool
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { listed.count }

    public subscript(position: Int) -> AuditEntry {
        let l = listed[position]
        let job = jobs[l.job]
        var record: AdminRecord? = nil
        if l.source == .record, case .record(let r) = job.record { record = r }
        var entry = AuditEntry(
            key: job.key, name: job.name, user: job.user, account: job.account, partition: job.partition,
            state: job.state, source: l.source, action: record?.action, model: record?.model, path: record?.path,
            predictedBytes: AuditEntry.predicted(record, cpus: job.cpus, nodes: job.nodes),
            requestedBytes: AuditEntry.requested(perNode: job.requestedPerNodeBytes, record: record),
            peakBytes: job.state.peakIsTheRuns ? job.peakBytes : nil, peakBasis: job.peakBasis, nodes: job.nodes,
            elapsedSeconds: job.elapsedSeconds,
            oom: job.outOfMemory, nearMiss: l.nearMiss, slack: record?.slackTenThousandths,
            note: l.note >= 0 ? notes[Int(l.note)] : nil)
        if l.recomputed >= 0 {
            let p = recomputed[Int(l.recomputed)]
            entry.model = p.model
            entry.path = p.path
            entry.predictedBytes = p.totalBytes
        }
        return entry
    }
}

/// p50, p90, p99 and max by the nearest-rank method (the ⌈p·n⌉-th smallest value).
public struct Quantiles: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    public init?(_ values: [Double]) {
        var work = values
        self.init(selectingIn: &work)
    }

    /// The quantiles of `work`, which is reordered (no copy is made).
    init?(selectingIn work: inout [Double]) {
        guard !work.isEmpty else { return nil }
        let n = work.count
        func index(_ p: Double) -> Int { Swift.min(Swift.max(Int((p * Double(n)).rounded(.up)), 1), n) - 1 }
        // Selection instead of a full sort: each call leaves smaller values to the left of k, so
        // the next, higher rank only searches to the right of it.
        let k50 = index(0.50), k90 = index(0.90), k99 = index(0.99)
        Self.select(&work, k50, from: 0)
        Self.select(&work, k90, from: k50)
        Self.select(&work, k99, from: k90)
        count = n
        p50 = work[k50]
        p90 = work[k90]
        p99 = work[k99]
        max = work[k99...].max() ?? work[k99]
    }

    /// Puts the k-th smallest of `a[from...]` at index k, smaller ones before it (Hoare quickselect).
    static func select(_ a: inout [Double], _ k: Int, from: Int) {
        var lo = from
        var hi = a.count - 1
        while lo < hi {
            let pivot = a[lo + (hi - lo) / 2]
            var i = lo
            var j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return
            }
        }
    }
}

/// Summary of a group of audited jobs.
public struct AuditGroup: Sendable, Equatable {
    public var name: String
    public var jobs = 0
    public var byState: [JobState: Int] = [:]
    public var oom = 0
    public var nearMisses = 0
    public var noData = 0
    public var measuredOverPredicted: Quantiles?
    public var requestedOverMeasured: Quantiles?
    public var wastedGiB = 0.0
    public var wastedGiBHours = 0.0

    init(name: String, _ tally: GroupTally, measuredOverPredicted: Quantiles?, requestedOverMeasured: Quantiles?) {
        self.name = name
        jobs = tally.jobs
        for (i, n) in tally.states.enumerated() where n > 0 { byState[JobState.allCases[i]] = n }
        oom = tally.oom
        nearMisses = tally.nearMisses
        noData = tally.noData
        self.measuredOverPredicted = measuredOverPredicted
        self.requestedOverMeasured = requestedOverMeasured
        wastedGiB = tally.wastedGiB
        wastedGiBHours = tally.wastedGiBHours
    }
}

/// A group's counts and sums as its entries are counted (one pass over all entries fills every
/// group). The ratios are not kept here: each quantile is selected from the group's values,
/// gathered again when it is computed (`AuditReport.quantiles`).
struct GroupTally {
    var jobs = 0
    /// Jobs per state, indexed like `JobState.allCases`.
    var states = [Int](repeating: 0, count: JobState.allCases.count)
    var oom = 0
    var nearMisses = 0
    var noData = 0
    /// How many entries have each ratio (the size of the list its quantiles are selected from).
    var measuredOverPredicted = 0
    var requestedOverMeasured = 0
    var wastedGiB = 0.0
    var wastedGiBHours = 0.0

    /// Counts one entry, given its figures computed once for all its groups.
    @inline(__always)
    mutating func add(_ f: EntryFigures) {
        jobs += 1
        states[f.state] += 1
        if f.oom { oom += 1 }
        if f.nearMiss { nearMisses += 1 }
        if f.noData { noData += 1 }
        if f.measuredOverPredicted != nil { measuredOverPredicted += 1 }
        if f.requestedOverMeasured != nil { requestedOverMeasured += 1 }
        if let gib = f.wastedGiB {
            wastedGiB += gib
            wastedGiBHours += gib * f.elapsedSeconds / 3600
        }
    }
}

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

/// The smallest slack that would have covered a target share of jobs.
public struct Recommendation: Sendable, Equatable {
    public var target: Double
    /// Jobs the figure is computed from: a prediction, a measured peak, and an ending that shows the
    /// whole run's need (COMPLETED, or OUT_OF_MEMORY as a lower bound).
    public var eligible: Int
    /// Jobs needed for the target share to mean anything: max(20, ⌈1 / (1 − target)⌉).
    public var minimumJobs: Int
    public var enoughJobs: Bool { eligible >= minimumJobs }
    /// Recommended slack, ten-thousandths, rounded up to 0.01; nil with no eligible job.
    public var slack: UInt64?
    public var covered: Int
    public var currentSlack: UInt64
    public var currentCovered: Int
    /// Memory that would have been requested in all at the recommended slack, and at the current one, GiB.
    public var requestedGiB: Double
    public var currentRequestedGiB: Double
    /// Requested-but-unused memory × run time at the recommended and current slack, GiB·hours.
    public var wasteGiBHours: Double
    public var currentWasteGiBHours: Double
}

/// The audit of a set of finished jobs.
public struct AuditReport: Sendable {
    /// The jobs listed: those with a prediction, or all with `--all`. Empty for a report made from
    /// `SummaryJobs`.
    public var entries: AuditEntries
    public var overall: AuditGroup
    public var byPath: [AuditGroup]
    public var byModel: [AuditGroup]
    /// Groups by ranks per node ("ranks 1", "ranks 4", "ranks per-CPU"); only when some listed job
    /// ran more than one rank (multi-rank records), else empty.
    public var byRanks: [AuditGroup]
    public var recommendation: Recommendation
    /// Jobs read (finished, with an allocation row).
    public var finishedJobs: Int
    public var withRecord: Int
    public var recomputed: Int
    /// Jobs with neither record nor usable comment (listed only with `--all`).
    public var withoutPrediction: Int
    /// Records that were present but unreadable, and qube comments that could not be priced.
    public var unreadableRecords: Int
    public var unpricedComments: Int
    public var settings: AuditSettings

    /// Builds the report, with its entries.
    /// - Parameters:
    ///   - jobs: finished jobs from `SacctAccumulator.finishedJobs`.
    ///   - settings: target, near-miss threshold, `--all`, current slack.
    ///   - recompute: prices a job comment with the current model.
    public init(jobs: [AccountedJob], settings: AuditSettings, recompute: Recompute) {
        self.init(table: AccountedJobTable(jobs: jobs), listing: jobs, settings: settings, recompute: recompute)
    }

    /// Builds the report without entries (`entries` is empty): the same counts, summary groups and
    /// recommendation as from the same jobs kept whole, in memory that follows what those need.
    /// - Parameters:
    ///   - summary: finished jobs from `SacctAccumulator.takeSummary()`.
    ///   - settings: target, near-miss threshold, `--all`, current slack.
    ///   - recompute: prices a job comment with the current model.
    public init(summary: SummaryJobs, settings: AuditSettings, recompute: Recompute) {
        self.init(table: summary, listing: nil, settings: settings, recompute: recompute)
    }

    /// Builds the report from any job table; with `listing` (the same jobs as `AccountedJob`s) it
    /// also makes the entries.
    ///
    /// The table is read once to count everything but the quantiles, keeping no per-job figure,
    /// then once per list of values a quantile or the recommendation is selected from: memory
    /// beyond the table is one such list at a time (8 bytes a value), not every group's lists.
    init<Table: ReportJobTable>(
        table: Table, listing jobs: [AccountedJob]?, settings: AuditSettings, recompute: Recompute
    ) {
        self.settings = settings
        var counter = ReportCounter(table: table, settings: settings)
        var listed: [AuditEntries.Listed] = []
        if jobs != nil { listed.reserveCapacity(table.count) }
        var notes: [String] = []
        var withRecord = 0, recomputed = 0, none = 0, badRecords = 0, badComments = 0
        // Votes for the slack in force: few distinct values, so a list beats a dictionary.
        var slackVotes: [(slack: UInt64, votes: Int)] = []
        var lastVote = -1
        // The summary groups are counted as the jobs are read, each job's figures computed once.
        var overallTally = GroupTally()
        var pathTallies: [GroupTally] = [], modelTallies: [GroupTally] = [], rankTallies: [GroupTally] = []
        var eligible = 0
        for i in 0..<table.count {
            let job = table.job(i)
            var note: String? = nil
            func add(note text: String) {
                if let earlier = note { note = earlier + "; " + text } else { note = text }
            }
            var recomputedIndex: Int32 = -1
            switch job.found {
            case .record(let slack, _):
                if lastVote < 0 || slackVotes[lastVote].slack != slack {
                    lastVote = slackVotes.firstIndex { $0.slack == slack } ?? -1
                    if lastVote < 0 {
                        lastVote = slackVotes.count
                        slackVotes.append((slack, 0))
                    }
                }
                slackVotes[lastVote].votes += 1
            case .warned, .invalid, .none:
                if case .warned = job.found {
                    add(note: "the plugin could not read the qube comment and left the job as submitted (action=warn)")
                } else if case .invalid = job.found {
                    badRecords += 1
                    add(note: "AdminComment record unreadable: \(table.reason(i))")
                }
                switch recompute(table.comment(i)) {
                case .some(.success(let p)):
                    recomputedIndex = Int32(truncatingIfNeeded: counter.predictions.count)
                    counter.predictions.append(p)
                case .some(.failure(let e)):
                    badComments += 1
                    add(note: "qube comment not priced: \(e.description)")
                case nil:
                    break
                }
                counter.outcomes.append(recomputedIndex)
            }
            let prediction = recomputedIndex >= 0 ? counter.predictions[Int(recomputedIndex)] : nil
            let source: PredictionSource
            if case .record = job.found { source = .record } else { source = prediction == nil ? .none : .recomputed }
            switch source {
            case .record: withRecord += 1
            case .recomputed: recomputed += 1
            case .none: none += 1
            }
            if source == .none && !settings.includeAll { continue }
            let c = counter.count(job, at: i, source: source, prediction: prediction)
            overallTally.add(c.figures)
            if source != .none {
                if c.path == pathTallies.count { pathTallies.append(GroupTally()) }
                pathTallies[c.path].add(c.figures)
                if c.model == modelTallies.count { modelTallies.append(GroupTally()) }
                modelTallies[c.model].add(c.figures)
                if c.rank == rankTallies.count { rankTallies.append(GroupTally()) }
                rankTallies[c.rank].add(c.figures)
                if c.need != nil { eligible += 1 }
            }
            if jobs != nil {
                var entry = AuditEntries.Listed(
                    job: i, recomputed: recomputedIndex, note: -1, source: source, nearMiss: c.figures.nearMiss)
                if let note {
                    entry.note = Int32(truncatingIfNeeded: notes.count)
                    notes.append(note)
                }
                listed.append(entry)
            }
        }
        entries = AuditEntries(jobs: jobs ?? [], listed: listed, recomputed: jobs == nil ? [] : counter.predictions,
                               notes: notes)
        let overallQ = counter.quantiles(groups: [overallTally]) { _ in 0 }
        let overall = AuditGroup(name: "all", overallTally, measuredOverPredicted: overallQ[0].0,
                                 requestedOverMeasured: overallQ[0].1)
        self.overall = overall
        byPath = Self.groups(pathTallies, names: counter.pathIDs.names, prefix: "path ", overall: overall,
                             counter: &counter) { $0.path }
        byModel = Self.groups(modelTallies, names: counter.modelIDs.names, prefix: "model ", overall: overall,
                              counter: &counter) { $0.model }
        byRanks = counter.sawMultiRank
            ? Self.groups(rankTallies, names: counter.rankIDs.names, prefix: "ranks ", overall: overall,
                          counter: &counter) { $0.rank }
            : []
        finishedJobs = table.count
        self.withRecord = withRecord
        self.recomputed = recomputed
        withoutPrediction = none
        unreadableRecords = badRecords
        unpricedComments = badComments
        let voted = slackVotes.max { a, b in a.votes < b.votes || (a.votes == b.votes && a.slack > b.slack) }?.slack
        let current = settings.currentSlack ?? voted ?? settings.fallbackSlack
        recommendation = Self.recommend(needCount: eligible, target: settings.target, currentSlack: current) { body in
            counter.forEachListed { c in if let n = c.need { body(n) } }
        }
    }

    /// The groups of a grouping, sorted by name. A single group holding every listed job (one model,
    /// say) has the overall figures: they are not computed again.
    static func groups<Table>(
        _ tallies: [GroupTally], names: [String], prefix: String, overall: AuditGroup,
        counter: inout ReportCounter<Table>, group: (Counted) -> Int
    ) -> [AuditGroup] {
        if tallies.count == 1 && tallies[0].jobs == overall.jobs {
            var group = overall
            group.name = prefix + names[0]
            return [group]
        }
        let q = counter.quantiles(groups: tallies, group: group)
        return names.indices.sorted { names[$0] < names[$1] }.map {
            AuditGroup(name: prefix + names[$0], tallies[$0], measuredOverPredicted: q[$0].0,
                       requestedOverMeasured: q[$0].1)
        }
    }

    /// A job's need in slack units: the slack s at which predicted × s first holds its peak.
    struct Need {
        var ratio: Double
        /// OUT_OF_MEMORY: the peak is capped by the limit, so the need is strictly above `ratio`.
        var strict: Bool
        var total: UInt64
        var peak: UInt64
        var nodes: UInt32
        var hours: Double

        init(ratio: Double, strict: Bool, total: UInt64, peak: UInt64, nodes: UInt32, hours: Double) {
            self.ratio = ratio
            self.strict = strict
            self.total = total
            self.peak = peak
            self.nodes = nodes
            self.hours = hours
        }

        /// The need of a job with a prediction, or nil when it tells nothing of what the job needed:
        /// no measured peak, or an ending other than COMPLETED and OUT_OF_MEMORY.
        init?(_ job: JobFigures, predicted: UInt64?, requested: UInt64?) {
            guard let total = predicted, total > 0, let peak = job.peak else { return nil }
            let hours = Double(job.elapsedSeconds) / 3600
            if job.oom {
                // The job needed more than it was given; the limit is what it reached at least.
                let reached = max(peak, requested ?? 0)
                self.init(ratio: Double(reached) / Double(total), strict: true, total: total, peak: reached,
                          nodes: job.nodes, hours: hours)
            } else if job.state == .completed {
                self.init(ratio: Double(peak) / Double(total), strict: false, total: total, peak: peak,
                          nodes: job.nodes, hours: hours)
            } else {
                return nil
            }
        }
    }

    static func covers(_ slack: UInt64, _ n: Need) -> Bool {
        let s = Double(slack) / 10_000
        return n.strict ? s > n.ratio : s >= n.ratio - 1e-12
    }

    /// Requested bytes per node at a slack, as the request formula computes it (ceil to MiB).
    /// Exact integer arithmetic, as the plugin does: ceil(total × slack / (10⁴ × 2²⁰)).
    static func requestBytes(total: UInt64, slack: UInt64) -> Double {
        let product = total.multipliedFullWidth(by: slack)
        let divisor: UInt64 = 10_000 << 20
        if product.high == 0 {
            let (q, r) = product.low.quotientAndRemainder(dividingBy: divisor)
            return (Double(q) + (r > 0 ? 1 : 0)) * 1_048_576
        }
        guard product.high < divisor else { return Double(total) * Double(slack) / 10_000 }
        let (q, r) = divisor.dividingFullWidth(product)
        return (Double(q) + (r > 0 ? 1 : 0)) * 1_048_576
    }

    /// The recommendation from the needs of the jobs with a prediction, in entry order.
    static func recommend(_ needs: [Need], target: Double, currentSlack: UInt64) -> Recommendation {
        recommend(needCount: needs.count, target: target, currentSlack: currentSlack) { body in
            for n in needs { body(n) }
        }
    }

    /// The recommendation from `needCount` needs that `forEachNeed` goes through, in entry order,
    /// as often as asked (once to select the figure, then once per slack tried): the needs are
    /// not kept, only their ratios while the figure is selected.
    static func recommend(
        needCount: Int, target: Double, currentSlack: UInt64, forEachNeed: ((Need) -> Void) -> Void
    ) -> Recommendation {
        let minimum = max(20, Int((1 / max(1 - target, 1e-9)).rounded(.up)))
        /// What requests at a slack would have covered and cost, summed in entry order.
        struct Cost {
            var slack: UInt64
            var covered = 0
            var requested = 0.0
            var waste = 0.0
            init(_ slack: UInt64) { self.slack = slack }

            @inline(__always)
            mutating func add(_ n: Need) {
                if AuditReport.covers(slack, n) { covered += 1 }
                let r = AuditReport.requestBytes(total: n.total, slack: slack) * Double(max(n.nodes, 1))
                requested += r
                let unused = max(0, r - Double(n.peak) * Double(max(n.nodes, 1)))
                waste += unused / 1_073_741_824 * n.hours
            }

            var figures: (covered: Int, requested: Double, waste: Double) {
                (covered, requested / 1_073_741_824, waste)
            }
        }
        // The current slack's cost is summed in the first pass that tries slacks.
        var current = Cost(currentSlack)
        var slack: UInt64? = nil
        if needCount == 0 { forEachNeed { current.add($0) } }
        if needCount > 0 {
            var ratios: [Double] = []
            ratios.reserveCapacity(needCount)
            forEachNeed { ratios.append($0.ratio) }
            let k = min(max(Int((target * Double(ratios.count)).rounded(.up)), 1), ratios.count)
            Quantiles.select(&ratios, k - 1, from: 0)
            // Smallest multiple of 0.01 covering the k-th smallest need; coverage is then checked
            // exactly, since OUT_OF_MEMORY needs are strict. The start is capped so that it fits
            // in 64 bits, and so is the search, which ends even for an absurd ratio (a record
            // predicting a few bytes).
            var s = UInt64(min(max(0, (ratios[k - 1] * 100).rounded(.down)), 1.8e17)) * 100
            ratios = []
            // Slacks s, s + 0.01, … are tried 8 to a pass over the needs; the first that covers k
            // needs wins (or the last before 64-bit overflow, where the search gives up).
            var firstPass = true
            search: while true {
                var candidates: [UInt64] = [s]
                while candidates.count < 8, case let (next, false) = candidates[candidates.count - 1]
                    .addingReportingOverflow(100)
                {
                    candidates.append(next)
                }
                var covered = [Int](repeating: 0, count: candidates.count)
                let withCurrent = firstPass
                forEachNeed { n in
                    if withCurrent { current.add(n) }
                    for j in candidates.indices where covers(candidates[j], n) { covered[j] += 1 }
                }
                firstPass = false
                for j in candidates.indices where covered[j] >= k {
                    s = candidates[j]
                    break search
                }
                s = candidates[candidates.count - 1]
                guard case let (next, false) = s.addingReportingOverflow(100) else { break }
                s = next
            }
            slack = s
        }
        let now = current.figures
        let at: (covered: Int, requested: Double, waste: Double)
        if let slack, slack != currentSlack {
            var cost = Cost(slack)
            forEachNeed { cost.add($0) }
            at = cost.figures
        } else {
            at = now
        }
        return Recommendation(
            target: target, eligible: needCount, minimumJobs: minimum, slack: slack, covered: slack == nil ? 0 : at.covered,
            currentSlack: currentSlack, currentCovered: now.covered, requestedGiB: slack == nil ? 0 : at.requested,
            currentRequestedGiB: now.requested, wasteGiBHours: slack == nil ? 0 : at.waste,
            currentWasteGiBHours: now.waste)
    }
}

/// One listed job as the summary counts it.
struct Counted {
    var figures: EntryFigures
    var source: PredictionSource
    /// Group ids (`ReportCounter.pathIDs`, …); -1 for a job without a prediction.
    var path = -1
    var model = -1
    var rank = -1
    var need: AuditReport.Need?
}

/// Reads a job table for the report: counts a job, and goes through the listed jobs again.
struct ReportCounter<Table: ReportJobTable> {
    let table: Table
    let settings: AuditSettings
    /// Predictions recomputed from comments, and for each job without a usable record, in order,
    /// the index of its prediction here or -1 (filled by the first pass, read by the next ones).
    var predictions: [RecomputedPrediction] = []
    var outcomes: [Int32] = []
    var pathIDs = NameIDs(), modelIDs = NameIDs(), rankIDs = NameIDs()
    var sawMultiRank = false
    /// The groups (path, model, ranks) of each record class seen (`ReportJob.classID`).
    private var classGroups: [(path: Int, model: Int, rank: Int)?] = []

    init(table: Table, settings: AuditSettings) {
        self.table = table
        self.settings = settings
    }

    /// A listed job's figures, groups and need.
    @inline(__always)
    mutating func count(_ job: ReportJob, at i: Int, source: PredictionSource, prediction: RecomputedPrediction?)
        -> Counted
    {
        let f = job.figures
        let requested = job.requested
        var nearMiss = false
        if !f.oom, let r = requested, let p = f.peak, Double(p) >= settings.nearMiss * Double(r) {
            nearMiss = true
        }
        var predicted = prediction?.totalBytes
        if case .record(_, let p) = job.found { predicted = p }
        var c = Counted(
            figures: EntryFigures(f, predicted: predicted, requested: requested, nearMiss: nearMiss), source: source)
        guard source != .none else { return c }
        c.need = AuditReport.Need(f, predicted: predicted, requested: requested)
        let k = job.classID
        if k >= 0 && k < classGroups.count, let g = classGroups[k] {
            (c.path, c.model, c.rank) = g
            return c
        }
        var record: RecordClass? = nil
        if case .record = job.found { record = table.recordClass(i) }
        c.path = pathIDs.id(record?.path ?? prediction?.path ?? "?")
        c.model = modelIDs.id(record?.model ?? prediction?.model ?? "?")
        switch record?.ranks {
        case nil, .single?: c.rank = rankIDs.id("1")
        case .perNode(let r)?: c.rank = rankIDs.id(String(r)); sawMultiRank = true
        case .perCPU?: c.rank = rankIDs.id("per-CPU"); sawMultiRank = true
        }
        if k >= 0 {
            if k >= classGroups.count { classGroups += repeatElement(nil, count: k + 1 - classGroups.count) }
            classGroups[k] = (c.path, c.model, c.rank)
        }
        return c
    }

    /// Goes through the listed jobs again, in order (after the first pass).
    mutating func forEachListed(_ body: (Counted) -> Void) {
        var next = 0
        for i in 0..<table.count {
            let job = table.job(i)
            var source = PredictionSource.record
            var prediction: RecomputedPrediction? = nil
            if case .record = job.found {} else {
                let k = next < outcomes.count ? outcomes[next] : -1
                next += 1
                if k >= 0 { prediction = predictions[Int(k)] }
                source = prediction == nil ? .none : .recomputed
                if source == .none && !settings.includeAll { continue }
            }
            body(count(job, at: i, source: source, prediction: prediction))
        }
    }

    /// The quantiles of each group's ratios (peak / predicted, requested / peak): the values of one
    /// ratio are gathered for all groups (`group` gives a job's, -1 for none), selected, and dropped
    /// before the other's are gathered.
    mutating func quantiles(groups tallies: [GroupTally], group: (Counted) -> Int) -> [(Quantiles?, Quantiles?)] {
        var result = [(Quantiles?, Quantiles?)](repeating: (nil, nil), count: tallies.count)
        for ratio in 0..<2 {
            var values = tallies.map { t -> [Double] in
                var v: [Double] = []
                v.reserveCapacity(ratio == 0 ? t.measuredOverPredicted : t.requestedOverMeasured)
                return v
            }
            forEachListed { c in
                let g = group(c)
                guard g >= 0, let v = ratio == 0 ? c.figures.measuredOverPredicted : c.figures.requestedOverMeasured
                else { return }
                values[g].append(v)
            }
            for g in values.indices {
                let q = Quantiles(selectingIn: &values[g])
                values[g] = []
                if ratio == 0 { result[g].0 = q } else { result[g].1 = q }
            }
        }
        return result
    }
}
