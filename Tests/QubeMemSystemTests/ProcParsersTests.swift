import Testing
@testable import QubeMemSystem

@Suite struct ProcParsersTests {
    @Test func statusFixtureGivesRSSHighWaterMarkAndIds() throws {
        let st = try #require(ProcStatus.parse(Fixtures.bytes("4242/status")))
        #expect(st.name == "python3")
        #expect(st.pid == 4242 && st.tgid == 4242 && st.ppid == 4000)
        #expect(st.rssBytes == 64732 * 1024)
        #expect(st.hwmBytes == 64732 * 1024)
        #expect(st.vmPeakBytes == 67768 * 1024)
        #expect(st.rssAnonBytes == 58064 * 1024 && st.rssFileBytes == 6668 * 1024 && st.rssShmemBytes == 0)
        #expect(st.hasMemory)
    }

    @Test func fastStatusParseAgreesWithTheReferenceParse() throws {
        for file in ["4242/status", "4243/status", "4300/status", "4301/status"] {
            let bytes = Fixtures.bytes(file)
            let fast = try #require(ProcStatus.parse(bytes))
            let slow = try #require(ProcStatus.parseSlow(slice: ArraySlice(bytes)))
            #expect(fast == slow, "\(file)")
        }
    }

    @Test func zombieStatusHasNoMemory() throws {
        let st = try #require(ProcStatus.parse(Fixtures.bytes("4301/status")))
        #expect(!st.hasMemory)
        #expect(st.rssBytes == 0 && st.ppid == 4243)
    }

    @Test func statTakesTheNameUpToTheLastParenthesis() throws {
        let st = try #require(ProcStat.parse(Fixtures.bytes("4243/stat")))
        #expect(st.pid == 4243)
        #expect(st.comm == "worker) (x")
        #expect(st.state == "S")
        #expect(st.ppid == 4242)
        #expect(st.pgrp == 4243)
        #expect(st.startTime == 123500)
    }

    @Test func smapsRollupKeepsEveryKeyInBytes() throws {
        let r = try #require(SmapsRollup.parse(Fixtures.bytes("4242/smaps_rollup")))
        #expect(r.rss == 64732 * 1024)
        #expect(r.pss == 60412 * 1024)
        #expect(r["Pss_Anon"] == 58064 * 1024)
        #expect(r["NoSuchKey"] == 0)
        #expect(r.fields.count >= 20)
        var twice = r
        twice.add(r)
        #expect(twice.rss == 2 * r.rss)
        #expect(twice.fields.count == r.fields.count)
    }

    @Test func statmFixtureGivesResidentPagesMatchingStatusVmRSS() throws {
        let sm = try #require(ProcStatm.parse(Fixtures.bytes("4242/statm")))
        #expect(sm.sizePages == 16942 && sm.residentPages == 16183 && sm.sharedPages == 1667)
        #expect(sm.hasMemory)
        let st = try #require(ProcStatus.parse(Fixtures.bytes("4242/status")))
        #expect(sm.residentPages * 4096 == st.rssBytes)
    }

    @Test func zombieStatmHasNoMemory() throws {
        let sm = try #require(ProcStatm.parse(Fixtures.bytes("4301/statm")))
        #expect(!sm.hasMemory && sm.residentPages == 0)
    }

    struct StatmCase: Sendable, CustomTestStringConvertible {
        var id: String; var text: String; var resident: UInt64?
        var testDescription: String { id }
    }

    @Test(arguments: [
        StatmCase(id: "seven-fields", text: "10 7 3 1 0 5 0\n", resident: 7),
        StatmCase(id: "three-fields-no-newline", text: "10 7 3", resident: 7),
        StatmCase(id: "two-fields", text: "10 7\n", resident: nil),
        StatmCase(id: "letter", text: "10 x 3 1 0 5 0\n", resident: nil),
        StatmCase(id: "negative", text: "10 -7 3 1 0 5 0\n", resident: nil),
        StatmCase(id: "glued-junk", text: "10 7k 3 1 0 5 0\n", resident: nil),
        StatmCase(id: "overflow", text: "1 99999999999999999999 3\n", resident: nil),
        StatmCase(id: "empty", text: "", resident: nil),
    ])
    func statmValues(_ c: StatmCase) {
        #expect(ProcStatm.parse(Array(c.text.utf8))?.residentPages == c.resident)
    }

    @Test func childrenListsParse() {
        func pids(_ text: String) -> [Int32]? { Array(text.utf8).withUnsafeBufferPointer { parsePidList($0) } }
        #expect(pids("4243 4250 ") == [4243, 4250])
        #expect(pids("7") == [7])
        #expect(pids("") == [])
        #expect(pids("12 x ") == nil)
        #expect(pids("1234567890 ") == nil)
    }

