public import QubeMemSlurm
import QubeMem

/// What the audit reads of one step row of slurmdbd's step table (`AccountingSQL.stepColumns`),
/// handed over as figures instead of a sacct row (`AccountingRows.onStepFigures`): the same values
/// the sacct row would carry, so that the audit merges them alike.
public struct StepFigures: Sendable, Equatable {
    /// The job record (`job_db_inx`) the step belongs to.
    public var record: UInt64
    /// The step's state; nil for a number this SLURM release does not name (sacct prints it as
    /// `UNKNOWN`, a row the audit counts as malformed).
    public var state: JobState?
    /// MaxRSS, bytes: the largest task's peak; nil when the step has no figure.
    public var maxRSS: UInt64?
    /// The sum of the tasks' peaks (TRESUsageInTot's mem), bytes; nil when absent.
    public var taskSum: UInt64?
    /// Tasks and nodes of the step (0 when the database has none, as the sacct row would say).
    public var tasks: UInt64
    public var nodes: UInt64

    public init(record: UInt64, state: JobState?, maxRSS: UInt64?, taskSum: UInt64?, tasks: UInt64, nodes: UInt64) {
        self.record = record
        self.state = state
        self.maxRSS = maxRSS
        self.taskSum = taskSum
        self.tasks = tasks
        self.nodes = nodes
    }
}

extension StepFigures {
    /// The figures of a step from its columns as the database stores them: its state's number,
    /// and the TRES lists (`1=4,2=1048576`) of its largest task's peaks and of their sum, of
    /// which the memory (TRES 2) is read. Both reads of a step come here: the text rows
    /// (`AccountingRows.stepFigures`) and the prepared statement's (`AccountingStepReader`).
    init(record: UInt64, stateNumber: UInt64, nodes: UInt64, tasks: UInt64,
         tresMax: UnsafeBufferPointer<UInt8>, tresTotal: UnsafeBufferPointer<UInt8>) {
        self.init(record: record, state: AccountingSQL.state(number: stateNumber),
                  maxRSS: AccountingRows.tres(tresMax, id: 2), taskSum: AccountingRows.tres(tresTotal, id: 2),
                  tasks: tasks, nodes: nodes)
    }
}

extension AccountingRows {
    /// The figures of the current `S` row, read as `writeStep` writes them.
    func stepFigures() -> StepFigures {
        withField(Step.tresMax) { tresMax in
            withField(Step.tresTotal) { tresTotal in
                StepFigures(record: number(Step.record), stateNumber: number(Step.state), nodes: number(Step.nodes),
                            tasks: number(Step.tasks), tresMax: tresMax, tresTotal: tresTotal)
            }
        }
    }

    /// The job written for a record, nil when that record was not written (or is a pending
    /// array's, which names no one job).
    public mutating func jobKey(record: UInt64) -> JobKey? {
        writtenJob(record: record)?.key
    }

    /// True when a record is held (an older record of a requeued job, written or not by
    /// `finishJobs`): its steps must be kept until then.
    public func isHeld(record: UInt64) -> Bool { heldRecords.contains(record) }
}
