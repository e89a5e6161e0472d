/// Follows a process tree through /proc and measures it, one sample at a time.
///
/// There are two kinds of sample. A *marks* sample (`sample(now:readMarks: true)`) reads every
/// member's VmRSS and VmHWM from `status`, then (when `resetHighWaterMarks` is on) resets the
/// VmHWM, so the next marks sample's VmHWM is the largest RSS that process reached *since this
/// one*, however short the excursion. A plain sample reads only `statm` (the RSS now, about a
/// sixth of the kernel's cost) and leaves the marks alone. The time between two marks samples is
/// a *window*; its peak bound, reported by the marks sample that closes it, is the sum of those
/// per-process maxima (never below any RSS a plain sample saw in the window), plus the ru_maxrss
/// of members reaped during the window. See `IntervalReading` for what that bound means.
public struct TreeSampler {
    public struct Member: Sendable, Equatable {
        public var pid: Int32
        public var ppid: Int32
        public var name: String
        /// Seconds after the start when first seen.
        public var firstSeen: Double
        /// Seconds after the start when its end was noticed (nil while alive).
        public var ended: Double?
        /// The largest VmHWM / ru_maxrss seen for it, bytes.
        public var peakBytes: UInt64 = 0
        /// Seconds after the start of the reading that found `peakBytes` (the peak itself came at
        /// most one marks window before; for a reaped process, at any time in its life).
        public var peakTime: Double = 0
        /// Its rank variable and command line, read when it was first seen and again when its
        /// command name changed (an exec).
        public var identity = ProcessIdentity()
        /// The RSS at the last sample, bytes.
        public var lastRSSBytes: UInt64 = 0
        /// Whether its rusage came from our own wait4 (exact to the end).
        public var reapedByProfiler = false
        /// The largest RSS plain samples saw since the last marks sample, bytes.
        var windowMaxRSSBytes: UInt64 = 0
        /// Threads at the last marks sample (0: not known yet).
        var threads: Int32 = 0
    }

    /// One sample of the tree.
    public struct IntervalReading: Sendable, Equatable {
        /// Σ VmRSS of the live members at the sample instant, bytes (a point of the timeline and a
        /// lower bound of the peak).
        public var rssBytes: UInt64 = 0
        /// When `marksRead`: Σ over members of their largest RSS during the window that ends here
        /// (since the previous marks sample), bytes: an upper bound of the tree's RSS at any
        /// instant of the window, and equal to it when the members' maxima coincide (always the
        /// case for a single process). Otherwise `rssBytes`: the window is still open.
        public var intervalPeakBytes: UInt64 = 0
        /// Live members.
        public var processes: Int = 0
        /// Whether this sample read the high-water marks and so closed a window.
        public var marksRead = true
    }

    public let source: any ProcessSource
    /// Anchors: the profiler itself (orphans are reparented to it, a subreaper) and the root.
    public private(set) var anchors: Set<Int32>
    public private(set) var members: [Int32: Member] = [:]
    /// Members whose parent is the profiler (the root, and orphans reparented to it) that it has
    /// not reaped yet: the pids it must wait for. Kept up to date, so that the loop does not
    /// search `members` for them.
    public private(set) var profilerChildren: [Int32] = []
    /// Pids known to be outside the tree (kept so they are not re-read every scan).
    private var outsiders: Set<Int32> = []
    private var lastScanPid: Int32?
    private var pendingEndedPeak: UInt64 = 0
    public var resetHighWaterMarks: Bool
    /// Take in processes whose parent is the profiler itself (orphans reparented to it, a
    /// subreaper). Off when the profiler runs inside a host that has children of its own.
    public var adoptOrphans = true
    /// When set, an adopted orphan must be in this process group (the root's own group).
    public var orphanGroup: Int32?
    /// Find new members from the children lists of the tree's processes (see `discover`). Off, or
    /// where the kernel does not offer the lists: probe the newly allocated pids instead.
    public var useChildrenLists = true
    /// False once a reset was refused: then VmHWM is a lifetime figure and the bound is looser.
    public private(set) var resetsWorked = true

