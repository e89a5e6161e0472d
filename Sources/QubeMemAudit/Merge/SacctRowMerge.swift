import QubeMemSlurm

/// What one row adds to its job: a step row's peak, an allocation row's figures (whole, or as the
/// summary keeps them).
extension SacctAccumulator {
    /// The peak per node of one step (see `PeakBasis`).
    static func nodePeak(maxRSS: UInt64, tasks: UInt64, nodes: UInt64, taskSum: UInt64?)
        -> (UInt64, PeakBasis)
    {
        if tasks <= 1 { return (maxRSS, .singleTask) }
        if nodes <= 1 {
            if let taskSum, taskSum >= maxRSS { return (taskSum, .taskSum) }
            let (p, o) = maxRSS.multipliedReportingOverflow(by: tasks)
            return (o ? UInt64.max : p, .taskSum)
        }
        let busiest = tasks > nodes ? tasks - nodes + 1 : 1
        let (p, o) = maxRSS.multipliedReportingOverflow(by: busiest)
        var bound = o ? UInt64.max : p
        if let taskSum, taskSum < bound { bound = taskSum }
        return (max(bound, maxRSS), .multiNodeBound)
    }

    /// A step row's figures merged into its job (one access to the job table).
    @inline(__always)
    static func addStep(to job: inout AccountedJob, outOfMemory: Bool, peak: (UInt64, PeakBasis)?) {
        job.stepRows &+= 1
        if outOfMemory { job.oomStep = true }
        if let (figure, basis) = peak {
            if let current = job.peakBytes {
                if figure > current { job.peakBytes = figure }
            } else {
                job.peakBytes = figure
            }
            if basis > job.peakBasis { job.peakBasis = basis }
        }
    }

    /// What an allocation row says of its job.
    struct Allocation {
        var state: JobState
        var name, user, account, partition: String
        var elapsedSeconds: UInt64
        var nodes, cpus: UInt32
        var requested: RequestedMemory?
        var comment: String
        var record: AdminRecord.Found

        @inline(__always)
        func apply(to job: inout AccountedJob) {
            job.hasAllocation = true
            job.state = state
            job.name = name
            job.user = user
            job.account = account
            job.partition = partition
            job.elapsedSeconds = elapsedSeconds
            job.nodes = nodes
            job.cpus = cpus
            job.requested = requested
            job.record = record
            job.comment = comment
        }
    }

    /// An allocation row's figures, for `keeping: .summary`: what the report would work out from
    /// the whole row (`AuditEntry.requested`, `.predicted`) is worked out now, and the rest dropped.
    mutating func addSummaryAllocation(
        key: JobKey, slot: Int?, state: JobState, elapsed: UInt64, nodes: UInt32, cpus: UInt32,
        requested: RequestedMemory?, record: AdminRecord.Found, comment: UnsafeBufferPointer<UInt8>
    ) {
        var job = slot.map { summary.jobs[$0] } ?? SummaryJob(key: key)
        job.bits |= SummaryJob.hasAllocation
        job.state = state
        job.elapsedSeconds = elapsed
        job.nodes = nodes
        var request = requested?.perNodeBytes(nodes: nodes, cpus: cpus)
        var predicted: UInt64? = nil
        switch record {
        case .record(let r):
            job.found = .record
            job.aux = UInt32(truncatingIfNeeded: classIDs.id(RecordClass(r), in: &summary.classes))
            request = AuditEntry.requested(perNode: request, record: r)
            predicted = AuditEntry.predicted(r, cpus: cpus, nodes: nodes)
        case .warned, .invalid, .none:
            // As `AccountedJob.comment`: kept when there is no usable record.
            job.aux = UInt32(truncatingIfNeeded: summary.comments.count)
            summary.comments.append(text(comment))
            if case .invalid(let why) = record {
                job.found = .invalid
                summary.reasons.append(why)
            } else {
                job.found = record == .warned ? .warned : .none
                summary.reasons.append(nil)
            }
        }
        job.requested = request ?? 0
        job.set(SummaryJob.hasRequested, request != nil)
        job.predicted = predicted ?? 0
        job.set(SummaryJob.hasPredicted, predicted != nil)
        if let slot {
            summary.jobs[slot] = job
        } else {
            appendSummary(job)
        }
    }
}
