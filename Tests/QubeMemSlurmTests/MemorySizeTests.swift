import Testing
@testable import QubeMemSlurm

@Suite struct MemorySizeTests {
    struct Case: Sendable, CustomStringConvertible {
        var id: String
        var text: String
        var bareShift: Int
        var expected: MemorySize.Parsed
        var description: String { id }
    }

    static let cases: [Case] = [
        Case(id: "empty-is-no-data", text: "", bareShift: 0, expected: .empty),
        Case(id: "bare-bytes", text: "2684354560", bareShift: 0, expected: .bytes(2_684_354_560)),
        Case(id: "bare-zero", text: "0", bareShift: 0, expected: .bytes(0)),
        Case(id: "bare-mib", text: "3456", bareShift: 2, expected: .bytes(3456 << 20)),
        Case(id: "kilo", text: "1048576K", bareShift: 0, expected: .bytes(1 << 30)),
        Case(id: "mega", text: "500M", bareShift: 0, expected: .bytes(500 << 20)),
        Case(id: "giga", text: "2G", bareShift: 0, expected: .bytes(2 << 30)),
        Case(id: "tera", text: "1T", bareShift: 0, expected: .bytes(1 << 40)),
        Case(id: "peta", text: "3P", bareShift: 0, expected: .bytes(3 << 50)),
        Case(id: "exa", text: "1E", bareShift: 0, expected: .bytes(1 << 60)),
        Case(id: "lower-case", text: "8k", bareShift: 0, expected: .bytes(8192)),
        Case(id: "decimal-giga", text: "1.50G", bareShift: 0, expected: .bytes(1_610_612_736)),
        Case(id: "decimal-rounds-half-up", text: "0.000001P", bareShift: 0, expected: .bytes(1_125_899_907)),
        Case(id: "decimal-tera", text: "1.5T", bareShift: 0, expected: .bytes(1_649_267_441_664)),
        Case(id: "unknown-suffix", text: "12Q", bareShift: 0, expected: .invalid),
        Case(id: "suffix-only", text: "K", bareShift: 0, expected: .invalid),
        Case(id: "two-suffixes", text: "1KM", bareShift: 0, expected: .invalid),
        Case(id: "digits-after-suffix", text: "1K2", bareShift: 0, expected: .invalid),
        Case(id: "two-points", text: "1.2.3G", bareShift: 0, expected: .invalid),
        Case(id: "leading-point", text: ".5G", bareShift: 0, expected: .invalid),
        Case(id: "negative", text: "-1", bareShift: 0, expected: .invalid),
        Case(id: "overflow-digits", text: "99999999999999999999", bareShift: 0, expected: .invalid),
        Case(id: "overflow-suffix", text: "100000E", bareShift: 0, expected: .invalid),
        Case(id: "placeholder-question-mark", text: "16?", bareShift: 2, expected: .invalid),
    ]

    @Test(arguments: cases)
    func parsesEverySuffixAndRejectsGarbage(_ c: Case) {
        #expect(MemorySize.parse(c.text, bareUnitShift: c.bareShift) == c.expected)
    }

    @Test func reqMemPlainIsTheJobTotalInMiB() {
        let r = RequestedMemory.parse(Array("8192M".utf8))
        #expect(r == .total(8192 << 20))
        #expect(r?.perNodeBytes(nodes: 2, cpus: 8) == 4096 << 20)
        #expect(RequestedMemory.parse(Array("8192".utf8)) == .total(8192 << 20))
    }

    @Test func reqMemLegacySuffixesArePerNodeAndPerCPU() {
        #expect(RequestedMemory.parse(Array("2000Mn".utf8))?.perNodeBytes(nodes: 3, cpus: 4) == 2000 << 20)
        #expect(RequestedMemory.parse(Array("500Mc".utf8))?.perNodeBytes(nodes: 1, cpus: 4) == 2000 << 20)
        #expect(RequestedMemory.parse(Array("500Mc".utf8))?.perNodeBytes(nodes: 2, cpus: 4) == 1000 << 20)
    }

