import ArgumentParser
import QubeMem

/// The job's MPI task layout, with sbatch's own option names: how many QUBE ranks share a node.
struct LayoutOptions: ParsableArguments {
    @Option(name: [.customLong("ntasks"), .customShort("n")],
            help: "MPI ranks of the job (sbatch --ntasks). Alone, SLURM picks the nodes: the request becomes per CPU.")
    var ntasks: UInt32?

    @Option(name: [.customLong("nodes"), .customShort("N")],
            help: "Nodes (sbatch --nodes; the minimum of a range such as 2-4): the busiest holds ceil(ntasks / nodes) ranks.")
    var nodes: NodeCount?

    @Option(name: .customLong("ntasks-per-node"), help: "MPI ranks on each node (sbatch --ntasks-per-node).")
    var ntasksPerNode: UInt16?

    @Option(name: [.customLong("cpus-per-task"), .customShort("c")],
            help: "Threads per rank (sbatch --cpus-per-task); a per-CPU request is divided by it.")
    var cpusPerTask: UInt16?

    /// The layout these flags describe (every flag absent: one process).
    var layout: TaskLayout {
        TaskLayout(tasks: ntasks.map(UInt64.init), nodes: nodes.map { UInt64($0.minimum) },
                   tasksPerNode: ntasksPerNode.map(UInt64.init), cpusPerTask: cpusPerTask.map(UInt64.init))
    }
}

/// sbatch's --nodes value: `N` or a range `MIN-MAX` (only the minimum decides the busiest node).
struct NodeCount: ExpressibleByArgument {
    var minimum: UInt32

    init?(argument: String) {
        let low = argument.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let value = UInt32(low), value > 0 else { return nil }
        if let dash = argument.firstIndex(of: "-") {
            guard let high = UInt32(argument[argument.index(after: dash)...]), high >= value else { return nil }
        }
        minimum = value
    }

    static var defaultValueDescription: String { "N or MIN-MAX" }
}
