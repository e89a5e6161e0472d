import Testing
@testable import QubeMemSystem

@Suite struct TreeSamplerTests {
    @Test func childrenOfTheProfilerAreAdoptedOnlyWhenAskedAndInTheRootsGroup() {
        // 4242 is a child of the profiler (4000) in process group 4242 (the fixture's stat).
        var off = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 1)
        off.adoptOrphans = false
        off.discover(now: 0)
        #expect(off.members[4242] == nil)
        var wrongGroup = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 1)
        wrongGroup.orphanGroup = 77
        wrongGroup.discover(now: 0)
        #expect(wrongGroup.members[4242] == nil)
        var sameGroup = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 1)
        sameGroup.orphanGroup = 4242
        sameGroup.discover(now: 0)
        #expect(sameGroup.members[4242] != nil && sameGroup.members[4243] != nil)
    }

    @Test func fullScanFindsChildrenAndGrandchildrenButNotStrangers() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242)
        s.useChildrenLists = false
        s.discover(now: 0)
        #expect(Set(s.members.keys) == [4242, 4243, 4301])
        #expect(s.members[4243]?.name == "worker) (x")
    }

    @Test func pidRangeProbeFindsTheSameTree() {
        // The last pid before the spawn was 4241: only 4242...4301 are probed, no listing.
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            lastPidBeforeSpawn: 4241)
        s.useChildrenLists = false
        s.discover(now: 0)
        #expect(Set(s.members.keys) == [4242, 4243, 4301])
    }

    @Test func childrenListsFindTheSameTreeAndReadOnlyItsProcesses() {
        let source = CountingSource(ProcFS(root: Fixtures.proc))
        var s = TreeSampler(source: source, profilerPid: 4000, rootPid: 4242, lastPidBeforeSpawn: 4241)
        s.discover(now: 0)
        #expect(s.useChildrenLists)
        #expect(Set(s.members.keys) == [4242, 4243, 4301])
        #expect(s.members[4243]?.name == "worker) (x" && s.members[4243]?.ppid == 4242)
        // The unrelated 4300 is never read; only the new members' stat is.
        #expect(source.statCalls.sorted() == [4243, 4301])
        #expect(source.childrenCalls.contains(4000))
    }

    @Test func withoutTheProfilersChildrenListDiscoveryFallsBackToProbing() {
        // Profiler 4001 has no task/4001/children in the fixture.
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4001, rootPid: 4242,
                            lastPidBeforeSpawn: 4241)
        s.discover(now: 0)
        #expect(!s.useChildrenLists)
        #expect(Set(s.members.keys) == [4242, 4243, 4301])
    }

    @Test func nothingIsReadWhenNoPidWasAllocated() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            lastPidBeforeSpawn: 4301)
        s.discover(now: 0)
        #expect(Set(s.members.keys) == [4242])
    }

    @Test func sampleSumsLiveMembersAndDropsTheZombie() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242)
        s.discover(now: 0)
        let r = s.sample(now: 0.1)
        #expect(r.processes == 2)
        #expect(r.rssBytes == 2 * 64732 * 1024)
        // 4243's VmHWM (80000 kB) is above its RSS: it peaked earlier in the interval.
        #expect(r.intervalPeakBytes == (64732 + 80000) * 1024)
        #expect(s.members[4301]?.ended == 0.1)
        #expect(!s.livePids.contains(4301))
        // The fixture has no clear_refs: the reset 4243 needed was refused, and the sampler says
        // its marks are lifetime marks.
        #expect(!s.resetsWorked)
    }

    @Test func plainSamplesReadStatmAndTheMarksSampleClosesTheWindow() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242)
        s.discover(now: 0)
        let plain = s.sample(now: 0.1, readMarks: false)
        #expect(!plain.marksRead)
        #expect(plain.processes == 2)
        #expect(plain.rssBytes == 2 * 16183 * 4096)
        // No marks read: the bound is left to the window's close, provisionally the RSS.
        #expect(plain.intervalPeakBytes == plain.rssBytes)
        // The zombie's statm has no memory: it is dropped as in a marks sample.
        #expect(!s.livePids.contains(4301))
        let marks = s.sample(now: 0.2)
        #expect(marks.marksRead)
        // 4243's VmHWM (80000 kB) covers the whole window, plain samples included.
        #expect(marks.intervalPeakBytes == (64732 + 80000) * 1024)
        #expect(s.members[4243]?.peakBytes == 80000 * 1024)
    }

    @Test func aReapedProcessCountsAtTheNextWindowCloseOnce() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            resetHighWaterMarks: false, lastPidBeforeSpawn: 4301)
        s.reaped(pid: 5000, maxRSSBytes: 10 << 20, now: 0.05)
        let plain = s.sample(now: 0.1, readMarks: false)
        #expect(plain.intervalPeakBytes == 64732 * 1024)
        let close = s.sample(now: 0.2)
        #expect(close.intervalPeakBytes == 64732 * 1024 + (10 << 20))
        #expect(s.sample(now: 0.3).intervalPeakBytes == 64732 * 1024)
    }

    @Test func aReapedProcessCountsInTheNextIntervalOnce() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            resetHighWaterMarks: false, lastPidBeforeSpawn: 4301)
        s.reaped(pid: 5000, maxRSSBytes: 10 << 20, now: 0.05)
        let first = s.sample(now: 0.1)
        #expect(first.intervalPeakBytes == 64732 * 1024 + (10 << 20))
        let second = s.sample(now: 0.2)
        #expect(second.intervalPeakBytes == 64732 * 1024)
        #expect(s.members[5000]?.reapedByProfiler == true)
    }

    @Test func aMaxRSSNoLargerThanWhatItsOwnChildrenReachedIsNotTakenAsItsOwn() {
        // wait4 folds the children a process reaped into its ru_maxrss: 4242's figure equal to its
        // child 4243's 80000 KiB peak is the child's, not 4242's own 64732 KiB.
        func run(maxRSSKiB: UInt64) -> TreeSampler.Member? {
            let source = VanishingSource(ProcFS(root: Fixtures.proc))
            var s = TreeSampler(source: source, profilerPid: 4000, rootPid: 4242, lastPidBeforeSpawn: 4241)
            s.discover(now: 0)
            _ = s.sample(now: 0.1)
            source.gone = [4243]  // reaped by 4242 itself
            _ = s.sample(now: 0.2)
            s.reaped(pid: 4242, maxRSSBytes: maxRSSKiB * 1024, now: 0.25)
            return s.members[4242]
        }
        #expect(run(maxRSSKiB: 80000)?.peakBytes == 64732 * 1024)
        // Well above its children's: its own, found at the reaping.
        let own = run(maxRSSKiB: 200_000)
        #expect(own?.peakBytes == 200_000 * 1024 && own?.peakTime == 0.25)
    }

    @Test func eachMemberKeepsWhenItsPeakWasReadAndWhoItIs() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            lastPidBeforeSpawn: 4241)
        s.discover(now: 0.05)
        _ = s.sample(now: 0.1)
        #expect(s.members[4242]?.peakTime == 0.1)
        // The root's identity is read at its first marks reading (its name was not known before).
        #expect(s.members[4242]?.identity.rank == 3)
    }

    @Test func aRootMaxRSSNoLargerThanTheProfilersIsTheSpawnArtefact() {
        var s = TreeSampler(source: ProcFS(root: Fixtures.proc), profilerPid: 4000, rootPid: 4242,
                            lastPidBeforeSpawn: 4301)
        _ = s.sample(now: 0.1)
        s.reaped(pid: 4242, maxRSSBytes: 20 << 20, now: 0.15, capAt: 30 << 20)
        #expect(s.members[4242]?.peakBytes == 64732 * 1024)
    }
}

