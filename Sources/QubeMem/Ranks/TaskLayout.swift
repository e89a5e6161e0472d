/// How a job lays its MPI ranks (SLURM tasks) on nodes, as sbatch's options give it at submission.
///
/// QUBE runs one MPI rank per task (`mpiexec -n R` inside the job, or `srun`), and every rank
/// holds its own copy of the big matrices, so a node's memory follows the ranks it runs. The
/// fields are SLURM's own (`job_desc_msg_t`); `nil` means "not given" (NO_VAL), and so does 0.
public struct TaskLayout: Sendable, Equatable {
    /// `--ntasks` (num_tasks): the job's ranks.
    public var tasks: UInt64?
    /// `--nodes` (min_nodes; the minimum of a range): the fewest nodes SLURM may spread them on.
    public var nodes: UInt64?
    /// `--ntasks-per-node`.
    public var tasksPerNode: UInt64?
    /// `--cpus-per-task` (threads of one rank); 1 when not given.
    public var cpusPerTask: UInt64?

    public init(tasks: UInt64? = nil, nodes: UInt64? = nil, tasksPerNode: UInt64? = nil, cpusPerTask: UInt64? = nil) {
        self.tasks = tasks.flatMap { $0 == 0 ? nil : $0 }
        self.nodes = nodes.flatMap { $0 == 0 ? nil : $0 }
        self.tasksPerNode = tasksPerNode.flatMap { $0 == 0 ? nil : $0 }
        self.cpusPerTask = cpusPerTask.flatMap { $0 == 0 ? nil : $0 }
    }

    /// One rank on one node: a job that names no tasks (today's single-process QUBE runs).
    public static var singleRank: TaskLayout { TaskLayout() }

    /// Where the job's ranks go, as far as the submission tells.
    public enum Placement: Sendable, Equatable {
        /// At most this many ranks share the busiest node (1 for a single-process run).
        case busiestNode(ranks: UInt64)
        /// Several ranks whose nodes SLURM chooses (`--ntasks` alone): how many share a node is
        /// not known at submission, so the memory is asked per CPU (see ``NodeBudget``).
        case unplaced(ranks: UInt64)
    }

    /// The ranks on the busiest node:
    /// - `--ntasks-per-node=K`: K, or `--ntasks` when that is smaller;
    /// - `--ntasks=N --nodes=M`: ⌈N / M⌉ (`-n 8 -N 2`: 4; `-n 7 -N 2`: 4);
    /// - `--ntasks=N` alone, N > 1: unplaced;
    /// - nothing: 1.
    public var placement: Placement {
        if let perNode = tasksPerNode {
            if let tasks, tasks < perNode { return .busiestNode(ranks: tasks) }
            return .busiestNode(ranks: perNode)
        }
        guard let tasks, tasks > 1 else { return .busiestNode(ranks: 1) }
        guard let nodes else { return .unplaced(ranks: tasks) }
        // tasks, nodes ≤ 2^32 from SLURM's 32-bit fields; written without tasks + nodes anyway.
        return .busiestNode(ranks: tasks / nodes + (tasks % nodes == 0 ? 0 : 1))
    }

    /// The threads of one rank: `--cpus-per-task`, or 1.
    public var cpusPerRank: UInt64 { cpusPerTask ?? 1 }

    /// Whether the job runs more than one rank (then it is an MPI run).
    public var isMultiRank: Bool {
        switch placement {
        case .busiestNode(let ranks): return ranks > 1 || (tasks ?? 1) > 1
        case .unplaced: return true
        }
    }

    /// The `--ntasks-per-node` the plugin sets so that SLURM places no more ranks on a node than
    /// the memory was priced for, or nil when the job already fixes it.
    ///
    /// `-n N -N M` alone is priced for ⌈N / M⌉ ranks on the busiest node, but SLURM fills a node's
    /// CPUs first (on 4-CPU nodes `-n 4 -N 2` ran 3 + 1 and `-n 5 -N 2` ran 4 + 1 in the
    /// multi-node sandbox, tests/multinode). With `--ntasks` given, `--ntasks-per-node` is a
    /// maximum per node. Nil for a single node, a single rank, a user's own `--ntasks-per-node`,
    /// unplaced ranks (priced per CPU, which follows any placement), or a count SLURM's 16-bit
    /// field cannot hold.
    public var ranksPerNodeToPin: UInt64? {
        guard tasksPerNode == nil, let nodes, nodes > 1, case .busiestNode(let ranks) = placement, ranks > 1,
              ranks < 0xFFFE
        else { return nil }
        return ranks
    }
}
