import QubeMemSlurm

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

/// How the recommendation is found: each job's need, and the smallest slack that covers the target.
extension AuditReport {
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
