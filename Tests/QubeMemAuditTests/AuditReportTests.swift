import Testing
@testable import QubeMemAudit
import QubeMemSlurm

@Suite struct AuditReportTests {
    func report(_ fixture: String, _ configure: (inout AuditSettings) -> Void = { _ in }) throws -> AuditReport {
        let acc = accumulate(try fixtureBytes(fixture))
        var settings = AuditSettings()
        configure(&settings)
        return AuditReport(jobs: acc.finishedJobs, settings: settings, recompute: fakeRecompute)
    }

    func entry(_ r: AuditReport, _ id: String) -> AuditEntry? { r.entries.first { $0.id == id } }

    @Test func predictionsComeFromTheRecordElseTheCommentElseNothing() throws {
        let r = try report("mixed.sacct")
        #expect(r.finishedJobs == 19)
        #expect(r.withRecord == 9)
        #expect(r.recomputed == 3)  // 1006_1, 1006_2, and 1019 whose record is broken
        #expect(r.withoutPrediction == 7)
        #expect(r.unreadableRecords == 2)  // 1019 (fields missing), 1020 (version 2)
        #expect(r.unpricedComments == 1)  // 1021
        #expect(r.entries.count == 12)  // without --all, only predicted jobs are listed
        let e = entry(r, "1001")
        #expect(e?.source == .record)
        #expect(e?.predictedBytes == 2_555_904_000 + 470_000_000)
        #expect(e?.requestedBytes == 3456 * MiB)
        #expect(e?.model == "1.3")
        #expect(e?.path == "harmonic")
        #expect(e?.slack == 11_500)
        #expect(entry(r, "1006_1")?.source == .recomputed)
        #expect(entry(r, "1006_1")?.predictedBytes == GiB)
        #expect(entry(r, "1019")?.note == "AdminComment record unreadable: missing field 'path'")
        #expect(entry(r, "1012")?.model == "1.0")
        #expect(entry(r, "1012")?.slack == 13_000)
    }

    @Test func allListsJobsWithoutPredictionAsPlainEfficiency() throws {
        let r = try report("mixed.sacct") { $0.includeAll = true }
        #expect(r.entries.count == 19)
        let plain = entry(r, "1010")
        #expect(plain?.source == PredictionSource.none)
        #expect(plain?.predictedBytes == nil)
        #expect(plain?.requestedOverMeasured == 4000.0 / 3000.0)
        #expect(entry(r, "1021")?.note == "qube comment not priced: unknown key 'bogus'")
    }

    @Test func flagsOutOfMemoryAndNearMisses() throws {
        let r = try report("mixed.sacct")
        #expect(r.entries.filter(\.oom).map(\.id) == ["1002"])
        #expect(r.entries.filter(\.nearMiss).map(\.id) == ["1012", "1019"])  // 1100/1200 ≥ 0.9; 1.5T ≫ 2000M
        let strict = try report("mixed.sacct") { $0.nearMiss = 0.95 }
        #expect(strict.entries.filter(\.nearMiss).map(\.id) == ["1019"])
    }

    @Test func summaryCountsStatesRatiosAndWaste() throws {
        let r = try report("mixed.sacct")
        #expect(r.overall.jobs == 12)
        #expect(r.overall.byState == [.completed: 8, .outOfMemory: 1, .cancelled: 1, .timeout: 1, .failed: 1])
        #expect(r.overall.oom == 1)
        #expect(r.overall.nearMisses == 2)
        #expect(r.overall.noData == 1)  // 1005
        #expect(r.byPath.map(\.name) == ["path harmonic", "path pixel_direct"])
        #expect(r.byModel.map(\.name) == ["model 1.0", "model 1.2", "model 1.3"])
        #expect(r.byModel.map(\.jobs) == [1, 1, 10])
        // 1001: requested 3456 MiB, used 2.5 GiB for one hour.
        let one = try #require(entry(r, "1001"))
        #expect(one.wastedBytes == 3456 * MiB - 2_684_354_560)
        // The 11 jobs with both figures; 1019 used more than it asked for and wastes nothing.
        let waste: UInt64 = (3456 * MiB - 2_684_354_560) + 0 + (2000 - 500) * MiB + (4096 * MiB - 1_610_612_736)
            + 1024 * MiB * 2 + (1536 * MiB - 1_125_899_907) + (2048 - 400) * MiB + (4096 * MiB - 2_684_354_560) * 2
            + 100 * MiB + 0
        #expect(abs(r.overall.wastedGiB - Double(waste) / Double(GiB)) < 1e-9)
        let q = try #require(r.overall.measuredOverPredicted)
        #expect(q.count == 11)
        #expect(q.max == 1_649_267_441_664.0 / Double(GiB))
    }

