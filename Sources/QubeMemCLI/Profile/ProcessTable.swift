import QubeMemSystem

/// The per-process (per-rank) table of the profile report.
///
/// Which processes are shown: those whose own peak RSS is at least `share` (1%) of the tree's
/// peak RSS, largest first, at most `maxRows` (16); the rest are summed on one line. The JSON
/// report lists every process. An MPI rank is recognised by its rank variable (`PMI_RANK=1`, see
/// `ProcessIdentity.rankVariables`), otherwise by its command line.
enum ProcessTable {
    /// The smallest share of the tree's peak RSS a process's own peak must reach to get a row.
    static let share = 0.01
    /// At most this many rows.
    static let maxRows = 16

    /// The processes that get a row (largest own peak first, then by pid), and the rest.
    static func select(_ processes: [ProfileResult.Process], treePeakBytes: UInt64)
        -> (shown: [ProfileResult.Process], hidden: [ProfileResult.Process]) {
        let floor = UInt64(Double(treePeakBytes) * share)
        let ranked = processes.sorted { $0.peakBytes != $1.peakBytes ? $0.peakBytes > $1.peakBytes : $0.pid < $1.pid }
        var shown: [ProfileResult.Process] = []
        var hidden: [ProfileResult.Process] = []
        for p in ranked {
            if p.peakBytes > 0, p.peakBytes >= floor, shown.count < maxRows { shown.append(p) } else { hidden.append(p) }
        }
        return (shown, hidden)
    }

    /// The table's text (empty for a tree of one process: the peak RSS line already is its figure).
    static func text(_ r: ProfileResult) -> String {
        guard r.processes.count > 1 else { return "" }
        let (shown, hidden) = select(r.processes, treePeakBytes: r.peakBytes)
        var out = "\nprocesses: own peak RSS of each (VmHWM, or ru_maxrss once reaped; pages shared after a fork count in each);\n"
            + "  \(shown.count) of \(r.processes.count) at or above \(Int(share * 100))% of the tree's peak RSS, largest first\n"
        out += ProfileFormat.pad("pid", 8, right: true) + "  " + ProfileFormat.pad("rank", 22) + ProfileFormat.pad("own peak", 11, right: true)
            + ProfileFormat.pad("at", 10, right: true) + "  " + ProfileFormat.pad("name", 16) + "command\n"
        for p in shown {
            out += ProfileFormat.pad(String(p.pid), 8, right: true) + "  "
            out += ProfileFormat.pad(rank(p.identity), 22)
            out += ProfileFormat.pad(ProfileFormat.size(p.peakBytes), 11, right: true)
            out += ProfileFormat.pad(ProfileFormat.seconds(p.peakTime), 10, right: true) + "  "
            out += ProfileFormat.pad(p.name.isEmpty ? "-" : p.name, 16)
            out += (p.identity.commandLine.isEmpty ? "-" : p.identity.commandLine) + "\n"
        }
        if !hidden.isEmpty {
            let sum = hidden.reduce(UInt64(0)) { $0 &+ $1.peakBytes }
            out += "  and \(hidden.count) more (own peaks together \(ProfileFormat.size(sum)))\n"
        }
        return out
    }

    /// "PMI_RANK=1", or "-" when no rank variable was found.
    static func rank(_ id: ProcessIdentity) -> String {
        guard let v = id.rankVariable, let n = id.rank else { return "-" }
        return "\(v)=\(n)"
    }
}
