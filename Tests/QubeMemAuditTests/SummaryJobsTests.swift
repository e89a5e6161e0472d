import Testing
@testable import QubeMemAudit
import QubeMemSlurm

/// The summary-only path (`SacctAccumulator(keeping: .summary)`, `AuditReport(summary:)`) against the
/// path that keeps whole jobs, on the same rows: every count, group, quantile and the
/// recommendation must be equal (Doubles compared exactly).
@Suite struct SummaryJobsTests {
    /// A deterministic dump with every kind of job the report tells apart (see gen_varied.py).
    static func rows(jobs: Int, seed: UInt64 = 7) -> [String] {
        var state = seed
        func next(_ n: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % n
        }
        let states = ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED",
                      "OUT_OF_MEMORY", "CANCELLED by 0", "TIMEOUT", "FAILED"]
        var out: [String] = []
        for i in 0..<jobs {
            let id = i % 11 == 0 ? "\(7000 + i)_\(i % 5)" : i % 13 == 1 ? "\(7000 + i)+\(i % 2)" : "\(7000 + i)"
            let st = states[Int(next(UInt64(states.count)))]
            if i % 41 == 3 {
                out.append("\(id)|live|u|a|p|RUNNING|1|1||1|1G||||")
                continue
            }
            let peak = (next(4000) + 100) * MiB + next(MiB)
            let total = peak + 256 * MiB
            let slack = ["1.15", "1.15", "1.2"][Int(next(3))]
            let model = i % 5 == 0 ? "1.2" : "1.3", path = i % 3 == 0 ? "pixel_direct" : "harmonic"
            let reqMiB = total * 115 / 100 / MiB + 1
            var nodes = 1, cpus = 4
            var admin = "qubemem:v1 action=set model=\(model) path=\(path) peak_bytes=\(peak) baseline_bytes=\(256 * MiB) "
                + "slack=\(slack) request_mib=\(reqMiB) user_mib=none"
            var comment = "qube: path=\(path)"
            switch i % 12 {
            case 1: nodes = 2; cpus = 16; admin += " ranks_per_node=4 node_bytes=\(4 * total)"
            case 2: nodes = 3; cpus = 24; admin += " ranks=12 mem_per_cpu=yes cpus_per_rank=2 rank_bytes=\(total)"
            case 3: admin = "qubemem:v1 action=warn model=1.3"
            case 4: admin = "ops; qubemem:v1 action=set model=1.3 path=harmonic slack=1.15"
            case 5: admin = ""
            case 6: admin = ""; comment = "qube: bogus"
            case 7: admin = ""; comment = "plain"
            default: break
            }
            let reqMem = ["\(reqMiB * UInt64(nodes))M", "\(reqMiB)Mn", "\(reqMiB / UInt64(cpus) + 1)Mc", ""][Int(next(4))]
            out.append("\(id)|n\(i % 7)|u\(i % 3)|a|p|\(st)|\(next(90_000))|\(nodes)||\(cpus)|\(reqMem)|||\(comment)|\(admin)")
            let used = total / 100 * (50 + next(80))
            for s in 0..<Int(1 + next(3)) {
                let name = ["batch", "extern", "0"][s]
                let tasks = s == 2 && i % 4 == 0 ? 8 : 1
                let rss = i % 17 == 4 ? "" : s == 1 ? "0" : ["\(used / 1024)K", "\(used)", "\(used >> 20)M"][Int(next(3))]
                let stepState = i % 19 == 2 && s == 0 ? "OUT_OF_MEMORY" : "COMPLETED"
                let tres = tasks > 1 ? "cpu=00:01:00,mem=\(used * 3),pages=0" : ""
                out.append("\(id).\(name)|\(name)|||p|\(stepState)|5|\(tasks > 1 ? nodes : 1)|\(tasks)|4||\(rss)|\(tres)||")
            }
            if i % 29 == 6 { out.append("\(990_000 + i).batch|batch|||p|COMPLETED|5|1|1|1||1G|||") }  // no job row
        }
        return out
    }

    static func shuffled(_ rows: [String]) -> [String] {
        var rows = rows
        var state: UInt64 = 11
        for i in stride(from: rows.count - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            rows.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        return rows
    }

    static func accumulate(_ rows: [String], keeping: SacctAccumulator.Keeping) -> SacctAccumulator {
        var acc = SacctAccumulator(keeping: keeping)
        acc.feed(Array((rows.joined(separator: "\n") + "\n").utf8))
        acc.finish()
        return acc
    }

    /// The report both ways; expects every summary figure to be the same.
    static func expectSameSummary(_ rows: [String], _ configure: (inout AuditSettings) -> Void = { _ in }) {
        var settings = AuditSettings()
        configure(&settings)
        var whole = accumulate(rows, keeping: .jobs)
        var compact = accumulate(rows, keeping: .summary)
        #expect(whole.orphanJobs == compact.orphanJobs)
        #expect(whole.liveJobs == compact.liveJobs)
        let a = AuditReport(jobs: whole.takeFinishedJobs(), settings: settings, recompute: fakeRecompute)
        let b = AuditReport(summary: compact.takeSummary(), settings: settings, recompute: fakeRecompute)
        #expect(b.entries.isEmpty)
        #expect(a.finishedJobs == b.finishedJobs)
        #expect([a.withRecord, a.recomputed, a.withoutPrediction, a.unreadableRecords, a.unpricedComments]
            == [b.withRecord, b.recomputed, b.withoutPrediction, b.unreadableRecords, b.unpricedComments])
        #expect(a.overall == b.overall)
        #expect(a.byPath == b.byPath)
        #expect(a.byModel == b.byModel)
        #expect(a.byRanks == b.byRanks)
        #expect(a.recommendation == b.recommendation)
    }

    @Test func theGeneratedDumpHasEveryKindOfJob() {
        var acc = Self.accumulate(Self.rows(jobs: 3000), keeping: .jobs)
        #expect(acc.malformedCount == 0)
        let r = AuditReport(jobs: acc.takeFinishedJobs(), settings: AuditSettings(), recompute: fakeRecompute)
        #expect(r.withRecord > 1000 && r.recomputed > 100 && r.withoutPrediction > 100)
        #expect(r.unreadableRecords > 100 && r.unpricedComments > 100)
        #expect(r.byRanks.map(\.name) == ["ranks 1", "ranks 4", "ranks per-CPU"])
        #expect(r.byPath.count == 2 && r.byModel.count == 2)
        #expect(r.overall.oom > 0 && r.overall.noData > 0 && r.recommendation.eligible > 1000)
    }

    @Test func summaryOnlyReportEqualsTheWholeJobsReport() {
        let rows = Self.rows(jobs: 3000)
        Self.expectSameSummary(rows)
        Self.expectSameSummary(rows) { $0.includeAll = true; $0.target = 0.95 }
        Self.expectSameSummary(rows) { $0.currentSlack = 12_000; $0.nearMiss = 0.8 }
    }

    @Test func rowsInAnyOrderGiveTheSameReportBothWays() {
        let rows = Self.rows(jobs: 3000)
        let mixed = Self.shuffled(rows)
        Self.expectSameSummary(mixed)
        Self.expectSameSummary(mixed) { $0.includeAll = true }
        // And the same as in sacct's order.
        var inOrder = Self.accumulate(rows, keeping: .summary)
        var shuffled = Self.accumulate(mixed, keeping: .summary)
        let a = AuditReport(summary: inOrder.takeSummary(), settings: AuditSettings(), recompute: fakeRecompute)
        let b = AuditReport(summary: shuffled.takeSummary(), settings: AuditSettings(), recompute: fakeRecompute)
        #expect(a.overall == b.overall && a.byPath == b.byPath && a.recommendation == b.recommendation)
        var whole = Self.accumulate(mixed, keeping: .jobs)
        #expect(whole.takeFinishedJobs().map(\.key) == Self.accumulate(rows, keeping: .jobs).finishedJobs.map(\.key))
    }

    @Test func theFixturesGiveTheSameReportBothWays() throws {
        for name in ["mixed.sacct", "recommend-200.sacct"] {
            let text = String(decoding: try fixtureBytes(name), as: UTF8.self)
            let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            Self.expectSameSummary(rows)
            Self.expectSameSummary(rows) { $0.includeAll = true }
        }
    }

    @Test func aSummaryJobTakesSixtyFourBytes() {
        #expect(MemoryLayout<SummaryJob>.stride == 64)
    }
}