    @Test func quantilesUseNearestRank() {
        let q = Quantiles((1...100).map(Double.init))
        #expect(q?.count == 100)
        #expect(q?.p50 == 50)
        #expect(q?.p90 == 90)
        #expect(q?.p99 == 99)
        #expect(q?.max == 100)
        let small = Quantiles([3, 1, 2])
        #expect(small?.p50 == 2)
        #expect(small?.p99 == 3)
        #expect(Quantiles([]) == nil)
    }

    @Test func recommendationOnAKnownDistribution() throws {
        // 200 jobs predicted at 1000 MiB whose peaks are 1001…1200 MiB: needs 1.001…1.200.
        let r = try report("recommend-200.sacct")
        let rec = r.recommendation
        #expect(rec.eligible == 200)
        #expect(rec.enoughJobs)
        #expect(rec.slack == 12_000)  // the 198th need is 1.198, rounded up to 1.20
        #expect(rec.covered == 200)
        #expect(rec.currentSlack == 11_500)  // from the records
        #expect(rec.currentCovered == 150)
        #expect(rec.requestedGiB == 240_000.0 / 1024)
        #expect(rec.currentRequestedGiB == 230_000.0 / 1024)
        #expect(abs(rec.wasteGiBHours - 19_900.0 / 1024) < 1e-9)
        #expect(abs(rec.currentWasteGiBHours - 11_175.0 / 1024) < 1e-9)

        let r95 = try report("recommend-200.sacct") { $0.target = 0.95 }
        #expect(r95.recommendation.slack == 11_900)
        #expect(r95.recommendation.covered == 190)
    }

    @Test func fewJobsAreSaidToBeTooFew() throws {
        let r = try report("mixed.sacct")
        #expect(r.recommendation.eligible == 9)  // completed or OOM, with prediction and peak
        #expect(r.recommendation.minimumJobs == 100)
        #expect(!r.recommendation.enoughJobs)
    }

    @Test func outOfMemoryJobsNeedStrictlyMoreThanTheirLimit() {
        var job = AccountedJob(key: JobKey(job: 1), line: 1)
        job.hasAllocation = true
        job.state = .outOfMemory
        job.nodes = 1
        job.cpus = 1
        job.requested = .total(1100 * MiB)
        job.peakBytes = 1100 * MiB
        job.record = AdminRecord.find(in: "qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=\(1000 * MiB - 256 * MiB) "
            + "baseline_bytes=\(256 * MiB) slack=1.1 request_mib=1100 user_mib=none")
        let r = AuditReport(jobs: [job], settings: AuditSettings(), recompute: fakeRecompute)
        // 1.10 is exactly what killed it; the smallest 0.01 step above is 1.11.
        #expect(r.recommendation.slack == 11_100)
        #expect(r.recommendation.covered == 1)
        #expect(r.recommendation.currentCovered == 0)
    }

