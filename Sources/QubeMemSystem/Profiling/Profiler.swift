#if canImport(Glibc)
import Glibc
#endif

/// Runs a command as a child and measures its whole process tree from outside (Linux).
///
/// One thread: it polls the stage pipe and the signal self-pipe with a timeout that lands on the
/// next sample. The command's exit status is returned for the caller to pass on (`exitLike`).
public struct Profiler {
    public struct Options: Sendable {
        public var command: [String]
        /// Sampling interval, seconds (the CLI allows 0.01 and up).
        public var interval: Double = 0.1
        /// Kill the tree after this many seconds (nil: never).
        public var timeout: Double?
        /// Between SIGTERM and SIGKILL when the timeout kills the tree, seconds.
        public var killGrace: Double = 2
        /// Start the command in its own process group (sweep does, so the group can be killed).
        public var newProcessGroup = false
        /// Reset VmHWM at every marks reading (exact per-window maxima). Off: lifetime maxima only.
        public var resetHighWaterMarks = true
        /// Read the kernel's high-water marks (`status`: VmHWM) at least this often, seconds, and at
        /// every stage event and at the end; samples in between read only the RSS (`statm`, a sixth
        /// of the cost). The peak is still the marks' (a spike of any length counts), but the tree's
        /// bound is a sum of per-process maxima over this window rather than over one interval.
        /// At an interval this long or longer, every sample reads the marks; 0: every sample does.
        public var marksEvery: Double = 0.1
        /// Read smaps_rollup (PSS) at least this often, seconds; 0 turns PSS reading off.
        public var pssEvery: Double = 1
        /// Look for new processes in the tree at most this often, seconds (default 0.05; every
        /// sample when the interval is longer).
        public var discoveryEvery: Double = 0.05
        /// Follow orphans that the kernel hands back to the profiler (it makes itself a
        /// subreaper). Turn off when running inside a process that has other children: with
        /// `newProcessGroup`, only orphans in the command's own group are taken in anyway.
        public var adoptOrphans = true
        /// Extra environment entries for the command (KEY=VALUE).
        public var environment: [String] = []
        /// Measure the charge of a memory cgroup beside the RSS sum (`MemoryCgroup`): a cgroup of
        /// the run's own, or inside a SLURM job (SLURM_JOB_ID) the job's. Off: no cgroup is made
        /// or read, and the result says so.
        public var measureCgroup = false

        public init(command: [String]) { self.command = command }
    }

    public var options: Options
    public var source: any ProcessSource

    public init(options: Options, source: any ProcessSource = ProcFS()) {
        self.options = options
        self.source = source
    }

    /// Errors of the run itself (the command's own failure is in the result, not here).
    public enum RunError: Error, Sendable, CustomStringConvertible {
        case spawn(SpawnError)
        case system(SystemError)
        public var description: String {
            switch self {
            case .spawn(let e): return e.description
            case .system(let e): return e.description
            }
        }
    }

