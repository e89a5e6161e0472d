import Testing
@testable import QubeMemAudit
import QubeMemSlurm

@Suite struct SacctAccumulatorTests {
    func mixed(chunk: Int = 1 << 16) throws -> SacctAccumulator {
        accumulate(try fixtureBytes("mixed.sacct"), chunk: chunk)
    }

    func job(_ acc: SacctAccumulator, _ id: String) -> AccountedJob? {
        acc.finishedJobs.first { $0.key.description == id }
    }

    @Test func countsRowsLiveJobsAndMalformedLinesWithLineNumbers() throws {
        let acc = try mixed()
        #expect(acc.rows == 52)
        #expect(acc.liveJobs == 2)  // the PENDING placeholder row and the RUNNING job
        #expect(acc.pendingArrayRows == 1)
        #expect(acc.malformedCount == 4)
        #expect(acc.malformed.map(\.line) == [40, 41, 42, 46])
        #expect(acc.malformed[0].reason == "expected 15 fields separated by '|', found 1")
        #expect(acc.malformed[2].reason == "JobID 'abc' is not a job or step id")
        #expect(acc.malformed[3].reason == "MaxRSS '12Q' is not a memory size")
        #expect(acc.orphanJobs == 0)
        #expect(acc.finishedJobs.map(\.key.description) == [
            "1001", "1002", "1003", "1004", "1005", "1006_1", "1006_2", "1007+0", "1007+1", "1008", "1009",
            "1010", "1011", "1012", "1017", "1018", "1019", "1020", "1021",
        ])
    }

    @Test func sameResultWhateverTheChunkSize() throws {
        let whole = try mixed()
        for chunk in [1, 7, 64] {
            let acc = try mixed(chunk: chunk)
            #expect(acc.finishedJobs.map(\.peakBytes) == whole.finishedJobs.map(\.peakBytes))
            #expect(acc.malformed == whole.malformed)
        }
    }

    @Test func measuredPeakPerNodeIsTheLargestStepFigure() throws {
        let acc = try mixed()
        let expected: [(String, UInt64?, PeakBasis)] = [
            ("1001", 2_684_354_560, .singleTask),  // bare bytes; extern's 0 is a real zero
            ("1002", GiB, .singleTask),  // 1048576K
            ("1003", 500 * MiB, .singleTask),
            ("1004", 1_610_612_736, .singleTask),  // 1.50G
            ("1005", nil, .singleTask),  // empty MaxRSS everywhere: no data, not zero
            ("1006_1", GiB, .singleTask),
            ("1006_2", GiB, .singleTask),
            ("1007+0", 1_125_899_907, .singleTask),  // 0.000001P
            ("1007+1", 200 * MiB, .singleTask),
            ("1008", 400 * MiB, .taskSum),  // step 0: four tasks, TRESUsageInTot mem = 400M
            ("1009", 2_684_354_560, .multiNodeBound),  // min(sum 2.5G, 1G × (4 − 2 + 1))
            ("1010", 3000 * MiB, .singleTask),
            ("1012", 1100 * MiB, .singleTask),
            ("1017", 1900 * MiB, .singleTask),
            ("1018", nil, .singleTask),  // its only step row was malformed
            ("1019", 1_649_267_441_664, .singleTask),  // 1.5T
            ("1021", MiB, .singleTask),
        ]
        for (id, peak, basis) in expected {
            let j = job(acc, id)
            #expect(j?.peakBytes == peak, "\(id)")
            #expect(j?.peakBasis == basis, "\(id)")
        }
    }

    @Test func requestPerNodeAndStatesComeFromTheAllocationRow() throws {
        let acc = try mixed()
        #expect(job(acc, "1001")?.requestedPerNodeBytes == 3456 * MiB)
        #expect(job(acc, "1009")?.requestedPerNodeBytes == 4096 * MiB)  // 8192M over 2 nodes
        #expect(job(acc, "1017")?.requestedPerNodeBytes == 2000 * MiB)  // 2000Mn
        #expect(job(acc, "1018")?.requestedPerNodeBytes == 2000 * MiB)  // 500Mc × 4 CPUs
        #expect(job(acc, "1002")?.outOfMemory == true)
        #expect(job(acc, "1003")?.state == .cancelled)  // "CANCELLED by 1000"
        #expect(job(acc, "1004")?.state == .timeout)
        #expect(job(acc, "1005")?.state == .failed)
        #expect(job(acc, "1001")?.elapsedSeconds == 3600)
        #expect(job(acc, "1001")?.user == "alice")
    }

    @Test func pipesInsideFreeTextGoToCommentAndTheLastPieceToAdminComment() throws {
        let acc = try mixed()
        let j = job(acc, "1012")
        guard case .record(let r)? = j?.record else {
            Issue.record("no record on 1012")
            return
        }
        #expect(r.model == "1.0")
        #expect(r.userMiB == 1000)  // the record's last field, so the whole record was kept
        // With a record, the comment is not needed and not kept; without one it is, pipes and all.
        #expect(j?.comment == "")
        var other = SacctAccumulator()
        other.feed(Array("5|n|u|a|p|COMPLETED|1|1||1|1M|||qube: x=1 a|b|\n".utf8))
        other.finish()
        #expect(other.finishedJobs.first?.comment == "qube: x=1 a|b")
        #expect(other.finishedJobs.first?.record == AdminRecord.Found.none)
    }

    @Test func aHeaderLineSetsTheColumnOrder() {
        let text = "State|JobID|JobName|User|Account|Partition|ElapsedRaw|NNodes|NTasks|AllocCPUS|ReqMem|MaxRSS|"
            + "TRESUsageInTot|Comment|AdminComment\n"
        // The header must start with JobID to be recognised; this one does not, so it is a bad row.
        var acc = SacctAccumulator()
        acc.feed(Array(text.utf8))
        acc.finish()
        #expect(acc.malformedCount == 1)

        let good = "JobID|State|JobName|User|Account|Partition|ElapsedRaw|NNodes|NTasks|AllocCPUS|ReqMem|MaxRSS|"
            + "TRESUsageInTot|Comment|AdminComment\n"
            + "77|COMPLETED|n|u|a|p|10|1||1|100M||||\n77.batch|COMPLETED||||p|10|1|1|1||50M|||\n"
        var acc2 = SacctAccumulator()
        acc2.feed(Array(good.utf8))
        acc2.finish()
        #expect(acc2.malformedCount == 0)
        #expect(acc2.finishedJobs.first?.peakBytes == 50 * MiB)
        #expect(acc2.finishedJobs.first?.requestedPerNodeBytes == 100 * MiB)
    }

    @Test func aHeaderMissingAFieldStopsWithAClearMessage() {
        var acc = SacctAccumulator()
        acc.feed(Array("JobID|State\n1|COMPLETED\n".utf8))
        acc.finish()
        #expect(acc.headerError?.contains("no 'JobName' column") == true)
        #expect(acc.finishedJobs.isEmpty)
    }

    @Test func stepsWithoutTheirJobRowAreCountedNotAudited() {
        var acc = SacctAccumulator()
        acc.feed(Array("9.batch|batch|||p|COMPLETED|10|1|1|1||50M|||\r\n".utf8))
        acc.finish()
        #expect(acc.orphanJobs == 1)
        #expect(acc.finishedJobs.isEmpty)
        #expect(acc.malformedCount == 0)
    }

    @Test func multiTaskAndMultiNodeFigures() {
        // One task: MaxRSS.
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 1, nodes: 1, taskSum: 999) == (100, .singleTask))
        // Several tasks on one node: the sum of task peaks, or MaxRSS × tasks without it.
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 4, nodes: 1, taskSum: 310) == (310, .taskSum))
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 4, nodes: 1, taskSum: nil) == (400, .taskSum))
        // Several nodes: min(sum, MaxRSS × (tasks − nodes + 1)), never below MaxRSS.
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 8, nodes: 4, taskSum: 800) == (500, .multiNodeBound))
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 8, nodes: 4, taskSum: 450) == (450, .multiNodeBound))
        #expect(SacctAccumulator.nodePeak(maxRSS: 100, tasks: 2, nodes: 2, taskSum: nil) == (100, .multiNodeBound))
        #expect(SacctAccumulator.nodePeak(maxRSS: UInt64.max, tasks: 4, nodes: 1, taskSum: nil) == (UInt64.max, .taskSum))
    }
}