    /// A broken record predicting a few bytes gives a need of billions of times the prediction; the
    /// search for the slack used to step 0.01 at a time from a cap of 10¹⁰ and never ended.
    @Test func anAbsurdPredictionStillGivesARecommendation() {
        var job = AccountedJob(key: JobKey(job: 1), line: 1)
        job.hasAllocation = true
        job.state = .completed
        job.nodes = 1
        job.cpus = 1
        job.peakBytes = 40 * GiB
        job.record = AdminRecord.find(in: "qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=1 "
            + "baseline_bytes=1 slack=1.15 request_mib=1 user_mib=none")
        let r = AuditReport(jobs: [job], settings: AuditSettings(), recompute: fakeRecompute)
        let slack = try? #require(r.recommendation.slack)
        #expect(slack == 214_748_364_800_000)  // 40 GiB / 2 bytes, in ten-thousandths
        #expect(r.recommendation.covered == 1)
    }

    /// Summary groups count each state in an array indexed by the state's position.
    @Test func stateOrdinalsArePositionsInAllCases() {
        for (i, state) in JobState.allCases.enumerated() { #expect(state.ordinal == i, "\(state)") }
    }

    /// A two-node job whose second node died (its slurmd killed, in tests/multinode): sacct ends it
    /// NODE_FAIL, with the surviving node's figures on the steps. That partial peak is not the
    /// run's: the job is counted (state NODE_FAIL, no data), never as a peak that fit.
    @Test func nodeFailJobsAreCountedWithoutAPeak() throws {
        let record = "qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=300000000 baseline_bytes=280000000 "
            + "slack=1.15 request_mib=652 user_mib=none"
        let rows = [
            "41|wrap|root|root|debug|NODE_FAIL|25|2||2|652M|||qube: path=harmonic|\(record)",
            "41.batch|batch|||debug|CANCELLED|25|1|1|1||10711040|cpu=0,mem=10711040||",
            "41.0|0|||debug|CANCELLED|25|2|2|2||223436800|cpu=0,mem=223436800||",
            "42|wrap|root|root|debug|COMPLETED|25|2||2|652M|||qube: path=harmonic|\(record)",
            "42.batch|batch|||debug|COMPLETED|25|1|1|1||10711040|cpu=0,mem=10711040||",
            "42.0|0|||debug|COMPLETED|25|2|2|2||500000000|cpu=0,mem=900000000||",
        ]
        let text = Array((rows.joined(separator: "\n") + "\n").utf8)
        var jobs = SacctAccumulator(keeping: .jobs), summary = SacctAccumulator(keeping: .summary)
        jobs.feed(text)
        summary.feed(text)
        jobs.finish()
        summary.finish()
        let whole = AuditReport(jobs: jobs.finishedJobs, settings: AuditSettings(), recompute: fakeRecompute)
        let compact = AuditReport(summary: summary.takeSummary(), settings: AuditSettings(), recompute: fakeRecompute)
        let failed = try #require(entry(whole, "41"))
        #expect(failed.state == .nodeFail)
        #expect(failed.peakBytes == nil)
        #expect(failed.measuredOverPredicted == nil && failed.wastedBytes == nil && !failed.nearMiss)
        #expect(entry(whole, "42")?.peakBytes == 500_000_000)
        for r in [whole, compact] {
            #expect(r.overall.jobs == 2)
            #expect(r.overall.byState == [.completed: 1, .nodeFail: 1])
            #expect(r.overall.noData == 1)
            #expect(r.overall.measuredOverPredicted?.count == 1)
            #expect(r.overall.requestedOverMeasured?.count == 1)
        }
    }
}

@Suite struct QuantileSelectionTests {
    @Test func selectionAgreesWithSortingOnShuffledAndRepeatedValues() {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 2, 3, 10, 99, 100, 101, 1000] {
            for _ in 0..<5 {
                let values = (0..<n).map { _ in Double(Int.random(in: 0..<max(n / 3, 1), using: &rng)) }
                let sorted = values.sorted()
                func rank(_ p: Double) -> Double { sorted[min(max(Int((p * Double(n)).rounded(.up)), 1), n) - 1] }
                let q = Quantiles(values)
                #expect(q?.p50 == rank(0.5))
                #expect(q?.p90 == rank(0.9))
                #expect(q?.p99 == rank(0.99))
                #expect(q?.max == sorted.last)
            }
        }
    }
}