    /// - Parameter lastPidBeforeSpawn: the kernel's last allocated pid read just before the root
    ///   was started: every descendant's pid comes after it, so no full scan of /proc is needed.
    public init(source: any ProcessSource, profilerPid: Int32, rootPid: Int32, resetHighWaterMarks: Bool = true,
                lastPidBeforeSpawn: Int32? = nil) {
        self.source = source
        self.lastScanPid = lastPidBeforeSpawn
        self.anchors = [profilerPid]
        self.resetHighWaterMarks = resetHighWaterMarks
        members[rootPid] = Member(pid: rootPid, ppid: profilerPid, name: "", firstSeen: 0)
        livePids = [rootPid]
        profilerChildren = [rootPid]
    }

    private mutating func markEnded(_ pid: Int32) {
        if let i = livePids.firstIndex(of: pid) { livePids.remove(at: i) }
        source.forget(pid)
    }

    /// Live members' pids, in the order they were found.
    public private(set) var livePids: [Int32] = []

    /// Finds processes born since the last scan whose parent is in the tree.
    ///
    /// Nothing is read when the kernel allocated no pid since the last scan
    /// (`sys/kernel/ns_last_pid`, one integer). Otherwise, first choice: the `task/TID/children`
    /// lists of the live members (every thread's, unless the member has one thread) and of the
    /// profiler's main thread (the kernel hands orphans to a subreaper's first live thread), read
    /// again for each new member: one cheap read per process of the tree, however many pids the
    /// rest of the machine allocates. A list read while the process forks or reaps may miss a
    /// child (the kernel documents it as exact only for a stopped process); the next scan finds
    /// it, its VmHWM still whole.
    ///
    /// Where those lists cannot be read, new pids are probed. Pids are handed out in increasing
    /// order, so a process born since the last scan has a pid
    /// after the last one the kernel had allocated then (loadavg's last field). When that range is
    /// short, only its pids are probed; when nothing was allocated, nothing is read; when the range
    /// is long or wrapped around, the whole /proc is listed. Threads share the pid space: a probed
    /// id whose Tgid differs from it is a thread, not a process.
    public mutating func discover(now: Double) {
        let last = source.lastPid()
        if let last, let previous = lastScanPid, last == previous { return }
        defer { lastScanPid = last }
        if useChildrenLists, scanChildren(now: now) { return }
        var fresh: [Int32: (ppid: Int32, name: String)] = [:]
        // A process whose parent is the profiler joins only as an adopted orphan of the tree.
        func adoptable(_ st: ProcStat) -> Bool {
            guard anchors.contains(st.ppid) else { return true }
            return adoptOrphans && (orphanGroup.map { st.pgrp == $0 } ?? true)
        }
        if let last, let previous = lastScanPid, last > previous, last - previous <= Self.probeLimit {
            for pid in (previous + 1)...last where members[pid] == nil && !anchors.contains(pid) {
                guard let st = source.stat(pid), anchors.contains(st.ppid) || members[st.ppid] != nil || fresh[st.ppid] != nil,
                      adoptable(st)
                else { continue }
                fresh[pid] = (st.ppid, st.comm)
            }
            // Only those whose parent is in the tree were kept: confirm they are not threads.
            for pid in Array(fresh.keys) {
                if let st = source.probeStatus(pid), st.tgid != 0, st.tgid != pid { fresh[pid] = nil }
            }
        } else {
            let present = source.pids()
            outsiders.formIntersection(present)
            for pid in present where members[pid] == nil && !outsiders.contains(pid) && !anchors.contains(pid) {
                if let st = source.stat(pid), adoptable(st) { fresh[pid] = (st.ppid, st.comm) }
            }
        }
        // Resolve parents among the new ones too (a child and its grandchild born in one interval).
        var progress = true
        while progress {
            progress = false
            for (pid, st) in fresh where anchors.contains(st.ppid) || members[st.ppid] != nil {
                members[pid] = Member(pid: pid, ppid: st.ppid, name: st.name, firstSeen: now,
                                      identity: source.identity(pid))
                livePids.append(pid)
                if anchors.contains(st.ppid) { profilerChildren.append(pid) }
                fresh[pid] = nil
                progress = true
            }
        }
        outsiders.formUnion(fresh.keys)
    }

