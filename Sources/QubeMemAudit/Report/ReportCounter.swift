import QubeMemSlurm

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