    @Test func reqMemUnknownCountsGiveNoPerNodeFigure() {
        #expect(RequestedMemory.parse(Array("500Mc".utf8))?.perNodeBytes(nodes: 1, cpus: 0) == nil)
        #expect(RequestedMemory.parse(Array("500M".utf8))?.perNodeBytes(nodes: 0, cpus: 1) == nil)
        #expect(RequestedMemory.parse(Array("".utf8)) == nil)
        #expect(RequestedMemory.parse(Array("16?".utf8)) == nil)
    }
}

@Suite struct JobIDTests {
    @Test func readsPlainArrayHetAndSteps() {
        func p(_ s: String) -> JobIDField? { JobIDField.parse(Array(s.utf8)) }
        #expect(p("123") == .job(JobKey(job: 123)))
        #expect(p("123.batch") == .step(JobKey(job: 123), .batch))
        #expect(p("123.extern") == .step(JobKey(job: 123), .extern))
        #expect(p("123.interactive") == .step(JobKey(job: 123), .interactive))
        #expect(p("123.7") == .step(JobKey(job: 123), .numbered(7)))
        #expect(p("123_4") == .job(JobKey(job: 123, arrayTask: 4)))
        #expect(p("123_4.batch") == .step(JobKey(job: 123, arrayTask: 4), .batch))
        #expect(p("123+1") == .job(JobKey(job: 123, hetComponent: 1)))
        #expect(p("123+0.0") == .step(JobKey(job: 123, hetComponent: 0), .numbered(0)))
        #expect(p("123_[4-9%2]") == .pendingArray(123))
        #expect(JobKey(job: 123, arrayTask: 4).description == "123_4")
        #expect(JobKey(job: 123, hetComponent: 0).description == "123+0")
    }

    @Test func rejectsWhatIsNotAnId() {
        for text in ["", "abc", "123.", "123_", "123+", "123_[4-9", "123x", "_4", "123_4_5", "99999999999999999999"] {
            #expect(JobIDField.parse(Array(text.utf8)) == nil, "\(text)")
        }
    }
}

@Suite struct AdminRecordTests {
    @Test func readsTheLastRecordAfterForeignText() {
        let text = "reaper: ok; qubemem:v1 action=set model=1.2 path=harmonic peak_bytes=1 baseline_bytes=2 "
            + "slack=1.2 request_mib=3 user_mib=none; "
            + "qubemem:v1 action=kept_larger model=1.3 path=pixel_direct peak_bytes=100 baseline_bytes=28 "
            + "slack=1.15 request_mib=4096 user_mib=4096 future_field=x"
        guard case .record(let r) = AdminRecord.find(in: text) else {
            Issue.record("no record found")
            return
        }
        #expect(r.action == "kept_larger")
        #expect(r.model == "1.3")
        #expect(r.path == "pixel_direct")
        #expect(r.predictedTotalBytes == 128)
        #expect(r.slackTenThousandths == 11_500)
        #expect(r.requestMiB == 4096)
        #expect(r.userMiB == 4096)
    }

    @Test func foreignTextIsNoRecord() {
        #expect(AdminRecord.find(in: "") == .none)
        #expect(AdminRecord.find(in: "reaper: checked; notqubemem:v1 x") == .none)
    }

    /// The plugin's record for a malformed comment accepted with a warning carries no prediction.
    @Test func warnRecordMeansThePluginSawAnUnreadableComment() {
        #expect(AdminRecord.find(in: "qubemem:v1 action=warn user_mib=8000") == .warned)
        #expect(AdminRecord.find(in: "site note; qubemem:v1 action=warn user_mib=none") == .warned)
        // A later decision supersedes the warning.
        guard case .record = AdminRecord.find(
            in: "qubemem:v1 action=warn user_mib=none; qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=1 baseline_bytes=2 slack=1.15 request_mib=3 user_mib=none")
        else {
            Issue.record("the last record is the one that counts")
            return
        }
    }

