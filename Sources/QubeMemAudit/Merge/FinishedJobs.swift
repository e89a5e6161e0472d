import QubeMemSlurm

/// A job of one of the merge's tables, as the finished-job filter sees it.
protocol MergedJob {
    var key: JobKey { get }
    /// Its allocation row was read and says the job has ended.
    var isFinishedAllocation: Bool { get }
}

extension AccountedJob: MergedJob {
    var isFinishedAllocation: Bool { hasAllocation && !state.isLive }
}

extension SummaryJob: MergedJob {
    var isFinishedAllocation: Bool { has(SummaryJob.hasAllocation) && !state.isLive }
}

extension SacctAccumulator {
    /// Leaves in `jobs` the jobs the audit lists, in key order: those whose allocation row was read
    /// and says they ended, and that no other row (another array record, say) shows still live.
    ///
    /// In place and through pointers: `AccountedJob` is 264 bytes, and usually every job is listed
    /// and already in sacct's id order, so one read-only pass decides that nothing moves.
    static func keepFinished<Job: MergedJob>(_ jobs: inout [Job], liveKeys: Set<JobKey>) {
        let anyLive = !liveKeys.isEmpty
        @inline(__always) func unlisted(_ job: UnsafePointer<Job>) -> Bool {
            !job.pointee.isFinishedAllocation || (anyLive && liveKeys.contains(job.pointee.key))
        }
        let (sorted, allListed) = jobs.withUnsafeBufferPointer { b -> (Bool, Bool) in
            guard let base = b.baseAddress else { return (true, true) }
            var sorted = true, allListed = true
            for i in b.indices {
                if unlisted(base + i) { allListed = false }
                if i > 0 && !(base[i - 1].key < base[i].key) { sorted = false }
            }
            return (sorted, allListed)
        }
        if !allListed { jobs.removeAll { withUnsafePointer(to: $0) { unlisted($0) } } }
        if !sorted { jobs.sort { $0.key < $1.key } }
    }
}
