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
            peakBytes: job.peakBytes, peakBasis: job.peakBasis, nodes: job.nodes, elapsedSeconds: job.elapsedSeconds,
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
public struct AuditGroup: Sendable {
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

    init(name: String, _ tally: consuming GroupTally) {
        self.name = name
        jobs = tally.jobs
        for (i, n) in tally.states.enumerated() where n > 0 { byState[JobState.allCases[i]] = n }
        oom = tally.oom
        nearMisses = tally.nearMisses
        noData = tally.noData
        measuredOverPredicted = Quantiles(selectingIn: &tally.measuredOverPredicted)
        requestedOverMeasured = Quantiles(selectingIn: &tally.requestedOverMeasured)
        wastedGiB = tally.wastedGiB
        wastedGiBHours = tally.wastedGiBHours
    }
}

/// A group's figures as its entries are counted (one pass over all entries fills every group).
struct GroupTally {
    var jobs = 0
    /// Jobs per state, indexed like `JobState.allCases`.
    var states = [Int](repeating: 0, count: JobState.allCases.count)
    var oom = 0
    var nearMisses = 0
    var noData = 0
    var measuredOverPredicted: [Double] = []
    var requestedOverMeasured: [Double] = []
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
        if let v = f.measuredOverPredicted { measuredOverPredicted.append(v) }
        if let v = f.requestedOverMeasured { requestedOverMeasured.append(v) }
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

/// The plain figures of an `AccountedJob` that the report reads (read once, without copying the job).
struct JobFigures {
    var state: JobState
    var oom: Bool
    var peak: UInt64?
    var requestedPerNode: UInt64?
    var nodes: UInt32
    var elapsedSeconds: UInt64

    @inline(__always)
    init(_ job: UnsafePointer<AccountedJob>) {
        // Stored properties only: a computed one would copy the whole job to call its getter.
        state = job.pointee.state
        oom = state == .outOfMemory || job.pointee.oomStep  // AccountedJob.outOfMemory
        peak = job.pointee.peakBytes
        nodes = job.pointee.nodes
        requestedPerNode = job.pointee.requested?.perNodeBytes(nodes: nodes, cpus: job.pointee.cpus)
        elapsedSeconds = job.pointee.elapsedSeconds
    }
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
public struct Recommendation: Sendable {
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
    /// The jobs listed: those with a prediction, or all with `--all`.
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

    /// Builds the report.
    /// - Parameters:
    ///   - jobs: finished jobs from `SacctAccumulator.finishedJobs`.
    ///   - settings: target, near-miss threshold, `--all`, current slack.
    ///   - recompute: prices a job comment with the current model.
    public init(jobs: [AccountedJob], settings: AuditSettings, recompute: Recompute) {
        self.settings = settings
        var listed: [AuditEntries.Listed] = []
        listed.reserveCapacity(jobs.count)
        var recomputedPredictions: [RecomputedPrediction] = []
        var notes: [String] = []
        var withRecord = 0, recomputed = 0, none = 0, badRecords = 0, badComments = 0
        // Votes for the slack in force: few distinct values, so a list beats a dictionary.
        var slackVotes: [(slack: UInt64, votes: Int)] = []
        var lastVote = -1
        // The summary groups are counted as the jobs are read, each job's figures computed once.
        var overallTally = GroupTally()
        var pathIDs = NameIDs(), modelIDs = NameIDs()
        var pathTallies: [GroupTally] = [], modelTallies: [GroupTally] = []
        var rankIDs = NameIDs(), rankTallies: [GroupTally] = [], sawMultiRank = false
        var needs: [Need] = []
        jobs.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            for i in all.indices {
                let job = base + i
                var source = PredictionSource.none
                var record: AdminRecord? = nil
                var prediction: RecomputedPrediction? = nil
                var note: String? = nil
                func add(note text: String) {
                    if let earlier = note { note = earlier + "; " + text } else { note = text }
                }
                switch job.pointee.record {
                case .record(let r):
                    source = .record
                    record = r
                    if lastVote < 0 || slackVotes[lastVote].slack != r.slackTenThousandths {
                        lastVote = slackVotes.firstIndex { $0.slack == r.slackTenThousandths } ?? -1
                        if lastVote < 0 {
                            lastVote = slackVotes.count
                            slackVotes.append((r.slackTenThousandths, 0))
                        }
                    }
                    slackVotes[lastVote].votes += 1
                case .warned:
                    add(note: "the plugin could not read the qube comment and left the job as submitted (action=warn)")
                case .invalid(let why):
                    badRecords += 1
                    add(note: "AdminComment record unreadable: \(why)")
                case .none:
                    break
                }
                if source == .none {
                    switch recompute(job.pointee.comment) {
                    case .some(.success(let p)):
                        source = .recomputed
                        prediction = p
                    case .some(.failure(let e)):
                        badComments += 1
                        add(note: "qube comment not priced: \(e.description)")
                    case nil:
                        break
                    }
                }
                switch source {
                case .record: withRecord += 1
                case .recomputed: recomputed += 1
                case .none: none += 1
                }
                if source == .none && !settings.includeAll { continue }
                let f = JobFigures(job)
                let requested = AuditEntry.requested(perNode: f.requestedPerNode, record: record)
                var nearMiss = false
                if !f.oom, let r = requested, let p = f.peak, Double(p) >= settings.nearMiss * Double(r) {
                    nearMiss = true
                }
                let predicted = AuditEntry.predicted(record, cpus: job.pointee.cpus, nodes: job.pointee.nodes)
                    ?? prediction?.totalBytes
                let figures = EntryFigures(f, predicted: predicted, requested: requested, nearMiss: nearMiss)
                overallTally.add(figures)
                if source != .none {
                    let p = pathIDs.id(record?.path ?? prediction?.path ?? "?")
                    if p == pathTallies.count { pathTallies.append(GroupTally()) }
                    pathTallies[p].add(figures)
                    let m = modelIDs.id(record?.model ?? prediction?.model ?? "?")
                    if m == modelTallies.count { modelTallies.append(GroupTally()) }
                    modelTallies[m].add(figures)
                    let ranksName: String
                    switch record?.ranks {
                    case nil: ranksName = "1"
                    case .perNode(let r, _): ranksName = String(r); sawMultiRank = true
                    case .perCPU: ranksName = "per-CPU"; sawMultiRank = true
                    }
                    let k = rankIDs.id(ranksName)
                    if k == rankTallies.count { rankTallies.append(GroupTally()) }
                    rankTallies[k].add(figures)
                    if let need = Need(f, predicted: predicted, requested: requested) { needs.append(need) }
                }
                var entry = AuditEntries.Listed(job: i, recomputed: -1, note: -1, source: source, nearMiss: nearMiss)
                if let prediction {
                    entry.recomputed = Int32(truncatingIfNeeded: recomputedPredictions.count)
                    recomputedPredictions.append(prediction)
                }
                if let note {
                    entry.note = Int32(truncatingIfNeeded: notes.count)
                    notes.append(note)
                }
                listed.append(entry)
            }
        }
        entries = AuditEntries(jobs: jobs, listed: listed, recomputed: recomputedPredictions, notes: notes)
        let overall = AuditGroup(name: "all", overallTally)
        self.overall = overall
        byPath = Self.groups(pathTallies, names: pathIDs.names, prefix: "path ", overall: overall)
        byModel = Self.groups(modelTallies, names: modelIDs.names, prefix: "model ", overall: overall)
        byRanks = sawMultiRank ? Self.groups(rankTallies, names: rankIDs.names, prefix: "ranks ", overall: overall) : []
        finishedJobs = jobs.count
        self.withRecord = withRecord
        self.recomputed = recomputed
        withoutPrediction = none
        unreadableRecords = badRecords
        unpricedComments = badComments
        let voted = slackVotes.max { a, b in a.votes < b.votes || (a.votes == b.votes && a.slack > b.slack) }?.slack
        let current = settings.currentSlack ?? voted ?? settings.fallbackSlack
        recommendation = Self.recommend(needs, target: settings.target, currentSlack: current)
    }