    /// Runs the command to its end and returns what was measured.
    public func run() throws(RunError) -> ProfileResult {
        let interval = max(options.interval, 0.001)
        let profilerPid = getpid()
        _ = Sys.becomeSubreaper()
        let cpuBefore = Sys.selfUsage()

        let relay: SignalRelay
        let stageRead: Int32, stageWrite: Int32, ackRead: Int32, ackWrite: Int32
        do {
            relay = try SignalRelay()
            (stageRead, stageWrite) = try Sys.pipe(cloexecWrite: false)
            (ackRead, ackWrite) = try Sys.pipe(cloexecWrite: true)
        } catch { throw .system(error) }
        // The child inherits the ack pipe's read end; our write end never blocks.
        _ = fcntl(ackRead, F_SETFD, 0)
        _ = fcntl(ackRead, F_SETFL, fcntl(ackRead, F_GETFL) & ~O_NONBLOCK)
        _ = fcntl(ackWrite, F_SETFL, fcntl(ackWrite, F_GETFL) | O_NONBLOCK)
        defer {
            relay.restore()
            for fd in [stageRead, stageWrite, ackRead, ackWrite] { close(fd) }
        }
        var env = Sys.environment().filter { !$0.hasPrefix("QUBEMEM_STAGE_") }
        env.append("QUBEMEM_STAGE_FD=\(stageWrite)")
        env.append("QUBEMEM_STAGE_FILE=/proc/\(profilerPid)/fd/\(stageWrite)")
        env.append("QUBEMEM_STAGE_ACK_FD=\(ackRead)")
        env += options.environment
        var cgroup: MemoryCgroup?
        var cgroupUnavailable: String?
        if options.measureCgroup {
            switch MemoryCgroup.prepare(slurmJobID: getenv("SLURM_JOB_ID").map { String(cString: $0) }) {
            case .success(let c): cgroup = c
            case .failure(let reason): cgroupUnavailable = reason.description
            }
        } else {
            cgroupUnavailable = MemoryCgroup.Unavailable.turnedOff.description
        }
        // Also on a thrown error (the normal end removes it first, to report a failure).
        defer { cgroup?.remove() }
        let cgroupStart = cgroup?.usage() ?? 0
        if let cg = cgroup, cg.kind == .own {
            // The command starts from inside: qubemem joins the cgroup for the spawn.
            do { try cg.join() } catch {
                cgroupUnavailable = MemoryCgroup.Unavailable.cannotJoin(path: cg.location.directory, error).description
                cg.remove()
                cgroup = nil
            }
        }
        let lastPidBeforeSpawn = source.lastPid()

        let t0 = Sys.monotonicNanos()
        let rootPid = try spawnInCgroup(cgroup, env: env)
        func now() -> Double { Double(Sys.monotonicNanos() &- t0) / 1e9 }

        var state = RunState(interval: interval)
        var sampler = TreeSampler(source: source, profilerPid: profilerPid, rootPid: rootPid,
                                  resetHighWaterMarks: options.resetHighWaterMarks,
                                  lastPidBeforeSpawn: lastPidBeforeSpawn)
        sampler.adoptOrphans = options.adoptOrphans
        sampler.orphanGroup = options.newProcessGroup ? rootPid : nil
        var lines = LineBuffer()
        var rootExit: ExitStatus?
        var rootEnd = 0.0
        var usage = (user: 0.0, sys: 0.0)
        var timedOut = false
        var termSentAt: Double?
        var killed = false

        let rootExitFD = Sys.pidfd(rootPid)
        defer { if let fd = rootExitFD { close(fd) } }
        // Only our own children are waited for, each by pid: the root, and the descendants that
        // were orphaned and reparented to us. A host process's other children are not touched.
        func reapAll() throws(RunError) {
            // `reaped` takes the pid off the list; the root comes first.
            var i = 0
            while i < sampler.profilerChildren.count {
                let pid = sampler.profilerChildren[i]
                let reaped: Sys.Reaped?
                do { reaped = try Sys.wait4(pid, noHang: true) } catch { throw .system(error) }
                guard let r = reaped else {
                    i += 1
                    continue
                }
                let t = now()
                // The profiler's own high-water mark when the root ends, not when the run starts:
                // the spawn itself may grow the profiler first, and the kernel folds the profiler's
                // memory as it was at the root's exec into the root's ru_maxrss.
                let ownHWM = r.pid == rootPid ? (source.probeStatus(profilerPid)?.hwmBytes ?? 0) : 0
                sampler.reaped(pid: r.pid, maxRSSBytes: r.usage.maxRSSBytes, now: t, capAt: ownHWM)
                usage.user += r.usage.userSeconds
                usage.sys += r.usage.systemSeconds
                if r.pid == rootPid {
                    rootExit = r.status
                    rootEnd = t
                }
            }
        }
        var lastDiscovery = 0.0
        // Marks are read every `marksTicks` samples (counted, not timed: a late tick must not
        // skip one).
        let marksTicks = options.marksEvery > interval ? Int((options.marksEvery / interval).rounded()) : 1
        var ticksSinceMarks = 0
        /// - Parameter boundary: at a stage event or the end: look for new processes now, and read
        ///   the marks so that no window straddles a stage boundary.
        /// - Parameter time: the time now when the caller has just read it.
        func takeSample(boundary: Bool = false, at time: Double? = nil) {
            let t = time ?? now()
            // New processes are looked for at most every `discoveryEvery` seconds: a process found
            // late still shows its whole peak (its VmHWM was never reset), only attributed to a
            // later interval, which keeps the bound an upper bound.
            if boundary || t - lastDiscovery >= options.discoveryEvery {
                sampler.discover(now: t)
                lastDiscovery = t
            }
            ticksSinceMarks += 1
            let marks = boundary || ticksSinceMarks >= marksTicks
            if marks { ticksSinceMarks = 0 }
            let reading = sampler.sample(now: t, readMarks: marks)
            // The cgroup's charge with the marks (every 100 ms at most): the kernel's own peak is
            // exact anyway, and at a 10 ms interval a read every sample cost 0.1% of a core.
            let charge = marks ? cgroup?.usage() : nil
            var pss: UInt64?
            if state.wantsRollup(rss: reading.rssBytes, at: t, pssEvery: options.pssEvery) {
                let started = now()
                if let rollup = sampler.rollup() {
                    pss = rollup.pss
                    state.noteRollup(rollup, at: t, cost: now() - started)
                }
            }
            state.record(reading, pss: pss, cgroup: charge, at: t)
        }

        takeSample()
        var nextSample = interval
        while rootExit == nil {
            let t = now()
            var waitMs = Int32(max(0, min((nextSample - t) * 1000, 1000)).rounded(.up))
            if let timeout = options.timeout, !timedOut { waitMs = min(waitMs, Int32(max(0, (timeout - t) * 1000).rounded(.up))) }
            let ready = Sys.poll3(relay.readFD, stageRead, rootExitFD ?? -1, timeoutMs: waitMs)
            if ready.0 {
                for d in relay.drain() {
                    // The terminal already delivered Ctrl-C / Ctrl-\ to the child (same process
                    // group); anything sent to us by kill() is passed on.
                    if d.fromTerminal && !options.newProcessGroup && (d.signal == SIGINT || d.signal == SIGQUIT) { continue }
                    kill(options.newProcessGroup ? -rootPid : rootPid, d.signal)
                }
            }
            if ready.2 || rootExitFD == nil || termSentAt != nil { try reapAll() }
            if ready.1 {
                for line in lines.feed(Sys.readAvailable(stageRead)) {
                    guard let event = StageEvent.parse(line: line) else { continue }
                    takeSample(boundary: true)
                    state.apply(event, at: now())
                    var ack: UInt8 = 1
                    _ = write(ackWrite, &ack, 1)
                }
            }
            let t2 = now()
            if rootExit == nil, t2 >= nextSample {
                // Orphans that ended, at the discovery cadence (an orphan's zombie keeps its
                // ru_maxrss until we take it). The root's end wakes the poll through its pidfd.
                if t2 - lastDiscovery >= options.discoveryEvery, rootExitFD == nil || sampler.profilerChildren.count > 1 {
                    try reapAll()
                }
                takeSample(at: t2)
                nextSample = max(nextSample + interval, t2 + interval / 4)
            }
            if let timeout = options.timeout, rootExit == nil, t2 >= timeout {
                timedOut = true
                if termSentAt == nil {
                    termSentAt = t2
                    signalTree(&sampler, rootPid: rootPid, SIGTERM)
                } else if let sent = termSentAt, !killed, t2 >= sent + options.killGrace {
                    killed = true
                    signalTree(&sampler, rootPid: rootPid, SIGKILL)
                }
            }
        }
        // Events written just before the end, then a last sample.
        for line in lines.feed(Sys.readAvailable(stageRead)) {
            if let event = StageEvent.parse(line: line) { takeSample(boundary: true); state.apply(event, at: now()) }
        }
        takeSample(boundary: true)
        if timedOut {
            // A clean end: nothing of the timed-out tree survives it.
            signalTree(&sampler, rootPid: rootPid, SIGKILL)
            let deadline = now() + 2
            while !sampler.livePids.isEmpty && now() < deadline {
                try reapAll()
                sampler.discover(now: now())
                _ = sampler.sample(now: now())
                usleep(5000)
            }
        } else {
            try reapAll()
        }
        state.closeStages(at: rootEnd)
        var cgroupFigure: ProfileResult.CgroupFigure?
        if let cg = cgroup {
            // Read before the removal; every process of the run has been reaped.
            cgroupFigure = .init(kind: cg.kind, version: cg.location.version, directory: cg.location.directory,
                                 peakBytes: cg.peak(), peakSampledBytes: state.cgroupPeakSampled,
                                 peakSampledTime: state.cgroupPeakSampledTime, startBytes: cgroupStart,
                                 removalError: cg.remove()?.description)
        }
        let cpuAfter = Sys.selfUsage()
        let profilerCPU = (cpuAfter.userSeconds - cpuBefore.userSeconds) + (cpuAfter.systemSeconds - cpuBefore.systemSeconds)

        return ProfileResult(
            command: options.command, intervalSeconds: interval, marksEverySeconds: interval * Double(marksTicks),
            elapsedSeconds: rootEnd,
            userSeconds: usage.user, systemSeconds: usage.sys,
            exit: rootExit ?? .signaled(SIGKILL, coreDumped: false), timedOut: timedOut,
            peakBytes: state.peak, peakTime: state.peakTime,
            peakSampledBytes: state.peakSampled, peakSampledTime: state.peakSampledTime,
            highWaterMarksReset: options.resetHighWaterMarks && sampler.resetsWorked,
            peakBreakdown: state.bestRollup?.fields.map { .init(key: $0.key, bytes: $0.bytes) } ?? [],
            peakBreakdownTime: state.bestRollupTime,
            baselineBytes: state.stages.first?.entryRSSBytes ?? 0,
            samples: state.samples, stages: state.stages,
            processes: sampler.members.values.sorted { $0.firstSeen < $1.firstSeen || ($0.firstSeen == $1.firstSeen && $0.pid < $1.pid) }
                .map { .init(pid: $0.pid, ppid: $0.ppid, name: $0.name, firstSeen: $0.firstSeen, ended: $0.ended,
                             peakBytes: $0.peakBytes, peakTime: $0.peakTime, reapedByProfiler: $0.reapedByProfiler,
                             identity: $0.identity) },
            leftRunning: sampler.livePids, profilerCPUSeconds: profilerCPU,
            cgroup: cgroupFigure, cgroupUnavailable: cgroupUnavailable)
    }