/// ProcFS where the processes in `gone` have ended (their files no longer read).
final class VanishingSource: ProcessSource {
    let inner: ProcFS
    var gone: Set<Int32> = []
    init(_ inner: ProcFS) { self.inner = inner }
    var pageSize: UInt64 { inner.pageSize }
    func pids() -> [Int32] { inner.pids().filter { !gone.contains($0) } }
    func lastPid() -> Int32? { inner.lastPid() }
    func stat(_ pid: Int32) -> ProcStat? { gone.contains(pid) ? nil : inner.stat(pid) }
    func status(_ pid: Int32) -> ProcStatus? { gone.contains(pid) ? nil : inner.status(pid) }
    func statm(_ pid: Int32) -> ProcStatm? { gone.contains(pid) ? nil : inner.statm(pid) }
    func children(of pid: Int32, thread tid: Int32) -> [Int32]? { inner.children(of: pid, thread: tid) }
    func threads(of pid: Int32) -> [Int32] { inner.threads(of: pid) }
    func probeStatus(_ pid: Int32) -> ProcStatus? { gone.contains(pid) ? nil : inner.probeStatus(pid) }
    func smapsRollup(_ pid: Int32) -> SmapsRollup? { inner.smapsRollup(pid) }
    func identity(_ pid: Int32) -> ProcessIdentity { inner.identity(pid) }
    func resetHighWaterMark(_ pid: Int32) -> Bool { true }
    func forget(_ pid: Int32) { inner.forget(pid) }
}

