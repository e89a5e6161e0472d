import Foundation
import Testing
@testable import QubeMemSystem

@Suite struct ProcFSTests {
    @Test func fixtureTreeReadsThroughProcFS() throws {
        let fs = ProcFS(root: Fixtures.proc)
        #expect(fs.status(4242)?.name == "python3")
        #expect(fs.probeStatus(4243)?.ppid == 4242)
        #expect(fs.stat(4243)?.comm == "worker) (x")
        #expect(fs.smapsRollup(4242)?.pss == 60412 * 1024)
        #expect(fs.lastPid() == 4301)
        #expect(Set(fs.pids()) == [4000, 4242, 4243, 4300, 4301])
        #expect(fs.children(of: 4242, thread: 4242) == [4243])
        #expect(fs.children(of: 4301, thread: 4301) == [])
        #expect(fs.children(of: 9999, thread: 9999) == nil)
        #expect(fs.threads(of: 4242) == [4242])
        #expect(fs.status(9999) == nil)
        #expect(fs.statm(4242)?.residentPages == 16183)
        #expect(fs.statm(4301)?.hasMemory == false)
        #expect(fs.statm(9999) == nil)
        // No clear_refs in the fixture: the reset is refused, not faked.
        #expect(!fs.resetHighWaterMark(4242))
    }

    @Test func liveSelfIsReadable() throws {
        let fs = ProcFS()
        let me = getpid()
        let st = try #require(fs.status(me))
        #expect(st.pid == me && st.tgid == me)
        #expect(st.rssBytes > 0 && st.hwmBytes >= st.rssBytes)
        #expect(fs.stat(me)?.pid == me)
        #expect(try #require(fs.smapsRollup(me)).rss > 0)
        #expect((fs.lastPid() ?? 0) > 0)
        #expect(fs.pids().contains(me))
        // statm live (its figures against status's are checked on the fixture: tests running in
        // parallel in this process move the RSS between two reads).
        let sm = try #require(fs.statm(me))
        #expect(sm.hasMemory && sm.residentPages > 0 && fs.pageSize >= 4096)
        #expect(fs.threads(of: me).contains(me))
        #expect(fs.children(of: me, thread: me) != nil)
        // A kept-open status descriptor reads fresh figures every time.
        #expect(fs.status(me)?.pid == me)
        fs.forget(me)
    }

    @Test func liveHighWaterMarkResetForgetsAFreedSpike() throws {
        let fs = ProcFS()
        let me = getpid()
        let size = 96 << 20
        // Touch 96 MiB, free it: VmHWM keeps it until the reset.
        let p = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(p != MAP_FAILED)
        memset(p, 1, size)
        let during = try #require(fs.status(me))
        munmap(p, size)
        let after = try #require(fs.status(me))
        // The kernel's RSS counters are per-CPU and approximate by a few dozen pages.
        #expect(after.hwmBytes + (1 << 20) >= during.rssBytes)
        #expect(fs.resetHighWaterMark(me))
        let reset = try #require(fs.status(me))
        #expect(reset.hwmBytes + UInt64(size / 2) < after.hwmBytes)
        fs.forget(me)
    }
}