    @Test func brokenRecordsSayWhy() {
        #expect(AdminRecord.find(in: "qubemem:v2 action=set") == .invalid("unsupported record version 'qubemem:v2'"))
        #expect(AdminRecord.find(in: "qubemem:v1 action=set model=1.3")
            == .invalid("missing field 'path'"))
        #expect(AdminRecord.find(in: "qubemem:v1 action=set model=1.3 path=h peak_bytes=x")
            == .invalid("bad or missing peak_bytes 'x'"))
        #expect(AdminRecord.find(in: "qubemem:v1 action=set action=warn")
            == .invalid("field 'action' given twice"))
    }

    /// The byte-level scan agrees with a plain reading of the contract on every kind of text.
    @Test func recordScanAgreesWithAPlainReading() {
        let full = "action=set model=1.3 path=harmonic peak_bytes=10 baseline_bytes=2 slack=1.15 request_mib=3 user_mib=none"
        let cases: [(String, AdminRecord.Found)] = [
            ("qubemem:v1 " + full, .record(AdminRecord(action: "set", model: "1.3", path: "harmonic", peakBytes: 10,
                baselineBytes: 2, slackTenThousandths: 11_500, requestMiB: 3, userMiB: nil))),
            ("qubemem:v1\t" + full.replacing(" ", with: "\t") + "  ", .record(AdminRecord(action: "set", model: "1.3",
                path: "harmonic", peakBytes: 10, baselineBytes: 2, slackTenThousandths: 11_500, requestMiB: 3, userMiB: nil))),
            ("x,qubemem:v1 " + full + "; later note", .record(AdminRecord(action: "set", model: "1.3", path: "harmonic",
                peakBytes: 10, baselineBytes: 2, slackTenThousandths: 11_500, requestMiB: 3, userMiB: nil))),
            ("qubemem:v1 " + full + "; ,qubemem:v1 action=warn", .warned),
            ("qqqubemem:v1 action=warn", .none),
            ("qubemem", .none),
            ("qubemem:", .invalid("unsupported record version 'qubemem:'")),
            ("qubemem:v10 " + full, .invalid("unsupported record version 'qubemem:v10'")),
            ("qubemem:v1", .invalid("missing field 'action'")),
            ("qubemem:v1 =x " + full, .record(AdminRecord(action: "set", model: "1.3", path: "harmonic", peakBytes: 10,
                baselineBytes: 2, slackTenThousandths: 11_500, requestMiB: 3, userMiB: nil))),
            ("qubemem:v1 " + full + " Action", .invalid("field without '=': 'Action'")),
            ("qubemem:v1 " + full + " model=x", .invalid("field 'model' given twice")),
            ("qubemem:v1 " + full.replacing("slack=1.15", with: "slack=1."), .invalid("bad or missing slack '1.'")),
            ("qubemem:v1 " + full.replacing("user_mib=none", with: "user_mib="), .invalid("bad user_mib ''")),
            ("qubemem:v1 " + full.replacing("peak_bytes=10", with: "peak_bytes=18446744073709551616"),
             .invalid("bad or missing peak_bytes '18446744073709551616'")),
        ]
        for (text, expected) in cases { #expect(AdminRecord.find(in: text) == expected, "\(text)") }
    }

    @Test func decimalsRoundTripWithFourPlaces() {
        #expect(parseDecimal4("1.15") == 11_500)
        #expect(parseDecimal4("1") == 10_000)
        #expect(parseDecimal4("0.0001") == 1)
        #expect(parseDecimal4("1.00001") == nil)
        #expect(parseDecimal4("1.") == nil)
        #expect(parseDecimal4("x") == nil)
        #expect(formatDecimal4(11_500) == "1.15")
        #expect(formatDecimal4(10_000) == "1.0")
        #expect(formatDecimal4(10_005) == "1.0005")
    }
}