    /// The groups of a grouping, sorted by name. A single group holding every listed job (one model,
    /// say) has the overall figures: they are not computed again.
    static func groups(_ tallies: [GroupTally], names: [String], prefix: String, overall: AuditGroup)
        -> [AuditGroup]
    {
        if tallies.count == 1 && tallies[0].jobs == overall.jobs {
            var group = overall
            group.name = prefix + names[0]
            return [group]
        }
        return names.indices.sorted { names[$0] < names[$1] }.map { AuditGroup(name: prefix + names[$0], tallies[$0]) }
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
        let minimum = max(20, Int((1 / max(1 - target, 1e-9)).rounded(.up)))
        func cost(_ slack: UInt64) -> (covered: Int, requested: Double, waste: Double) {
            var covered = 0
            var requested = 0.0
            var waste = 0.0
            for n in needs {
                if covers(slack, n) { covered += 1 }
                let r = requestBytes(total: n.total, slack: slack) * Double(max(n.nodes, 1))
                requested += r
                let unused = max(0, r - Double(n.peak) * Double(max(n.nodes, 1)))
                waste += unused / 1_073_741_824 * n.hours
            }
            return (covered, requested / 1_073_741_824, waste)
        }
        var slack: UInt64? = nil
        if !needs.isEmpty {
            var ratios = needs.map(\.ratio)
            let k = min(max(Int((target * Double(ratios.count)).rounded(.up)), 1), ratios.count)
            Quantiles.select(&ratios, k - 1, from: 0)
            // Smallest multiple of 0.01 covering the k-th smallest need; coverage is then checked
            // exactly, since OUT_OF_MEMORY needs are strict. The start is capped so that it fits
            // in 64 bits, and so is the search, which ends even for an absurd ratio (a record
            // predicting a few bytes).
            var s = UInt64(min(max(0, (ratios[k - 1] * 100).rounded(.down)), 1.8e17)) * 100
            while needs.lazy.filter({ covers(s, $0) }).count < k {
                let (next, overflow) = s.addingReportingOverflow(100)
                if overflow { break }
                s = next
            }
            slack = s
        }
        let now = cost(currentSlack)
        let at = slack.map { $0 == currentSlack ? now : cost($0) } ?? now
        return Recommendation(
            target: target, eligible: needs.count, minimumJobs: minimum, slack: slack, covered: slack == nil ? 0 : at.covered,
            currentSlack: currentSlack, currentCovered: now.covered, requestedGiB: slack == nil ? 0 : at.requested,
            currentRequestedGiB: now.requested, wasteGiBHours: slack == nil ? 0 : at.waste,
            currentWasteGiBHours: now.waste)
    }
}
