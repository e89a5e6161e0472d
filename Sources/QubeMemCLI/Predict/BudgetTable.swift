import Foundation
import QubeMem

/// The text table of `qubemem predict`: the reference's information in the reference's order,
/// then qubemem's measured terms and the request.
enum BudgetTable {
    static let nameWidth = 48

    static func render(_ p: Prediction, policy: RequestPolicy) -> String {
        var lines: [String] = []
        let releases = p.model.releases.joined(separator: ", ")
        lines.append("QUBE memory budget [\(p.path.rawValue)]  model \(p.model.rawValue) (qube-qml \(releases))")
        lines.append(header(p))
        lines.append("")
        for stage in p.reference.stages {
            lines.append("[\(stage.name.rawValue)]  persistent=\(Units.gibColumn(stage.persistentBytes))  peak=\(Units.gibColumn(stage.peakBytes))")
            if !stage.persistent.isEmpty {
                lines.append("  persistent:")
                for t in stage.persistent { lines.append("    " + pad(t.name) + Units.gibColumn(t.bytes)) }
            }
            if !stage.transient.isEmpty {
                lines.append("  transient (live at stage peak):")
                for t in stage.transient { lines.append("    " + pad(t.name) + Units.gibColumn(t.bytes)) }
            }
            lines.append("")
        }
        lines.append("Lifetime peak: \(Units.gibColumn(p.reference.lifetimePeakBytes)) (above baseline RSS)")
        lines.append(excludes(p) + ".")
        lines.append("")
        let extra = measuredTerms(p)
        if !extra.isEmpty {
            lines.append("qubemem: terms the reference leaves out, measured on real runs:")
            for (stage, term) in extra {
                lines.append("    " + pad("\(stage.rawValue): \(term.name)") + Units.gibColumn(term.bytes))
            }
            lines.append("Lifetime peak with them: \(Units.gibColumn(p.peakBytes))")
            lines.append("")
        }
        lines.append(contentsOf: requestLines(p, policy: policy).split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        return lines.joined(separator: "\n")
    }

    /// The request and its breakdown: the number the job_submit plugin sets.
    static func requestLines(_ p: Prediction, policy: RequestPolicy) -> String {
        if p.layout.isMultiRank { return rankLines(p, policy: policy) }
        let covariances = p.baselineBytes - min(p.baselineBytes, policy.interpreterFloorBytes)
        var text = "Request: \(p.requestMiB) MiB per node\n"
        text += "  = ceil((baseline \(Units.gib(p.baselineBytes)) + peak \(Units.gib(p.peakBytes))) × slack \(p.slack))\n"
        text += "  baseline = interpreter floor \(Units.gib(policy.interpreterFloorBytes)) + \(p.config.inputCovariances) input covariance(s) \(Units.gib(covariances))\n"
        text += "  model \(p.model.rawValue), path \(p.path.rawValue)\(p.pathWasPicked ? " (picked by QUBE's rule)" : "")\n"
        if let alt = p.alternative {
            text += "  \(alt.path.rawValue) would need \(alt.requestMiB) MiB (peak \(Units.gib(alt.peakBytes)))\n"
        }
        return text
    }

    /// The request of a multi-rank (MPI) run: the busiest node, rank by rank and phase by phase.
    static func rankLines(_ p: Prediction, policy: RequestPolicy) -> String {
        let n = p.node
        var text: String
        if n.perCPU {
            text = "Request: \(n.requestMiB) MiB per CPU (\(p.layout.tasks ?? 1) ranks on nodes SLURM chooses; \(n.cpusPerRank) CPU(s) per rank)\n"
            text += "  = ceil(largest rank \(Units.gib(n.totalBytes)) × slack \(p.slack) / \(n.cpusPerRank) CPU(s)): every rank is given rank 0's share\n"
            text += "  give --ntasks-per-node or --nodes for a per-node request\n"
        } else {
            text = "Request: \(n.requestMiB) MiB per node for \(n.ranks) rank\(n.ranks == 1 ? "" : "s") per node\n"
            text += "  = ceil(node peak \(Units.gib(n.totalBytes)) × slack \(p.slack))\n"
        }
        text += "  phase         rank 0   each further rank    node (\(n.ranks) rank\(n.ranks == 1 ? "" : "s"))\n"
        for (name, r0, w, node) in [("setup", n.rankZero.setup, n.furtherRank.setup, n.node.setup),
                                    ("broadcast", n.rankZero.broadcast, n.furtherRank.broadcast, n.node.broadcast),
                                    ("run", n.rankZero.run, n.furtherRank.run, n.node.run)] {
            text += "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + Units.gibColumn(r0) + "      " + Units.gibColumn(w) + "      " + Units.gibColumn(node) + "\n"
        }
        text += "  rank 0 = baseline \(Units.gib(p.baselineBytes)) + MPI \(Units.gib(policy.mpiRankOverheadBytes)) + its stage peak; "
        text += "a further rank = floor \(Units.gib(n.rankFloorBytes)) + its copy of the basis manager and its run peak\n"
        text += "  model \(p.model.rawValue), path \(p.path.rawValue)\(p.pathWasPicked ? " (picked by QUBE's rule)" : "")\n"
        return text
    }

    static func excludes(_ p: Prediction) -> String {
        var text = "Excludes: BLAS scratch, allocator overhead"
        if p.path == .harmonic {
            text += ", derivative_cache transient (~5 × n_modes² × 8 B at eclipse-QU)"
        }
        return text
    }

    /// Terms in the extended budget that are not in the reference, with their stages.
    static func measuredTerms(_ p: Prediction) -> [(StageName, Term)] {
        var out: [(StageName, Term)] = []
        for (ref, ext) in zip(p.reference.stages, p.budget.stages) {
            for t in ext.transient.dropFirst(ref.transient.count) { out.append((ext.name, t)) }
        }
        return out
    }

    private static func header(_ p: Prediction) -> String {
        let c = p.config
        let rank = c.workingDim.flatMap { $0 < c.nPix ? "  rank=\($0)" : nil } ?? ""
        switch p.path {
        case .harmonic:
            let sw = c.lmax.map { "lmax=\($0)" } ?? "no switch"
            return "  n_pix=\(c.nPix)\(rank)  n_modes=\(c.nModes ?? 0)  lmax_signal=\(c.lmaxSignal ?? 0)  \(sw)  release_V=\(c.releasePixelProjector ? "True" : "False")"
        case .pixelDirect:
            let ceiling = c.lmaxSignal.map { "  lmax_signal=\($0)" } ?? ""
            let tail = p.model == .v1_0
                ? ((c.hasSwitch ?? true) ? "switch implicit" : "no switch")
                : "cache_derivatives=\((c.cacheDerivatives ?? false) ? "True" : "False")"
            return "  n_pix=\(c.nPix)\(rank)\(ceiling)  n_bins=\(c.nBins ?? 0)  n_params=\(c.nParams ?? 0)  \(tail)"
        }
    }

    private static func pad(_ s: String) -> String {
        s.count >= nameWidth ? s : s + String(repeating: " ", count: nameWidth - s.count)
    }
}