    @Test func lastPidIsLoadavgsLastField() {
        #expect(parseLastPid(Array("0.19 0.17 0.08 3/110 4301\n".utf8)) == 4301)
        #expect(parseLastPid(Array("garbage".utf8)) == nil)
    }

    struct KiBCase: Sendable, CustomTestStringConvertible {
        var id: String; var text: String; var bytes: UInt64?
        var testDescription: String { id }
    }

    @Test(arguments: [
        KiBCase(id: "plain", text: "   1234 kB", bytes: 1234 * 1024),
        KiBCase(id: "tab", text: "\t0 kB", bytes: 0),
        KiBCase(id: "no-unit", text: " 1234", bytes: nil),
        KiBCase(id: "wrong-unit", text: " 1234 MB", bytes: nil),
        KiBCase(id: "not-a-number", text: " abc kB", bytes: nil),
        KiBCase(id: "overflow", text: " 99999999999999999999 kB", bytes: nil),
        KiBCase(id: "overflow-after-scaling", text: " 18446744073709551615 kB", bytes: nil),
        KiBCase(id: "trailing-junk", text: " 12 kB x", bytes: nil),
        KiBCase(id: "empty", text: "", bytes: nil),
    ])
    func kibValues(_ c: KiBCase) {
        #expect(parseKiB(ArraySlice(c.text.utf8)) == c.bytes)
    }

    @Test func malformedStatusLinesFailTheParse() {
        #expect(ProcStatus.parse(Array("Name:\tx\nVmRSS:\t 12 MB\n".utf8)) == nil)
        #expect(ProcStatus.parse(Array("Name:\tx\nPPid:\t-1\n".utf8)) == nil)
        let empty = ProcStatus.parse([UInt8]())
        #expect(empty?.hasMemory == false)
    }

    @Test func malformedStatAndRollupAreNil() {
        #expect(ProcStat.parse(Array("12 (x S 1".utf8)) == nil)
        #expect(ProcStat.parse(Array("12 (x) S".utf8)) == nil)
        #expect(ProcStat.parse([UInt8]()) == nil)
        #expect(SmapsRollup.parse([UInt8]()) == nil)
        #expect(SmapsRollup.parse(Array("Rss: lots kB\n".utf8)) == nil)
    }

    struct EventCase: Sendable, CustomTestStringConvertible {
        var id: String; var line: String; var event: StageEvent?
        var testDescription: String { id }
    }

    @Test(arguments: [
        EventCase(id: "enter", line: "enter fisher.basis_setup", event: .enter("fisher.basis_setup")),
        EventCase(id: "exit", line: "exit fisher.basis_setup", event: .exit("fisher.basis_setup")),
        EventCase(id: "crlf", line: "enter a b\r", event: .enter("a b")),
        EventCase(id: "no-name", line: "enter ", event: nil),
        EventCase(id: "unknown-verb", line: "begin x", event: nil),
        EventCase(id: "blank", line: "", event: nil),
    ])
    func stageEventLines(_ c: EventCase) {
        #expect(StageEvent.parse(line: c.line) == c.event)
    }

    @Test func lineBufferKeepsAPartialLine() {
        var b = LineBuffer()
        #expect(b.feed(Array("enter a\nexit".utf8)) == ["enter a"])
        #expect(b.feed(Array(" a\n".utf8)) == ["exit a"])
    }

    struct WaitCase: Sendable, CustomTestStringConvertible {
        var id: String; var raw: Int32; var status: QubeMemSystem.ExitStatus?
        var testDescription: String { id }
    }

    @Test(arguments: [
        WaitCase(id: "exit-0", raw: 0, status: QubeMemSystem.ExitStatus.exited(0)),
        WaitCase(id: "exit-3", raw: 0x300, status: QubeMemSystem.ExitStatus.exited(3)),
        WaitCase(id: "sigkill", raw: 9, status: QubeMemSystem.ExitStatus.signaled(9, coreDumped: false)),
        WaitCase(id: "sigsegv-core", raw: 0x8b, status: QubeMemSystem.ExitStatus.signaled(11, coreDumped: true)),
        WaitCase(id: "stopped", raw: 0x137f, status: nil),
    ] as [WaitCase])
    func waitStatusDecoding(_ c: WaitCase) {
        #expect(QubeMemSystem.ExitStatus(waitStatus: c.raw) == c.status)
    }

    @Test func shellCodesAndNames() {
        typealias Status = QubeMemSystem.ExitStatus
        #expect(Status.exited(7).shellCode == 7)
        #expect(Status.signaled(15, coreDumped: false).shellCode == 143)
        #expect(Status.signaled(9, coreDumped: false).description == "killed by signal 9 (SIGKILL)")
        #expect(signalName(64) == "signal 64")
    }
}
