public import QubeMemSlurm

/// One audited job.
public struct AuditEntry: Sendable {
    /// The job id as sacct prints it (made on demand: most entries are only counted).
    public var id: String { key.description }
    public var key: JobKey
    public var name: String
    public var user: String
    public var account: String
    public var partition: String
    public var state: JobState
    public var source: PredictionSource
    /// Plugin decision (`set`, `kept_user`, …) when the source is a record.
    public var action: String?
    public var model: String?
    public var path: String?
    /// Predicted total (baseline + peak), bytes.
    public var predictedBytes: UInt64?
    /// Requested memory per node, bytes.
    public var requestedBytes: UInt64?
    /// Measured peak per node, bytes; nil = no data.
    public var peakBytes: UInt64?
    public var peakBasis: PeakBasis
    public var nodes: UInt32
    public var elapsedSeconds: UInt64
    public var oom: Bool
    public var nearMiss: Bool
    /// The slack applied by the plugin, ten-thousandths.
    public var slack: UInt64?
    /// Why a record or comment could not be used, when that happened.
    public var note: String?

    public var measuredOverPredicted: Double? { Self.ratio(peakBytes, over: predictedBytes) }

    public var requestedOverMeasured: Double? { Self.ratio(requestedBytes, over: peakBytes) }

    /// Requested minus used, per node × nodes, bytes (0 when the job used all of it).
    public var wastedBytes: UInt64? { Self.wasted(requested: requestedBytes, peak: peakBytes, nodes: nodes) }

    @inline(__always)
    static func ratio(_ a: UInt64?, over b: UInt64?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return Double(a) / Double(b)
    }

    @inline(__always)
    static func wasted(requested: UInt64?, peak: UInt64?, nodes: UInt32) -> UInt64? {
        guard let r = requested, let p = peak else { return nil }
        let perNode = r > p ? r - p : 0
        let (w, o) = perNode.multipliedReportingOverflow(by: UInt64(max(nodes, 1)))
        return o ? UInt64.max : w
    }

    /// The recorded prediction per node, bytes: for a per-CPU record, on the CPUs SLURM gave each
    /// node (AllocCPUS / NNodes, rounded up).
    @inline(__always)
    static func predicted(_ record: AdminRecord?, cpus: UInt32, nodes: UInt32) -> UInt64? {
        guard let record else { return nil }
        guard case .perCPU = record.ranks else { return record.predictedTotalBytes }
        let n = UInt64(max(nodes, 1)), c = UInt64(cpus)
        return record.predictedNodeBytes(cpusPerNode: c / n + (c % n == 0 ? 0 : 1))
    }

    /// Requested memory per node, bytes: sacct's ReqMem, else the record's request (nil on overflow).
    @inline(__always)
    static func requested(perNode: UInt64?, record: AdminRecord?) -> UInt64? {
        if let bytes = perNode { return bytes }
        guard let record else { return nil }
        let (b, o) = record.requestMiB.multipliedReportingOverflow(by: 1 << 20)
        return o ? nil : b
    }
}

/// The listed jobs of an audit in job-id order, as `AuditEntry` values made on access.
///
/// Most of a large audit is only counted, so entries are not stored: the report keeps the jobs and,
/// per listed job, 24 bytes saying where its prediction came from and where its note is.
public struct AuditEntries: RandomAccessCollection, Sendable {
    let jobs: [AccountedJob]
    let listed: [Listed]
    let recomputed: [RecomputedPrediction]
    let notes: [String]

    struct Listed: Sendable {
        var job: Int
        /// Index in `recomputed` (source `.recomputed`), else -1.
        var recomputed: Int32
        /// Index in `notes`, or -1.
        var note: Int32
        var source: PredictionSource
        var nearMiss: Bool
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { listed.count }

    public subscript(position: Int) -> AuditEntry {
        let l = listed[position]
        let job = jobs[l.job]
        var record: AdminRecord? = nil
        if l.source == .record, case .record(let r) = job.record { record = r }
        var entry = AuditEntry(
            key: job.key, name: job.name, user: job.user, account: job.account, partition: job.partition,
            state: job.state, source: l.source, action: record?.action, model: record?.model, path: record?.path,
            predictedBytes: AuditEntry.predicted(record, cpus: job.cpus, nodes: job.nodes),
            requestedBytes: AuditEntry.requested(perNode: job.requestedPerNodeBytes, record: record),
            peakBytes: job.state.peakIsTheRuns ? job.peakBytes : nil, peakBasis: job.peakBasis, nodes: job.nodes,
            elapsedSeconds: job.elapsedSeconds,
            oom: job.outOfMemory, nearMiss: l.nearMiss, slack: record?.slackTenThousandths,
            note: l.note >= 0 ? notes[Int(l.note)] : nil)
        if l.recomputed >= 0 {
            let p = recomputed[Int(l.recomputed)]
            entry.model = p.model
            entry.path = p.path
            entry.predictedBytes = p.totalBytes
        }
        return entry
    }
}
