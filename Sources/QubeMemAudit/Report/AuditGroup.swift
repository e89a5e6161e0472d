public import QubeMemSlurm

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