/// ProcFS with a record of which pids were read.
final class CountingSource: ProcessSource {
    let inner: ProcFS
    var statCalls: [Int32] = []
    var childrenCalls: [Int32] = []
    init(_ inner: ProcFS) { self.inner = inner }
    var pageSize: UInt64 { inner.pageSize }
    func pids() -> [Int32] { inner.pids() }
    func lastPid() -> Int32? { inner.lastPid() }
    func stat(_ pid: Int32) -> ProcStat? { statCalls.append(pid); return inner.stat(pid) }
    func status(_ pid: Int32) -> ProcStatus? { inner.status(pid) }
    func statm(_ pid: Int32) -> ProcStatm? { inner.statm(pid) }
    func children(of pid: Int32, thread tid: Int32) -> [Int32]? { childrenCalls.append(pid); return inner.children(of: pid, thread: tid) }
    func threads(of pid: Int32) -> [Int32] { inner.threads(of: pid) }
    func probeStatus(_ pid: Int32) -> ProcStatus? { inner.probeStatus(pid) }
    func smapsRollup(_ pid: Int32) -> SmapsRollup? { inner.smapsRollup(pid) }
    func identity(_ pid: Int32) -> ProcessIdentity { inner.identity(pid) }
    func resetHighWaterMark(_ pid: Int32) -> Bool { inner.resetHighWaterMark(pid) }
    func forget(_ pid: Int32) { inner.forget(pid) }
}

@Suite struct RunStateTests {
    func reading(_ rss: UInt64, _ peak: UInt64, marks: Bool = true) -> TreeSampler.IntervalReading {
        var r = TreeSampler.IntervalReading()
        r.rssBytes = rss; r.intervalPeakBytes = peak; r.processes = 1; r.marksRead = marks
        return r
    }

    @Test func aMarksReadingBoundsEveryIntervalOfItsWindow() {
        var st = RunState(interval: 0.01)
        st.record(reading(10, 10), pss: nil, at: 0)
        st.apply(.enter("s"), at: 0)
        st.record(reading(50, 50, marks: false), pss: nil, at: 0.01)
        st.record(reading(30, 30, marks: false), pss: nil, at: 0.02)
        // Nothing is claimed for the open window yet beyond what was seen.
        #expect(st.peak == 10 && st.stages[0].peakBytes == 10)
        #expect(st.peakSampled == 50 && st.stages[0].peakSampledBytes == 50)
        st.record(reading(20, 90), pss: nil, at: 0.03)
        #expect(st.samples.map(\.intervalPeakBytes) == [10, 90, 90, 90])
        #expect(st.peak == 90 && st.peakTime == 0.03)
        #expect(st.stages[0].peakBytes == 90 && st.stages[0].peakTime == 0.03)
        st.record(reading(20, 20, marks: false), pss: nil, at: 0.04)
        st.record(reading(20, 25), pss: nil, at: 0.05)
        #expect(st.samples.suffix(2).map(\.intervalPeakBytes) == [25, 25])
        #expect(st.peak == 90)
    }

    @Test func intervalsAreAttributedToEveryOpenStage() {
        var st = RunState(interval: 0.1)
        st.record(reading(10, 10), pss: nil, at: 0)
        st.apply(.enter("outer"), at: 0)
        st.record(reading(50, 60), pss: nil, at: 0.1)
        st.apply(.enter("inner"), at: 0.1)
        st.record(reading(80, 120), pss: nil, at: 0.2)
        st.apply(.exit("inner"), at: 0.2)
        st.record(reading(40, 90), pss: nil, at: 0.3)
        st.apply(.exit("outer"), at: 0.3)
        st.record(reading(10, 40), pss: nil, at: 0.4)
        #expect(st.stages.map(\.name) == ["outer", "inner"])
        #expect(st.stages[0].peakBytes == 120 && st.stages[1].peakBytes == 120)
        #expect(st.stages[1].entryRSSBytes == 50 && st.stages[1].exitRSSBytes == 80)
        #expect(st.stages[0].exitRSSBytes == 40)
        #expect(st.stages[1].depth == 1)
        #expect(st.peak == 120 && st.peakTime == 0.2)
        #expect(st.peakSampled == 80)
        #expect(st.samples.map(\.stage) == [nil, 0, 1, 0, nil])
    }