@Suite struct SacctQueryTests {
    @Test func defaultQueryAsksAllUsersForAWeekInParsableRawUnits() {
        #expect(SacctQuery().arguments == [
            "--parsable2", "--noheader", "--noconvert",
            "--format=JobID,JobName,User,Account,Partition,State,ElapsedRaw,NNodes,NTasks,AllocCPUS,ReqMem,"
                + "MaxRSS,TRESUsageInTot,Comment,AdminComment",
            "--starttime=now-7days", "--allusers",
        ])
    }

    @Test func filtersBecomeOneArgumentEach() {
        var q = SacctQuery()
        q.start = "2026-11-01"
        q.end = "2026-11-08T12:00"
        q.users = ["alice", "bob"]
        q.accounts = ["cmb"]
        q.partitions = ["normal", "long"]
        q.states = ["COMPLETED", "OUT_OF_MEMORY"]
        q.jobs = ["123", "456_7"]
        #expect(Array(q.arguments.dropFirst(4)) == [
            "--starttime=2026-11-01", "--endtime=2026-11-08T12:00", "--user=alice,bob", "--accounts=cmb",
            "--partition=normal,long", "--state=COMPLETED,OUT_OF_MEMORY", "--jobs=123,456_7",
        ])
    }

    @Test func shellLineQuotesOnlyWhatNeedsIt() {
        var q = SacctQuery()
        q.users = ["o'brien"]
        #expect(q.shellLine().hasSuffix("--starttime=now-7days '--user=o'\\''brien'"))
    }
}

/// The multi-rank fields at the end of v1 records, read back as the plugin writes them.
@Suite struct AdminRecordRanksTests {
    static let head = "qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=100 baseline_bytes=50 slack=1.15 request_mib=9 user_mib=none"

    @Test func perNodeRecordsPredictTheirNode() throws {
        guard case .record(let r) = AdminRecord.find(in: Self.head + " ranks_per_node=4 node_bytes=1000") else {
            Issue.record("not read"); return
        }
        #expect(r.ranks == .perNode(ranks: 4, nodeBytes: 1000))
        #expect(r.predictedTotalBytes == 1000)
        #expect(r.ranksPerNode == 4)
    }

    @Test func perCPURecordsPredictFromTheCPUsEachNodeGot() throws {
        let text = Self.head + " ranks=8 mem_per_cpu=yes cpus_per_rank=2 rank_bytes=300"
        guard case .record(let r) = AdminRecord.find(in: text) else { Issue.record("not read"); return }
        #expect(r.ranks == .perCPU(ranks: 8, cpusPerRank: 2, rankBytes: 300))
        #expect(r.predictedNodeBytes(cpusPerNode: 8) == 1200)  // 4 ranks of 2 CPUs
        #expect(r.predictedNodeBytes(cpusPerNode: 3) == 600)   // 2 ranks, one with a single CPU
        #expect(r.ranksPerNode == nil)
    }

    @Test func singleProcessRecordsAreOneRank() throws {
        guard case .record(let r) = AdminRecord.find(in: Self.head) else { Issue.record("not read"); return }
        #expect(r.ranks == nil)
        #expect(r.predictedTotalBytes == 150)
        #expect(r.ranksPerNode == 1)
    }

    @Test(arguments: [
        ("ranks_per_node=0 node_bytes=5", "ranks_per_node '0'"),
        ("ranks_per_node=4", "node_bytes ''"),
        ("node_bytes=5", "ranks_per_node ''"),
        ("ranks=8 mem_per_cpu=no cpus_per_rank=1 rank_bytes=3", "mem_per_cpu 'no'"),
        ("ranks=8 mem_per_cpu=yes rank_bytes=3", "cpus_per_rank ''"),
        ("ranks=x mem_per_cpu=yes cpus_per_rank=1 rank_bytes=3", "ranks 'x'"),
    ])
    func brokenRankFieldsSayWhich(_ tail: String, _ quoted: String) {
        guard case .invalid(let why) = AdminRecord.find(in: Self.head + " " + tail) else {
            Issue.record("accepted: \(tail)"); return
        }
        #expect(why.contains(quoted), "\(why)")
    }
}
