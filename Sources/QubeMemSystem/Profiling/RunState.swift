/// The timeline and stage bookkeeping of one run (pure: no system calls).
struct RunState {
    let interval: Double
    var samples: [ProfileResult.Sample] = []
    var stages: [ProfileResult.Stage] = []
    var open: [Int] = []
    var peak: UInt64 = 0, peakTime = 0.0
    var peakSampled: UInt64 = 0, peakSampledTime = 0.0
    /// The largest cgroup charge sampled, bytes, and when.
    var cgroupPeakSampled: UInt64 = 0, cgroupPeakSampledTime = 0.0
    var bestRollup: SmapsRollup?
    var bestRollupTime: Double?
    var lastRollupTime = -1e9
    var lastPeakRollupTime = -1e9
    var lastRSS: UInt64 = 0
    /// Index in `samples` of the first sample of the window not yet closed by a marks reading.
    var windowStart = 0

    init(interval: Double) { self.interval = interval }

    /// Seconds the last smaps_rollup read took: the kernel walks every page table for it, which
    /// for a process of many GiB costs milliseconds.
    var rollupCost = 0.0

    /// A rollup is read at a new high of Σ RSS (1% above the last breakdown) and every
    /// `pssEvery` seconds for the PSS line; never sooner than 0.25 s nor than 200 × the last
    /// read's cost after the previous one, which keeps it under 0.5% of a core.
    mutating func wantsRollup(rss: UInt64, at t: Double, pssEvery: Double) -> Bool {
        guard pssEvery > 0 else { return false }
        let gap = max(0.25, 200 * rollupCost)
        let best = bestRollup?.rss ?? 0
        if rss > best &+ best / 100, t - lastPeakRollupTime >= gap, t - lastRollupTime >= gap {
            lastPeakRollupTime = t
            return true
        }
        return t - lastRollupTime >= max(pssEvery, gap)
    }

    mutating func noteRollup(_ r: SmapsRollup, at t: Double, cost: Double = 0) {
        lastRollupTime = t
        rollupCost = cost
        if r.rss >= (bestRollup?.rss ?? 0) {
            bestRollup = r
            bestRollupTime = t
        }
    }

    /// Adds a sample. A reading without marks only adds a timeline point (its bound is provisional);
    /// one with marks closes the window: its bound becomes every window sample's `intervalPeakBytes`
    /// (each interval lies inside the window, so it bounds each of them) and counts for the peak
    /// and the open stages at this sample's time. Stage events close a window, so a window never
    /// spans two stages.
    mutating func record(_ r: TreeSampler.IntervalReading, pss: UInt64?, cgroup: UInt64? = nil, at t: Double) {
        samples.append(.init(time: t, rssBytes: r.rssBytes, intervalPeakBytes: r.intervalPeakBytes,
                             pssBytes: pss, processes: r.processes, cgroupBytes: cgroup, stage: open.last))
        if let c = cgroup, c > cgroupPeakSampled { cgroupPeakSampled = c; cgroupPeakSampledTime = t }
        lastRSS = r.rssBytes
        if r.rssBytes > peakSampled { peakSampled = r.rssBytes; peakSampledTime = t }
        for i in open { stages[i].peakSampledBytes = max(stages[i].peakSampledBytes, r.rssBytes) }
        guard r.marksRead else { return }
        for k in windowStart..<(samples.count - 1) {
            samples[k].intervalPeakBytes = max(samples[k].rssBytes, r.intervalPeakBytes)
        }
        windowStart = samples.count
        if r.intervalPeakBytes > peak { peak = r.intervalPeakBytes; peakTime = t }
        for i in open where r.intervalPeakBytes > stages[i].peakBytes {
            stages[i].peakBytes = r.intervalPeakBytes
            stages[i].peakTime = t
        }
    }

    /// Applies an event right after the sample that closed the interval before it.
    mutating func apply(_ event: StageEvent, at t: Double) {
        switch event {
        case .enter(let name):
            stages.append(.init(name: name, depth: open.count, enter: t, exit: nil, entryRSSBytes: lastRSS,
                                exitRSSBytes: nil, peakBytes: lastRSS, peakTime: t, peakSampledBytes: lastRSS))
            open.append(stages.count - 1)
        case .exit(let name):
            guard let k = open.lastIndex(where: { stages[$0].name == name }) else { return }
            for i in open[k...] {
                stages[i].exit = t
                stages[i].exitRSSBytes = lastRSS
            }
            open.removeSubrange(k...)
        }
    }

    mutating func closeStages(at t: Double) {
        for i in open where stages[i].exit == nil {
            stages[i].exit = t
            stages[i].exitRSSBytes = lastRSS
        }
        open = []
    }
}
