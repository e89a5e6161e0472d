import QubeMemSlurm

/// The table of jobs being merged: finding a job's slot (by bisection while sacct's order holds,
/// then through `JobIndex`) and appending new jobs.
extension SacctAccumulator {
    /// The key of the job in a slot of the table kept.
    @inline(__always)
    private func key(at slot: Int) -> JobKey {
        keeping == .jobs ? records[slot].key : summary.jobs[slot].key
    }

    private var tableCount: Int { keeping == .jobs ? records.count : summary.jobs.count }

    /// The slot of a job already in the table.
    mutating func existingSlot(_ key: JobKey) -> Int? {
        // sacct prints a job's steps right after it: most lookups are for the previous row's job;
        // steps read apart from their jobs (`addStep`) come in job order: most of the others are
        // for the next job.
        if key == lastKey, lastSlot >= 0 { return lastSlot }
        var slot = -1
        if lastSlot >= 0, lastSlot + 1 < tableCount, self.key(at: lastSlot + 1) == key {
            slot = lastSlot + 1
        } else if inOrder {
            // Sorted table: a key above the last is new; any other is found by bisection.
            let n = tableCount
            guard n > 0, !(self.key(at: n - 1) < key) else { return nil }
            var lo = 0, hi = n - 1
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if self.key(at: mid) < key { lo = mid + 1 } else { hi = mid }
            }
            if self.key(at: lo) == key { slot = lo }
        } else if keeping == .jobs {
            slot = index.slot(of: key) { records[$0].key }
        } else {
            slot = index.slot(of: key) { summary.jobs[$0].key }
        }
        guard slot >= 0 else { return nil }
        lastKey = key
        lastSlot = slot
        return slot
    }

    /// Notes a job appended at `slot` (the last): keeps the bisection order, or the index.
    private mutating func noteAppended(_ slot: Int, key: JobKey) {
        if inOrder && slot > 0 && !(self.key(at: slot - 1) < key) {
            // The first job out of order: index every job from now on.
            inOrder = false
            for s in 0..<slot { index.insert(s, key: self.key(at: s)) }
        }
        if !inOrder { index.insert(slot, key: key) }
        lastKey = key
        lastSlot = slot
    }

    /// Adds a job not in the table yet; returns its slot.
    @discardableResult
    mutating func append(_ job: consuming AccountedJob) -> Int {
        let slot = records.count
        records.append(job)
        noteAppended(slot, key: records[slot].key)
        return slot
    }

    /// Adds a job not in the summary table yet; returns its slot.
    @discardableResult
    mutating func appendSummary(_ job: SummaryJob) -> Int {
        let slot = summary.jobs.count
        summary.jobs.append(job)
        noteAppended(slot, key: job.key)
        return slot
    }
}
