import Foundation
import Testing
@testable import QubeMemCLI
@testable import QubeMemSystem

/// A profile of an MPI-like tree: hydra's proxy, three ranks sharing the launcher's pages, and
/// two small helpers, with a cgroup figure.
private func rankedRun() -> ProfileResult {
    let mib: UInt64 = 1 << 20
    func process(_ pid: Int32, _ name: String, _ mibs: UInt64, at t: Double, rank: Int? = nil, cmd: String) -> ProfileResult.Process {
        .init(pid: pid, ppid: pid == 100 ? 1 : 100, name: name, firstSeen: 0, ended: 9, peakBytes: mibs * mib, peakTime: t,
              reapedByProfiler: true,
              identity: .init(rankVariable: rank == nil ? nil : "PMI_RANK", rank: rank, commandLine: cmd))
    }
    let processes = [
        process(100, "hydra_pmi_proxy", 6, at: 0.2, cmd: "hydra_pmi_proxy --control-port x"),
        process(101, "python3", 400, at: 3.5, rank: 0, cmd: "python3 drive.py"),
        process(102, "python3", 400, at: 3.6, rank: 1, cmd: "python3 drive.py"),
        process(103, "python3", 380, at: 3.4, rank: 2, cmd: "python3 drive.py"),
        process(104, "sh", 1, at: 0.1, cmd: "sh -c true"),
        process(105, "cat", 0, at: 0, cmd: ""),
    ]
    return ProfileResult(
        command: ["mpiexec", "-n", "3", "python3", "drive.py"], intervalSeconds: 0.1, marksEverySeconds: 0.1,
        elapsedSeconds: 9, userSeconds: 20, systemSeconds: 1, exit: .exited(0), timedOut: false,
        peakBytes: 1187 * mib, peakTime: 3.6, peakSampledBytes: 1180 * mib, peakSampledTime: 3.5,
        highWaterMarksReset: true, peakBreakdown: [], peakBreakdownTime: nil, baselineBytes: 0,
        samples: [.init(time: 0.1, rssBytes: 10 * mib, intervalPeakBytes: 10 * mib, pssBytes: nil, processes: 6, cgroupBytes: 9 * mib, stage: nil)],
        stages: [], processes: processes, leftRunning: [], profilerCPUSeconds: 0.05,
        cgroup: .init(kind: .own, version: 1, directory: "/sys/fs/cgroup/memory/qubemem-profile-99", peakBytes: 900 * mib,
                      peakSampledBytes: 890 * mib, peakSampledTime: 3.5, startBytes: 0, removalError: nil),
        cgroupUnavailable: nil)
}

@Suite struct ProcessTableTests {
    @Test func processesBelowOnePercentOfTheTreePeakAreSummedNotListed() {
        let r = rankedRun()
        let (shown, hidden) = ProcessTable.select(r.processes, treePeakBytes: r.peakBytes)
        // 1% of 1187 MiB is 11.9 MiB: the proxy (6 MiB), sh and cat are below it.
        #expect(shown.map(\.pid) == [101, 102, 103])
        #expect(Set(hidden.map(\.pid)) == [100, 104, 105])
    }

    @Test func atMostSixteenRowsLargestFirst() {
        var r = rankedRun()
        r.processes = (0..<20).map { i in
            var p = r.processes[1]
            p.pid = Int32(200 + i)
            p.peakBytes = UInt64(100 + i) << 20
            return p
        }
        let (shown, hidden) = ProcessTable.select(r.processes, treePeakBytes: r.peakBytes)
        #expect(shown.count == ProcessTable.maxRows && hidden.count == 4)
        #expect(shown.first?.pid == 219 && hidden.map(\.pid).sorted() == [200, 201, 202, 203])
    }

    @Test func theTextTableNamesRanksAndTheRest() {
        let text = ProcessTable.text(rankedRun())
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("101") && $0.contains("PMI_RANK=0") && $0.contains("400.0 MiB") && $0.contains("3.500 s") && $0.contains("python3 drive.py") })
        #expect(lines.contains { $0.contains("PMI_RANK=2") && $0.contains("380.0 MiB") })
        #expect(lines.contains("  and 3 more (own peaks together 7.0 MiB)"))
        #expect(text.contains("3 of 6 at or above 1% of the tree's peak RSS"))
    }

    @Test func aSingleProcessGetsNoTable() {
        var r = rankedRun()
        r.processes = [r.processes[1]]
        #expect(ProcessTable.text(r) == "")
    }

    @Test func theReportSaysWhichFigureIsTheRSSSumAndWhichTheCgroupCharge() {
        var r = rankedRun()
        let text = ProfileReport.text(r)
        #expect(text.contains("peak RSS     1.16 GiB at 3.600 s  (sum of the tree's per-process RSS"))
        #expect(text.contains("cgroup peak  900.0 MiB  (charge of the run's own cgroup v1, kernel memory.max_usage_in_bytes: each page once"))
        r.cgroup = nil
        r.cgroupUnavailable = "turned off with --no-cgroup"
        #expect(ProfileReport.text(r).contains("cgroup peak  none: turned off with --no-cgroup"))
    }

    @Test func theJSONCarriesEveryProcessWithItsRankAndTheCgroup() throws {
        let data = Data(ProfileReport.json(rankedRun()).utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let processes = try #require(root["processes"] as? [[String: Any]])
        #expect(processes.count == 6)
        let rank1 = try #require(processes.first { $0["pid"] as? Int == 102 })
        #expect(rank1["rank_variable"] as? String == "PMI_RANK" && rank1["rank"] as? Int == 1)
        #expect(rank1["command_line"] as? String == "python3 drive.py" && rank1["peak_time"] as? Double == 3.6)
        let cgroup = try #require(root["cgroup"] as? [String: Any])
        #expect(cgroup["kind"] as? String == "own" && cgroup["peak_bytes"] as? Int == 900 << 20)
        #expect(root["cgroup_unavailable"] is NSNull)
        let sample = try #require((root["samples"] as? [[String: Any]])?.first)
        #expect(sample["cgroup"] as? Int == 9 << 20)
    }
}
