/// The fields of the AdminComment record the plugin writes on every job it decides
/// (`qubemem:v1 action=set model=1.3 ...`, docs/design.md), defined once: the plugin's writer
/// (`SubmissionDecision`) and the audit's reader (`AdminRecord`) both spell the keys from here.
///
/// The order is the order they are written in. A reader of version 1 skips keys it does not know,
/// so keys may be added at the end; a key's meaning never changes within a version.
public enum RecordKey: Int, CaseIterable, Sendable {
    case action, model, path, peakBytes, baselineBytes, slack, requestMiB, userMiB
    // MPI layouts: per node, or per CPU when SLURM places the ranks.
    case ranksPerNode, nodeBytes, ranks, memPerCPU, cpusPerRank, rankBytes

    /// How many keys there are: `allCases.count` without making the array (the audit's reader
    /// needs it once per job).
    @inlinable public static var count: Int { rankBytes.rawValue + 1 }

    /// What every record starts with, before its first field.
    public static let marker: StaticString = "qubemem:v1 "

    /// The key as written.
    public var name: StaticString {
        switch self {
        case .action: "action"
        case .model: "model"
        case .path: "path"
        case .peakBytes: "peak_bytes"
        case .baselineBytes: "baseline_bytes"
        case .slack: "slack"
        case .requestMiB: "request_mib"
        case .userMiB: "user_mib"
        case .ranksPerNode: "ranks_per_node"
        case .nodeBytes: "node_bytes"
        case .ranks: "ranks"
        case .memPerCPU: "mem_per_cpu"
        case .cpusPerRank: "cpus_per_rank"
        case .rankBytes: "rank_bytes"
        }
    }
}

extension TextSink {
    /// Writes `key=`, after a space unless it is the record's first field.
    @inline(__always)
    mutating func append(key: RecordKey) {
        if key != .action { append(UInt8(ascii: " ")) }
        append(key.name)
        append(UInt8(ascii: "="))
    }
}