@Suite struct ByteScanTests {
    @Test func findsTheFirstMatchAtEveryOffsetAndLength() {
        for length in 0..<40 {
            for target in 0...length {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                if target < length { bytes[target] = UInt8(ascii: "|") }
                // Bytes that set high bits or differ by one from the pattern must not match.
                for i in stride(from: 0, to: length, by: 3) where i != target { bytes[i] = i % 2 == 0 ? 0xFC : 0x7D }
                for from in 0...length {
                    let expected = target >= from && target < length ? target : length
                    let got = bytes.withUnsafeBufferPointer { firstIndex(of: UInt8(ascii: "|"), in: $0, from: from) }
                    #expect(got == expected, "length \(length) target \(target) from \(from)")
                }
            }
        }
    }
}

@Suite struct JobTableTests {
    /// Rows for `keys`: each job an allocation row then a step row, in the order given.
    func dump(_ ids: [String], stepsLater: Bool = false) -> [UInt8] {
        let jobs = ids.map { "\($0)|n|u|a|p|COMPLETED|60|1||1|1000M|||qube: x|\n" }
        let steps = ids.map { "\($0).batch|batch|||p|COMPLETED|60|1|1|1||\(100 + $0.count)M|||\n" }
        let text = stepsLater ? jobs.joined() + steps.joined() : zip(jobs, steps).map { $0 + $1 }.joined()
        return Array(text.utf8)
    }

