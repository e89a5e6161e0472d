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

    /// Reads the first word of a State field (`CANCELLED by 0`, or `CANCELLED+` from a narrow
    /// column); nil when it is not a SLURM state. Allocation-free: it runs once per row.
    public static func parse<C: Collection<UInt8>>(_ text: C) -> JobState? {
        var end = text.startIndex
        while end != text.endIndex && text[end] != UInt8(ascii: " ") && text[end] != UInt8(ascii: "+") {
            end = text.index(after: end)
        }
        let word = text[text.startIndex..<end]
        for (state, bytes) in table where word.elementsEqual(bytes) { return state }
        return nil
    }

    /// Every state with its spelling, the common final states first.
    private static let table: [(JobState, [UInt8])] = JobState.allCases.map { ($0, Array($0.rawValue.utf8)) }

    public static func < (a: JobState, b: JobState) -> Bool { a.rawValue < b.rawValue }
}
