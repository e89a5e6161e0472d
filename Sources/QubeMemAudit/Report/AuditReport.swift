import QubeMemSlurm

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
        let voted = slackVotes.max { a, b in a.votes < b.votes || (a.votes == b.votes && a.slack > b.slack) }?.slack
        let current = settings.currentSlack ?? voted ?? settings.fallbackSlack
        // The quantiles and the recommendation each go through the jobs again: at once, each
        // with its own copy of the counter (the table is only read). At 10 M jobs this is a
        // tenth of the audit, after the read, with a core otherwise idle (BENCHMARKS.md, issue 16).
        var needs = counter
        let target = settings.target
        let (groups, recommendation) = BothAtOnce.run({
            let overallQ = counter.quantiles(groups: [overallTally]) { _ in 0 }
            let overall = AuditGroup(name: "all", overallTally, measuredOverPredicted: overallQ[0].0,
                                     requestedOverMeasured: overallQ[0].1)
            let byPath = Self.groups(pathTallies, names: counter.pathIDs.names, prefix: "path ", overall: overall,
                                     counter: &counter) { $0.path }
            let byModel = Self.groups(modelTallies, names: counter.modelIDs.names, prefix: "model ", overall: overall,
                                      counter: &counter) { $0.model }
            let byRanks = counter.sawMultiRank
                ? Self.groups(rankTallies, names: counter.rankIDs.names, prefix: "ranks ", overall: overall,
                              counter: &counter) { $0.rank }
                : []
            return (overall, byPath, byModel, byRanks)
        }, {
            Self.recommend(needCount: eligible, target: target, currentSlack: current) { body in
                needs.forEachListed { c in if let n = c.need { body(n) } }
            }
        })
        (overall, byPath, byModel, byRanks) = groups
        self.recommendation = recommendation
        finishedJobs = table.count
        self.withRecord = withRecord
        self.recomputed = recomputed
        withoutPrediction = none
        unreadableRecords = badRecords
        unpricedComments = badComments
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
}