    /// Ids that fall on the same cells of an ordered table (multiples of a large power of two,
    /// big arrays, heterogeneous components, steps far from their job) are all found again.
    @Test func jobsAreFoundWhateverTheirIds() {
        let cases: [(String, [String])] = [
            ("sequential", (0..<5000).map { "\(100 + $0)" }),
            ("power-of-two stride", (0..<3000).map { "\(($0 + 1) << 20)" }),
            ("one big array", (0..<3000).map { "77_\($0)" }),
            ("arrays and components", (0..<2000).map { $0 % 3 == 0 ? "\(500 + $0 / 7)_\($0)" : "\(9000 + $0)+\($0 % 2)" }),
            ("descending", (0..<3000).map { "\(9_000_000 - $0 * 1024)" }),
        ]
        for (name, ids) in cases {
            for stepsLater in [false, true] {
                let acc = accumulate(dump(ids, stepsLater: stepsLater))
                #expect(acc.malformedCount == 0, "\(name)")
                let jobs = acc.finishedJobs
                #expect(jobs.count == Set(ids).count, "\(name)")
                #expect(jobs.allSatisfy { $0.stepRows == 1 && $0.peakBytes != nil }, "\(name)")
                #expect(acc.orphanJobs == 0, "\(name)")
                #expect(zip(jobs, jobs.dropFirst()).allSatisfy { $0.key < $1.key }, "\(name): in id order")
            }
        }
    }

    @Test func takingTheJobsGivesWhatFinishedJobsLists() throws {
        var acc = accumulate(try fixtureBytes("mixed.sacct"))
        let listed = acc.finishedJobs.map(\.key)
        #expect(acc.takeFinishedJobs().map(\.key) == listed)
        #expect(acc.finishedJobs.isEmpty)
        var shuffled = accumulate(dump(["30", "10", "20", "10_1"]))  // a plain id sorts after its array tasks
        #expect(shuffled.takeFinishedJobs().map(\.key.description) == ["10_1", "10", "20", "30"])
    }
}