    /// Adds the children of anchors and live members (and theirs, recursively) that are not members
    /// yet; false when the profiler's own list cannot be read (then `useChildrenLists` turns off).
    private mutating func scanChildren(now: Double) -> Bool {
        var queue: [(pid: Int32, anchor: Bool)] = anchors.map { ($0, true) }
        queue += livePids.map { ($0, false) }
        var k = 0
        while k < queue.count {
            let (parent, isAnchor) = queue[k]
            k += 1
            let tids: [Int32]
            if isAnchor || members[parent]?.threads == 1 {
                tids = [parent]
            } else {
                tids = source.threads(of: parent)
            }
            for tid in tids {
                guard let kids = source.children(of: parent, thread: tid) else {
                    if isAnchor {
                        useChildrenLists = false
                        return false
                    }
                    continue
                }
                for child in kids where members[child] == nil && !anchors.contains(child) {
                    // Reparented since the list was read: the next scan finds it under its new parent.
                    guard let st = source.stat(child), st.ppid == parent else { continue }
                    // A child of the profiler joins only as an adopted orphan of the tree.
                    if isAnchor, !(adoptOrphans && (orphanGroup.map { st.pgrp == $0 } ?? true)) { continue }
                    members[child] = Member(pid: child, ppid: st.ppid, name: st.comm, firstSeen: now,
                                            identity: source.identity(child))
                    livePids.append(child)
                    if isAnchor { profilerChildren.append(child) }
                    queue.append((child, false))
                }
            }
        }
        return true
    }

    /// The longest run of new pids probed one by one before listing /proc instead.
    static let probeLimit: Int32 = 64

    /// Records that a member ended and was reaped by the profiler with this ru_maxrss (bytes). A
    /// process never seen in a sample (born and gone within one interval) is added as a member.
    public mutating func reaped(pid: Int32, maxRSSBytes: UInt64, now: Double, capAt profilerBytes: UInt64 = 0) {
        var m = members[pid] ?? Member(pid: pid, ppid: 0, name: "", firstSeen: now)
        // posix_spawn's child shares the profiler's memory until exec, and the kernel folds that
        // into the child's ru_maxrss. A figure no larger than the profiler's own is that artefact:
        // fall back to what was seen.
        let seen = max(m.lastRSSBytes, m.windowMaxRSSBytes)
        var credible = maxRSSBytes > profilerBytes ? maxRSSBytes : seen
        // wait4's ru_maxrss is the larger of the process's own and those the kernel folded in from
        // the children it reaped itself, theirs including their own children's (mpiexec's covers
        // the ranks its proxy reaped). No larger than what those descendants were seen to reach
        // (with a margin for their last moments): it may be theirs, so count what was seen of its
        // own in this window. Descendants not yet seen to end count too: the kernel may have
        // reaped them an instant before this process, ahead of the sample that would notice.
        let childMax = members.values.reduce(UInt64(0)) {
            !$1.reapedByProfiler && isDescendant($1, of: pid) ? max($0, $1.peakBytes) : $0
        }
        if childMax > 0, credible <= childMax &+ max(childMax / 50, 2 << 20) { credible = seen }
        if m.ended == nil || !m.reapedByProfiler {
            pendingEndedPeak &+= credible
        }
        if credible > m.peakBytes {
            m.peakBytes = credible
            m.peakTime = now
        }
        m.ended = m.ended ?? now
        m.reapedByProfiler = true
        members[pid] = m
        if let i = profilerChildren.firstIndex(of: pid) { profilerChildren.remove(at: i) }
        markEnded(pid)
    }

    /// Whether `m`'s parent chain, as recorded, reaches `ancestor` (at most 64 generations).
    private func isDescendant(_ m: Member, of ancestor: Int32) -> Bool {
        var parent = m.ppid
        for _ in 0..<64 {
            if parent == ancestor { return true }
            guard let p = members[parent] else { return false }
            parent = p.ppid
        }
        return false
    }

