/// The memory of one node of an MPI QUBE run: the single-process budget, rank by rank and phase
/// by phase.
///
/// What QUBE 1.3 does under MPI (qube-qml and cosmocore 1.3.0, `Fisher.run`): setup (fields,
/// covariance, basis) runs on rank 0 alone while the other ranks wait; on the basis paths the
/// basis manager (what basis_setup leaves alive: L, V_N_inv, V_Ninv_VT or the pixel basis) is
/// broadcast by pickle, so every rank ends up with a copy of its own; the derivative stage then runs
/// on every rank for every parameter and the trace loop splits parameter pairs, so every rank
/// reaches the fisher_run (and spectra_run) peak. Nothing divides n_pix² or n_modes² by the ranks.
/// The small geometry vectors go through node-shared MPI windows (one copy per node); the
/// traditional path's shared covariance windows do not occur on the two basis paths priced here.
///
/// So the node's peak is the largest of three phases, each a sum over the node's ranks:
/// - setup: rank 0 at its setup peak, every other rank at its floor;
/// - broadcast: rank 0 holds the manager and its pickle, every other rank the received pickle and
///   the manager rebuilt from it;
/// - run: every rank at the fisher_run / spectra_run peak; rank 0 with its inputs and, measured,
///   one more copy of the manager: on real mpiexec runs (BENCHMARKS.md, MPI) rank 0's peak was the
///   single-process peak plus the manager's size (+86 MiB for a 103 MiB manager, +478 MiB for
///   481 MiB), as if the pickle it broadcast stayed alive.
///
/// Every figure is in bytes and includes the floors (interpreter, imports, MPI runtime).
public struct NodeBudget: Sendable, Equatable {
    /// One rank's memory in each phase, bytes.
    public struct Phases: Sendable, Equatable {
        public var setup: UInt64
        public var broadcast: UInt64
        public var run: UInt64

        /// The largest of the three, bytes.
        public var peak: UInt64 { max(setup, broadcast, run) }
    }

    /// Ranks priced on the node: the busiest node's, or 1 for a per-CPU request.
    public var ranks: UInt64
    /// Whether the request is per CPU (the ranks per node were not known at submission).
    public var perCPU: Bool
    /// CPUs one rank uses (`--cpus-per-task`), which a per-CPU request is divided by.
    public var cpusPerRank: UInt64
    /// Each rank's floor: the interpreter floor, plus the MPI runtime in a multi-rank run, bytes.
    public var rankFloorBytes: UInt64
    /// Rank 0: the run's inputs, setup, the manager's pickle, its own share of the run.
    public var rankZero: Phases
    /// Every further rank: its floor, the received manager, its share of the run.
    public var furtherRank: Phases
    /// The node's phases: rank 0 plus (ranks − 1) further ranks, bytes.
    public var node: Phases
    /// The node's peak (the largest phase), bytes; for a per-CPU request, the largest rank's peak.
    public var totalBytes: UInt64
    /// The request: MiB per node, or MiB per CPU when `perCPU`.
    public var requestMiB: UInt64

    /// What a further rank adds to the node at the node's peak phase, bytes.
    public var perFurtherRankBytes: UInt64 {
        node.run >= node.broadcast && node.run >= node.setup ? furtherRank.run
            : node.broadcast >= node.setup ? furtherRank.broadcast : furtherRank.setup
    }
}

extension NodeBudget {
    /// Prices a node of a run whose single-process prediction is `p`.
    ///
    /// A single-rank layout gives back the single-process figures exactly (total and request).
    /// - Parameters:
    ///   - layout: the job's task layout; rank 0 is assumed to be on the busiest node.
    ///   - policy: the floors (`interpreter_floor`, and `mpi_rank_overhead` for each rank of a
    ///     multi-rank run) and the slack.
    /// - Returns: nil when a figure does not fit in 64 bits.
    public static func price(_ p: Prediction, layout: TaskLayout, policy: RequestPolicy) -> NodeBudget? {
        let ranks: UInt64
        let perCPU: Bool
        switch layout.placement {
        case .busiestNode(let r): (ranks, perCPU) = (r, false)
        case .unplaced: (ranks, perCPU) = (1, true)
        }
        let multi = layout.isMultiRank
        let runtime = multi ? policy.mpiRankOverheadBytes : 0
        let budget = p.budget
        let manager = budget.basisSetupPersistentBytes
        let setupPeak = max(budget.stagePeak(.covarianceSetup), budget.stagePeak(.basisSetup))
        let runPeak = max(budget.stagePeak(.fisherRun), budget.stagePeak(.spectraRun))
        guard let floor = Checked.add(policy.interpreterFloorBytes, runtime),
              let base0 = Checked.add(p.baselineBytes, runtime),
              let pickle = Checked.add(manager, manager),
              let r0Setup = Checked.add(base0, setupPeak),
              let r0Broadcast = Checked.add(base0, multi ? pickle : manager),
              let r0Peak = Checked.add(base0, runPeak),
              let r0Run = Checked.add(r0Peak, multi ? manager : 0),
              let wBroadcast = Checked.add(floor, pickle),
              let wRun = Checked.add(floor, runPeak)
        else { return nil }
        let rankZero = Phases(setup: r0Setup, broadcast: r0Broadcast, run: r0Run)
        let further = Phases(setup: floor, broadcast: wBroadcast, run: wRun)
        let others = ranks - 1  // ranks ≥ 1
        guard let nSetup = Checked.add(r0Setup, Checked.mul(others, floor) ?? .max),
              let nBroadcast = Checked.add(r0Broadcast, Checked.mul(others, wBroadcast) ?? .max),
              let nRun = Checked.add(r0Run, Checked.mul(others, wRun) ?? .max)
        else { return nil }
        let node = Phases(setup: nSetup, broadcast: nBroadcast, run: nRun)
        // A single process is priced exactly as before: baseline + lifetime peak.
        let total = multi ? (perCPU ? max(rankZero.peak, further.peak) : node.peak) : p.totalBytes
        guard var request = p.slack.scaledMiB(total) else { return nil }
        let cpus = layout.cpusPerRank
        if perCPU { request = request / cpus + (request % cpus == 0 ? 0 : 1) }
        return NodeBudget(ranks: ranks, perCPU: perCPU, cpusPerRank: cpus, rankFloorBytes: floor,
                          rankZero: rankZero, furtherRank: further, node: node, totalBytes: total,
                          requestMiB: request)
    }
}
