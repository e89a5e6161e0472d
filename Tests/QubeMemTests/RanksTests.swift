import Testing

@testable import QubeMem

/// MPI runs: the ranks on the busiest node, and the node's memory built from them.
@Suite struct RanksTests {
    static let harmonic = "qube: path=harmonic fields=QU n_obs=1200 lmax=48 lmax_signal=96"
    static let pixel = "qube: path=pixel_direct fields=QU n_obs=800 lmax=24 lmax_signal=32 n_bins=8"

    static func spec(_ comment: String) throws -> RunSpec {
        try #require(QubeComment.parse(comment)).get()
    }

    static func predict(_ comment: String, _ layout: TaskLayout, _ policy: RequestPolicy = RequestPolicy()) throws
        -> Prediction
    {
        try Predictor.predict(try spec(comment), policy: policy, layout: layout).get()
    }

    /// (ntasks, nodes, ntasks-per-node, cpus-per-task) → placement.
    @Test(arguments: [
        (nil, nil, nil, nil, TaskLayout.Placement.busiestNode(ranks: 1)),
        (1, nil, nil, nil, .busiestNode(ranks: 1)),
        (8, 2, nil, nil, .busiestNode(ranks: 4)),
        (7, 2, nil, nil, .busiestNode(ranks: 4)),
        (7, 7, nil, nil, .busiestNode(ranks: 1)),
        (3, 5, nil, nil, .busiestNode(ranks: 1)),
        (nil, nil, 2, nil, .busiestNode(ranks: 2)),
        (8, nil, 4, nil, .busiestNode(ranks: 4)),
        (2, nil, 4, nil, .busiestNode(ranks: 2)),
        (8, 4, 4, nil, .busiestNode(ranks: 4)),
        (8, nil, nil, nil, .unplaced(ranks: 8)),
        (8, nil, nil, 4, .unplaced(ranks: 8)),
        (nil, 3, nil, nil, .busiestNode(ranks: 1)),
        (UInt64(UInt32.max), 1, nil, nil, .busiestNode(ranks: UInt64(UInt32.max))),
        (0, 0, 0, 0, .busiestNode(ranks: 1)),
    ] as [(UInt64?, UInt64?, UInt64?, UInt64?, TaskLayout.Placement)])
    func busiestNodeFollowsSlurmsLayoutFields(_ tasks: UInt64?, _ nodes: UInt64?, _ perNode: UInt64?,
                                              _ cpus: UInt64?, _ expected: TaskLayout.Placement) {
        let layout = TaskLayout(tasks: tasks, nodes: nodes, tasksPerNode: perNode, cpusPerTask: cpus)
        #expect(layout.placement == expected)
    }

    @Test(arguments: [harmonic, pixel])
    func oneRankIsPricedExactlyAsOneProcess(_ comment: String) throws {
        let single = try Self.predict(comment, .singleRank)
        #expect(single.node.requestMiB == single.requestMiB)
        #expect(single.node.totalBytes == single.totalBytes)
        // --ntasks=1 and -N 1 name one process too.
        for layout in [TaskLayout(tasks: 1), TaskLayout(nodes: 1), TaskLayout(tasks: 1, nodes: 1)] {
            let p = try Self.predict(comment, layout)
            #expect(p.node.requestMiB == single.requestMiB, "\(layout)")
        }
    }