    /// Takes one sample of every live member.
    ///
    /// - Parameter readMarks: true: read `status` (VmRSS and VmHWM), reset the marks and close the
    ///   window (see the type's comment); false: read only `statm` for the RSS timeline. A member
    ///   whose `statm` shows no address space (a zombie) or cannot be read is handled as in a marks
    ///   sample, from its `status`.
    public mutating func sample(now: Double, readMarks: Bool = true) -> IntervalReading {
        var r = IntervalReading()
        r.marksRead = readMarks
        let pageSize = source.pageSize
        for pid in livePids {
            guard let slot = members.index(forKey: pid) else { continue }
            if !readMarks, let sm = source.statm(pid), sm.hasMemory {
                // The every-tick path: one lookup, the member updated in place.
                let rss = sm.residentPages &* pageSize
                r.rssBytes &+= rss
                r.processes += 1
                Self.saw(rss: rss, at: now, in: &members.values[slot])
                continue
            }
            var m = members.values[slot]
            let status = source.status(pid)
            guard let st = status, st.hasMemory else {
                // Gone, or a zombie. A zombie of ours is about to be reaped, and its ru_maxrss
                // will count; one reaped by its own parent is known only up to the last sample:
                // count the most it was seen to hold in this window.
                m.ended = now
                if let st = status, anchors.contains(st.ppid) {
                    // Ours to reap, even if it was orphaned after the last marks sample.
                    m.ppid = st.ppid
                    if !m.reapedByProfiler && !profilerChildren.contains(pid) { profilerChildren.append(pid) }
                } else {
                    pendingEndedPeak &+= max(m.lastRSSBytes, m.windowMaxRSSBytes)
                }
                members[pid] = m
                markEnded(pid)
                continue
            }
            if m.name != st.name {
                // First marks reading of the root, or an exec since the last one: who it is now.
                m.name = st.name
                m.identity = source.identity(pid)
            }
            m.threads = st.threads
            if m.ppid != st.ppid {
                // Orphaned: reparented to the profiler (a subreaper), which must now reap it.
                m.ppid = st.ppid
                if anchors.contains(st.ppid) && !m.reapedByProfiler && !profilerChildren.contains(pid) {
                    profilerChildren.append(pid)
                }
            }
            r.rssBytes &+= st.rssBytes
            r.processes += 1
            m.lastRSSBytes = st.rssBytes
            guard readMarks else {
                // statm failed but status did not (rare): an RSS point, marks left for the window.
                Self.saw(rss: st.rssBytes, at: now, in: &m)
                members[pid] = m
                continue
            }
            // VmHWM already covers every RSS since the last reset; the window's plain samples are
            // folded in too, in case the kernel's mark lagged (it is updated lazily).
            let top = max(st.hwmBytes, st.rssBytes, m.windowMaxRSSBytes)
            r.intervalPeakBytes &+= top
            if top > m.peakBytes {
                m.peakBytes = top
                m.peakTime = now
            }
            m.windowMaxRSSBytes = 0
            // A mark already equal to the RSS has nothing to forget: skip the write (and the
            // kernel's mmap lock) in the common steady or growing case.
            if resetHighWaterMarks, st.hwmBytes > st.rssBytes, !source.resetHighWaterMark(pid) {
                resetsWorked = false
            }
            members[pid] = m
        }
        guard readMarks else {
            r.intervalPeakBytes = r.rssBytes
            return r
        }
        r.intervalPeakBytes &+= pendingEndedPeak
        pendingEndedPeak = 0
        return r
    }

    /// Notes an RSS reading of a plain sample.
    private static func saw(rss: UInt64, at now: Double, in m: inout Member) {
        m.lastRSSBytes = rss
        m.windowMaxRSSBytes = max(m.windowMaxRSSBytes, rss)
        if rss > m.peakBytes {
            m.peakBytes = rss
            m.peakTime = now
        }
    }

    /// smaps_rollup summed over the live members; nil when none could be read.
    public func rollup() -> SmapsRollup? {
        var total: SmapsRollup?
        for pid in livePids {
            if let r = source.smapsRollup(pid) {
                if total == nil { total = r } else { total?.add(r) }
            }
        }
        return total
    }
}
