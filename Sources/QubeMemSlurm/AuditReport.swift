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

    public var measuredOverPredicted: Double? {
        guard let p = peakBytes, let q = predictedBytes, q > 0 else { return nil }
        return Double(p) / Double(q)
    }

    public var requestedOverMeasured: Double? {
        guard let r = requestedBytes, let p = peakBytes, p > 0 else { return nil }
        return Double(r) / Double(p)
    }

    /// Requested minus used, per node × nodes, bytes (0 when the job used all of it).
    public var wastedBytes: UInt64? {
        guard let r = requestedBytes, let p = peakBytes else { return nil }
        let perNode = r > p ? r - p : 0
        let (w, o) = perNode.multipliedReportingOverflow(by: UInt64(max(nodes, 1)))
        return o ? UInt64.max : w
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
        guard !values.isEmpty else { return nil }
        var work = values
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

    init(name: String, entries: some Sequence<AuditEntry>) {
        self.name = name
        var mp: [Double] = []
        var rm: [Double] = []
        for e in entries {
            jobs += 1
            byState[e.state, default: 0] += 1
            if e.oom { oom += 1 }
            if e.nearMiss { nearMisses += 1 }
            if e.peakBytes == nil { noData += 1 }
            if let v = e.measuredOverPredicted { mp.append(v) }
            if let v = e.requestedOverMeasured { rm.append(v) }
            if let w = e.wastedBytes {
                let gib = Double(w) / 1_073_741_824
                wastedGiB += gib
                wastedGiBHours += gib * Double(e.elapsedSeconds) / 3600
            }
        }
        measuredOverPredicted = Quantiles(mp)
        requestedOverMeasured = Quantiles(rm)
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
    public var entries: [AuditEntry]
    public var overall: AuditGroup
    public var byPath: [AuditGroup]
    public var byModel: [AuditGroup]
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
        var all: [AuditEntry] = []
        all.reserveCapacity(jobs.count)
        var withRecord = 0, recomputed = 0, none = 0, badRecords = 0, badComments = 0
        var slackVotes: [UInt64: Int] = [:]
        for job in jobs {
            var entry = AuditEntry(
                key: job.key, name: job.name, user: job.user, account: job.account,
                partition: job.partition, state: job.state, source: .none, action: nil, model: nil, path: nil,
                predictedBytes: nil, requestedBytes: job.requestedPerNodeBytes, peakBytes: job.peakBytes,
                peakBasis: job.peakBasis, nodes: job.nodes, elapsedSeconds: job.elapsedSeconds,
                oom: job.outOfMemory, nearMiss: false, slack: nil, note: nil)
            var notes: [String] = []
            switch job.record {
            case .record(let r):
                entry.source = .record
                entry.action = r.action
                entry.model = r.model
                entry.path = r.path
                entry.predictedBytes = r.predictedTotalBytes
                entry.slack = r.slackTenThousandths
                if entry.requestedBytes == nil {
                    let (b, o) = r.requestMiB.multipliedReportingOverflow(by: 1 << 20)
                    entry.requestedBytes = o ? nil : b
                }
                slackVotes[r.slackTenThousandths, default: 0] += 1
            case .warned:
                notes.append("the plugin could not read the qube comment and left the job as submitted (action=warn)")
            case .invalid(let why):
                badRecords += 1
                notes.append("AdminComment record unreadable: \(why)")
            case .none:
                break
            }
            if entry.source == .none {
                switch recompute(job.comment) {
                case .some(.success(let p)):
                    entry.source = .recomputed
                    entry.model = p.model
                    entry.path = p.path
                    entry.predictedBytes = p.totalBytes
                case .some(.failure(let e)):
                    badComments += 1
                    notes.append("qube comment not priced: \(e.description)")
                case nil:
                    break
                }
            }
            switch entry.source {
            case .record: withRecord += 1
            case .recomputed: recomputed += 1
            case .none: none += 1
            }
            if !entry.oom, let r = entry.requestedBytes, let p = entry.peakBytes,
               Double(p) >= settings.nearMiss * Double(r)
            {
                entry.nearMiss = true
            }
            if !notes.isEmpty { entry.note = notes.joined(separator: "; ") }
            all.append(entry)
        }
        if !settings.includeAll { all.removeAll { $0.source == .none } }
        entries = all
        overall = AuditGroup(name: "all", entries: all[...])
        byPath = Self.groups(all, by: { $0.path }, prefix: "path ")
        byModel = Self.groups(all, by: { $0.model }, prefix: "model ")
        finishedJobs = jobs.count
        self.withRecord = withRecord
        self.recomputed = recomputed
        withoutPrediction = none
        unreadableRecords = badRecords
        unpricedComments = badComments
        let voted = slackVotes.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }?.key
        let current = settings.currentSlack ?? voted ?? settings.fallbackSlack
        recommendation = Self.recommend(all, target: settings.target, currentSlack: current)
    }

    /// Groups of the entries that have a prediction, by a key.
    static func groups(_ entries: [AuditEntry], by key: (AuditEntry) -> String?, prefix: String) -> [AuditGroup] {
        var buckets: [String: [Int]] = [:]
        for (i, e) in entries.enumerated() where e.source != .none {
            buckets[key(e) ?? "?", default: []].append(i)
        }
        return buckets.keys.sorted().map { name in
            AuditGroup(name: prefix + name, entries: (buckets[name] ?? []).lazy.map { entries[$0] })
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
        guard product.high < divisor else { return Double(total) * Double(slack) / 10_000 }
        let (q, r) = divisor.dividingFullWidth(product)
        return (Double(q) + (r > 0 ? 1 : 0)) * 1_048_576
    }

    static func recommend(_ entries: [AuditEntry], target: Double, currentSlack: UInt64) -> Recommendation {
        var needs: [Need] = []
        for e in entries where e.source != .none {
            guard let total = e.predictedBytes, total > 0, let peak = e.peakBytes else { continue }
            let hours = Double(e.elapsedSeconds) / 3600
            if e.oom {
                // The job needed more than it was given; the limit is what it reached at least.
                let reached = max(peak, e.requestedBytes ?? 0)
                needs.append(Need(ratio: Double(reached) / Double(total), strict: true, total: total,
                                  peak: reached, nodes: e.nodes, hours: hours))
            } else if e.state == .completed {
                needs.append(Need(ratio: Double(peak) / Double(total), strict: false, total: total,
                                  peak: peak, nodes: e.nodes, hours: hours))
            }
        }
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
            let sorted = needs.sorted { $0.ratio < $1.ratio }
            let k = min(max(Int((target * Double(sorted.count)).rounded(.up)), 1), sorted.count)
            // Smallest multiple of 0.01 covering the k-th smallest need; coverage is then checked
            // exactly, since OUT_OF_MEMORY needs are strict.
            var s = UInt64(min(max(0, (sorted[k - 1].ratio * 100).rounded(.down)), 1e12)) * 100
            while sorted.lazy.filter({ covers(s, $0) }).count < k { s += 100 }
            slack = s
        }
        let at = cost(slack ?? currentSlack)
        let now = cost(currentSlack)
        return Recommendation(
            target: target, eligible: needs.count, minimumJobs: minimum, slack: slack, covered: slack == nil ? 0 : at.covered,
            currentSlack: currentSlack, currentCovered: now.covered, requestedGiB: slack == nil ? 0 : at.requested,
            currentRequestedGiB: now.requested, wasteGiBHours: slack == nil ? 0 : at.waste,
            currentWasteGiBHours: now.waste)
    }
}
