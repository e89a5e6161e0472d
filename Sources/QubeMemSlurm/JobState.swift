/// A job's state as sacct prints it (the first word: `CANCELLED by 1000` is `CANCELLED`).
public enum JobState: String, Sendable, CaseIterable, Comparable {
    // Final states: the job has ended and its figures will not change.
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    case timeout = "TIMEOUT"
    case outOfMemory = "OUT_OF_MEMORY"
    case nodeFail = "NODE_FAIL"
    case preempted = "PREEMPTED"
    case bootFail = "BOOT_FAIL"
    case deadline = "DEADLINE"
    case revoked = "REVOKED"
    // Live states: the job is not over; the audit skips it.
    case pending = "PENDING"
    case running = "RUNNING"
    case requeued = "REQUEUED"
    case resizing = "RESIZING"
    case suspended = "SUSPENDED"
    case completing = "COMPLETING"
    case configuring = "CONFIGURING"
    case stopped = "STOPPED"
    case signaling = "SIGNALING"
    case stageOut = "STAGE_OUT"
    case requeueFed = "REQUEUE_FED"
    case requeueHold = "REQUEUE_HOLD"
    case resvDelHold = "RESV_DEL_HOLD"
    case specialExit = "SPECIAL_EXIT"

    /// True while the job has not ended.
    public var isLive: Bool {
        switch self {
        case .completed, .failed, .cancelled, .timeout, .outOfMemory, .nodeFail, .preempted, .bootFail,
             .deadline, .revoked:
            return false
        default:
            return true
        }
    }
    /// `parse` on a raw buffer: a concrete entry point, so that callers in other modules (the
    /// audit's merge, once per row) run the specialised parser rather than the generic one
    /// through witness tables (13× slower on `bench/audit` when this was missing).
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> JobState? {
        read(text)
    }


    /// Whether the job's measured peak is its run's: not for NODE_FAIL, whose run a dead node cut
    /// short. Its figures are the surviving nodes' up to then (a peak far below the need, which
    /// would count as a run that fit), so the audit counts such a job without a peak.
    public var peakIsTheRuns: Bool { self != .nodeFail }

    /// Reads the first word of a State field (`CANCELLED by 0`, or `CANCELLED+` from a narrow
    /// column); nil when it is not a SLURM state. Allocation-free: it runs once per row.
    public static func parse<C: Collection<UInt8>>(_ text: C) -> JobState? { read(text) }

    @inline(__always)
    static func read<C: Collection<UInt8>>(_ text: C) -> JobState? {
        var end = text.startIndex
        while end != text.endIndex && text[end] != UInt8(ascii: " ") && text[end] != UInt8(ascii: "+") {
            end = text.index(after: end)
        }
        let word = text[text.startIndex..<end]
        for (state, bytes) in table where word.elementsEqual(bytes) { return state }
        return nil
    }

    /// The state's position in `allCases` (for counting states in an array).
    public var ordinal: Int {
        switch self {
        case .completed: return 0
        case .failed: return 1
        case .cancelled: return 2
        case .timeout: return 3
        case .outOfMemory: return 4
        case .nodeFail: return 5
        case .preempted: return 6
        case .bootFail: return 7
        case .deadline: return 8
        case .revoked: return 9
        case .pending: return 10
        case .running: return 11
        case .requeued: return 12
        case .resizing: return 13
        case .suspended: return 14
        case .completing: return 15
        case .configuring: return 16
        case .stopped: return 17
        case .signaling: return 18
        case .stageOut: return 19
        case .requeueFed: return 20
        case .requeueHold: return 21
        case .resvDelHold: return 22
        case .specialExit: return 23
        }
    }

    /// Every state with its spelling, the common final states first.
    private static let table: [(JobState, [UInt8])] = JobState.allCases.map { ($0, Array($0.rawValue.utf8)) }

    public static func < (a: JobState, b: JobState) -> Bool { a.rawValue < b.rawValue }
}