    @Test func exitClosesTheStagesOpenedInsideIt() {
        var st = RunState(interval: 0.1)
        st.apply(.enter("a"), at: 0)
        st.apply(.enter("b"), at: 0.1)
        st.apply(.exit("a"), at: 0.2)
        #expect(st.open.isEmpty)
        #expect(st.stages.allSatisfy { $0.exit == 0.2 })
        st.apply(.exit("never-entered"), at: 0.3)
        #expect(st.stages.count == 2)
    }

    @Test func rollupsAreReadAtNewHighsAndPeriodically() {
        var st = RunState(interval: 0.1)
        let first = st.wantsRollup(rss: 100, at: 0, pssEvery: 1)
        st.noteRollup(SmapsRollup(fields: [("Rss", 100)]), at: 0)
        let same = st.wantsRollup(rss: 100, at: 0.3, pssEvery: 1)
        let higher = st.wantsRollup(rss: 200, at: 0.3, pssEvery: 1)
        let periodic = st.wantsRollup(rss: 10, at: 1.5, pssEvery: 1)
        let off = st.wantsRollup(rss: 1000, at: 2, pssEvery: 0)
        #expect(first && !same && higher && periodic && !off)
    }
}

/// Inside the test process, which has other children: orphans are not adopted.
func hosted(_ command: [String]) -> Profiler.Options {
    var o = Profiler.Options(command: command)
    o.adoptOrphans = false
    return o
}

@Suite(.serialized) struct ProfilerLiveTests {
    @Test func exitCodePassesThrough() throws {
        let r = try Profiler(options: hosted(["/bin/sh", "-c", "exit 3"])).run()
        #expect(r.exit == .exited(3))
        #expect(!r.timedOut)
    }

    @Test func deathBySignalIsReported() throws {
        let r = try Profiler(options: hosted(["/bin/sh", "-c", "kill -9 $$"])).run()
        #expect(r.exit == .signaled(9, coreDumped: false))
    }

    @Test func aMissingCommandIsATypedError() {
        #expect(throws: Profiler.RunError.self) {
            _ = try Profiler(options: hosted(["/nonexistent/qubemem-test"])).run()
        }
        do {
            _ = try Profiler(options: hosted(["no-such-command-qubemem"])).run()
        } catch {
            #expect(error.description == "command not found: 'no-such-command-qubemem' (not an executable on PATH)")
        }
    }

    @Test func aTimeoutKillsTheWholeTree() throws {
        var o = Profiler.Options(command: ["/bin/sh", "-c", "sleep 30 & sleep 30; wait"])
        o.timeout = 0.5
        o.killGrace = 0.3
        o.newProcessGroup = true
        let r = try Profiler(options: o).run()
        #expect(r.timedOut)
        #expect(r.elapsedSeconds < 5)
        #expect(r.leftRunning.isEmpty)
        #expect(r.processes.count >= 3)
    }

    @Test func windowsOfPlainSamplesStillCatchASpikeBetweenMarks() throws {
        // A 10 ms interval with marks every 100 ms: the root touches 64 MiB for a few ms and frees
        // it, inside a window of plain (statm) samples. Whether or not one of them lands in the
        // spike, the VmHWM read at the window's close holds it.
        let code = "import time; time.sleep(0.25); x = b'x' * (64 << 20); time.sleep(0.005); del x; time.sleep(0.3)"
        var o = hosted(["python3", "-c", code])
        o.interval = 0.01
        o.marksEvery = 0.1
        let r = try Profiler(options: o).run()
        #expect(r.exit == .exited(0))
        #expect(abs(r.marksEverySeconds - 0.1) < 1e-9)
        #expect(r.peakBytes >= 64 << 20)
        #expect(r.peakBytes >= r.peakSampledBytes)
        // Every sample's bound is at least its own RSS.
        #expect(r.samples.allSatisfy { $0.intervalPeakBytes >= $0.rssBytes })
    }

    @Test func stagesComeThroughTheNamedPipePath() throws {
        // dash cannot redirect to a descriptor above 9: the path form is for such writers.
        let script = #"echo "enter one" > "$QUBEMEM_STAGE_FILE"; sleep 0.2; echo "exit one" > "$QUBEMEM_STAGE_FILE""#
        let r = try Profiler(options: hosted(["/bin/sh", "-c", script])).run()
        #expect(r.stages.map(\.name) == ["one"])
        #expect((r.stages.first?.exit ?? 0) - (r.stages.first?.enter ?? 0) >= 0.15)
    }
}