    @Test(arguments: [harmonic, pixel])
    func everyFurtherRankAddsItsOwnCopyPhaseByPhase(_ comment: String) throws {
        let policy = RequestPolicy()
        var last: UInt64 = 0
        for ranks in UInt64(2)...8 {
            let p = try Self.predict(comment, TaskLayout(tasksPerNode: ranks), policy)
            let n = p.node
            #expect(n.ranks == ranks)
            #expect(!n.perCPU)
            #expect(n.node.setup == n.rankZero.setup + (ranks - 1) * n.furtherRank.setup)
            #expect(n.node.broadcast == n.rankZero.broadcast + (ranks - 1) * n.furtherRank.broadcast)
            #expect(n.node.run == n.rankZero.run + (ranks - 1) * n.furtherRank.run)
            #expect(n.totalBytes == max(n.node.setup, n.node.broadcast, n.node.run))
            // A further rank holds at least the floor, the manager and the run peak.
            #expect(n.furtherRank.run == policy.interpreterFloorBytes + policy.mpiRankOverheadBytes
                + max(p.budget.stagePeak(.fisherRun), p.budget.stagePeak(.spectraRun)))
            #expect(n.furtherRank.broadcast == n.rankFloorBytes + 2 * p.budget.basisSetupPersistentBytes)
            // Rank 0 holds the run's inputs and the broadcast manager's pickle besides.
            #expect(n.rankZero.run == p.totalBytes + policy.mpiRankOverheadBytes + p.budget.basisSetupPersistentBytes)
            #expect(n.rankZero.run > n.furtherRank.run)
            #expect(n.totalBytes > last)
            last = n.totalBytes
            #expect(n.requestMiB == p.slack.scaledMiB(n.totalBytes))
        }
    }

    @Test func theBasisManagerIsWhatBasisSetupLeavesAlive() throws {
        let p = try Self.predict(Self.harmonic, .singleRank)
        let basis = try #require(p.budget.stage(.basisSetup))
        #expect(p.budget.basisSetupPersistentBytes == basis.persistentBytes)
        let q = try Self.predict(Self.pixel, .singleRank)
        #expect(q.budget.basisSetupPersistentBytes == (try #require(q.budget.stage(.basisSetup))).persistentBytes)
    }

    @Test func ranksOnNodesSlurmChoosesAreAskedPerCPUAtTheLargestRanksShare() throws {
        for cpus in [UInt64(1), 2, 3, 8] {
            let p = try Self.predict(Self.harmonic, TaskLayout(tasks: 16, cpusPerTask: cpus))
            let n = p.node
            #expect(n.perCPU)
            #expect(n.totalBytes == max(n.rankZero.peak, n.furtherRank.peak))
            let perRank = try #require(p.slack.scaledMiB(n.totalBytes))
            #expect(n.requestMiB == (perRank + cpus - 1) / cpus)
            // Any k ranks on a node get k × cpus × request ≥ rank 0 + (k − 1) further ranks.
            for k in UInt64(1)...16 {
                let given = k * cpus * n.requestMiB << 20
                #expect(given >= n.rankZero.peak + (k - 1) * n.furtherRank.peak)
            }
        }
    }

    @Test func absurdLayoutsAreErrorsNotTraps() throws {
        let huge = TaskLayout(tasksPerNode: UInt64(UInt32.max) * 4096)
        let spec = try Self.spec("qube: path=pixel_direct fields=QU n_obs=400000 lmax=24 n_bins=8")
        switch Predictor.predict(spec, policy: RequestPolicy(), layout: huge) {
        case .success(let p): Issue.record("priced \(p.node.totalBytes) bytes for an overflowing node")
        case .failure(let e): #expect("\(e)".contains("ntasks"))
        }
    }

    @Test func theDecisionSaysTheRanksAndRecordsTheNode() throws {
        let layout = TaskLayout(tasks: 8, nodes: 2)
        let p = try Self.predict(Self.harmonic, layout)
        let d = SubmissionDecision.decide(comment: Self.harmonic, userMemory: .none, config: SiteConfig(), layout: layout)
        #expect(d.outcome == .setMemory(mib: p.node.requestMiB))
        let message = try #require(d.userMessage)
        #expect(message.contains("memory set to \(p.node.requestMiB) MiB per node for 4 ranks per node"))
        #expect(message.contains("+ 3 further ranks × "))
        let record = try #require(d.adminRecord)
        #expect(record.hasSuffix("user_mib=none ranks_per_node=4 node_bytes=\(p.node.totalBytes)"))
    }

    @Test func unplacedRanksGetAPerCPURequestAndSaySo() throws {
        let layout = TaskLayout(tasks: 6, cpusPerTask: 2)
        let p = try Self.predict(Self.pixel, layout)
        let d = SubmissionDecision.decide(comment: Self.pixel, userMemory: .none, config: SiteConfig(), layout: layout)
        #expect(d.outcome == .setMemoryPerCPU(mib: p.node.requestMiB))
        #expect(d.userMessage?.contains("\(p.node.requestMiB) MiB per CPU for 6 ranks") == true)
        #expect(d.adminRecord?.hasSuffix("ranks=6 mem_per_cpu=yes cpus_per_rank=2 rank_bytes=\(p.node.totalBytes)") == true)
        // A user's --mem-per-cpu at least as large is kept under user_memory=larger; a --mem is not
        // comparable (its node's ranks are unknown) and is replaced.
        let kept = SubmissionDecision.decide(comment: Self.pixel,
                                             userMemory: .perCPU(mib: p.node.requestMiB, cpusPerNode: 2),
                                             config: SiteConfig(), layout: layout)
        #expect(kept.outcome == .untouched)
        let replaced = SubmissionDecision.decide(comment: Self.pixel, userMemory: .perNode(mib: 1 << 40),
                                                 config: SiteConfig(), layout: layout)
        #expect(replaced.outcome == .setMemoryPerCPU(mib: p.node.requestMiB))
    }

    @Test func aSingleProcessDecisionIsUnchangedByTheLayoutCode() throws {
        let d = SubmissionDecision.decide(comment: Self.harmonic, userMemory: .none, config: SiteConfig(),
                                          layout: TaskLayout(tasks: 1, nodes: 1))
        let single = try Self.predict(Self.harmonic, .singleRank)
        #expect(d.outcome == .setMemory(mib: single.requestMiB))
        #expect(d.adminRecord?.hasSuffix("request_mib=\(single.requestMiB) user_mib=none") == true)
        #expect(d.userMessage?.contains("MiB per node (model") == true)
    }

    @Test func mpiRankOverheadIsAConfigKey() throws {
        let config = try SiteConfig.parse("mpi_rank_overhead = 200M\n").get()
        #expect(config.policy.mpiRankOverheadBytes == 200 << 20)
        #expect(config.summary.contains("mpi_rank_overhead="))
        guard case .failure(let e) = SiteConfig.parse("mpi_rank_overhead = lots\n") else {
            Issue.record("accepted a bad size"); return
        }
        #expect("\(e)".contains("'lots'"))
    }

    @Test func spreadRanksArePinnedToTheCountTheMemoryWasPricedFor() {
        #expect(TaskLayout(tasks: 5, nodes: 2).ranksPerNodeToPin == 3)
        #expect(TaskLayout(tasks: 4, nodes: 2, tasksPerNode: 0).ranksPerNodeToPin == 2)  // 0: not given
        #expect(TaskLayout(tasks: 5, nodes: 2, tasksPerNode: 4).ranksPerNodeToPin == nil)  // the user's own
        #expect(TaskLayout(tasks: 5).ranksPerNodeToPin == nil)  // unplaced: priced per CPU
        #expect(TaskLayout(tasks: 5, nodes: 1).ranksPerNodeToPin == nil)
        #expect(TaskLayout(tasks: 1, nodes: 2).ranksPerNodeToPin == nil)
        #expect(TaskLayout(tasks: 200_000, nodes: 2).ranksPerNodeToPin == nil)  // beyond SLURM's 16 bits
    }
}
