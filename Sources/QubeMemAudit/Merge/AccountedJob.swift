public import QubeMemSlurm

/// How a job's measured peak per node was obtained from its step rows.
///
/// - `singleTask`: every step with data ran one task; MaxRSS is that task's peak, i.e. the node's.
/// - `taskSum`: a step ran several tasks on one node. MaxRSS is only the largest task, so the figure
///   is the sum of the task peaks (TRESUsageInTot's mem), an upper bound of what the node held at
///   once (peaks of different tasks need not coincide); without TRESUsageInTot, MaxRSS × tasks.
/// - `multiNodeBound`: a step spanned nodes. sacct keeps no per-node sums, so the figure is the
///   tightest upper bound of the busiest node it allows: min(sum of all task peaks,
///   MaxRSS × (tasks − nodes + 1)), since every node runs at least one task and no task exceeds MaxRSS.
///
/// Upper bounds are used so that a slack chosen from the audit never under-covers a node.
public enum PeakBasis: String, Sendable, Comparable {
    case singleTask = "single_task"
    case taskSum = "task_sum"
    case multiNodeBound = "multi_node_bound"

    var rank: Int {
        switch self {
        case .singleTask: return 0
        case .taskSum: return 1
        case .multiNodeBound: return 2
        }
    }

    public static func < (a: PeakBasis, b: PeakBasis) -> Bool { a.rank < b.rank }
}

/// One job as merged from its allocation row and step rows.
public struct AccountedJob: Sendable {
    public var key: JobKey
    /// Line of the first row seen for this job (1-based).
    public var line: Int
    public var hasAllocation = false
    public var name = ""
    public var user = ""
    public var account = ""
    public var partition = ""
    /// The allocation row's state (first word).
    public var state: JobState = .pending
    public var elapsedSeconds: UInt64 = 0
    public var nodes: UInt32 = 0
    public var cpus: UInt32 = 0
    public var requested: RequestedMemory? = nil
    /// The job comment, kept only when there is no usable AdminComment record (it is then the
    /// only source of a prediction); empty otherwise, to keep memory per job small.
    public var comment = ""
    /// The last qubemem record of the AdminComment (parsed as the row is read; the text is not kept).
    public var record: AdminRecord.Found = .none
    /// Measured peak per node, bytes; nil when no step had a figure ("no data", never zero).
    public var peakBytes: UInt64? = nil
    public var peakBasis: PeakBasis = .singleTask
    /// A step ended OUT_OF_MEMORY (some releases mark only the step).
    public var oomStep = false
    public var stepRows: UInt32 = 0

    init(key: JobKey, line: Int) {
        self.key = key
        self.line = line
    }

    /// Requested memory per node, bytes.
    public var requestedPerNodeBytes: UInt64? {
        requested?.perNodeBytes(nodes: nodes, cpus: cpus)
    }

    /// True when the job or any of its steps ran out of memory.
    public var outOfMemory: Bool { state == .outOfMemory || oomStep }
}

/// A row that could not be read.
public struct MalformedRow: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