    /// Spawns the command; with a cgroup of the run's own, which qubemem has joined, from inside it
    /// (the child starts in it, so everything it and its descendants touch from their first
    /// instruction is charged there), and leaves it at once. posix_spawn returns after the child's
    /// exec, so qubemem's own pages are not charged to it, bar the spawn's few KiB.
    private func spawnInCgroup(_ cgroup: MemoryCgroup?, env: [String]) throws(RunError) -> Int32 {
        let joins = cgroup?.kind == .own
        let pid: Int32
        do {
            pid = try Sys.spawn(argv: options.command, env: env, newProcessGroup: options.newProcessGroup,
                                defaultSignals: SignalRelay.forwarded + [SIGPIPE])
        } catch {
            if joins { try? cgroup?.leave() }
            throw .spawn(error)
        }
        if joins, let cg = cgroup {
            do { try cg.leave() } catch {
                // Still inside: qubemem's own memory would count. Do not run the command so.
                kill(pid, SIGKILL)
                _ = try? Sys.wait4(pid, noHang: false)
                throw .system(error)
            }
        }
        return pid
    }

    private func signalTree(_ sampler: inout TreeSampler, rootPid: Int32, _ sig: Int32) {
        if options.newProcessGroup { kill(-rootPid, sig) }
        sampler.discover(now: 0)
        for pid in sampler.livePids { kill(pid, sig) }
    }
}
