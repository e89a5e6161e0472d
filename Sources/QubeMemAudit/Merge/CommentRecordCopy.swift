public import QubeMemSlurm

/// The plugin's record as copied into the job's Comment (`CommentRecord` in the core), read when
/// the AdminComment holds none: an epilog such as jobstats' replaces the AdminComment when the
/// job ends (`AdminComment=JS1:...`), and the record would otherwise be lost.
///
/// The Comment is the user's field, so a copy is trusted only when it is a full record whose
/// memory is the memory SLURM accounted for the job (ReqMem, compared per node): `request_mib`
/// for `action=set` (per CPU when the record's ranks are per CPU), the user's `user_mib` for
/// `kept_user`/`kept_larger`. Anything else (no copy, a warn record, a record that disagrees with
/// ReqMem) is ignored, and the job is priced from its comment as a job without a record is.
public enum CommentRecordCopy {
    /// The trusted copy in `comment`, as a found record, or `.none`.
    /// - Parameters:
    ///   - requested: the job's accounted ReqMem.
    ///   - nodes, cpus: the job's NNodes and AllocCPUS, to compare per node.
    public static func find(in comment: UnsafeBufferPointer<UInt8>, requested: RequestedMemory?,
                            nodes: UInt32, cpus: UInt32) -> AdminRecord.Found
    {
        guard let requested, !comment.isEmpty,
              case .record(let record) = AdminRecord.find(in: comment),
              let recorded = memorySet(by: record),
              let accounted = requested.perNodeBytes(nodes: nodes, cpus: cpus),
              recorded.perNodeBytes(nodes: nodes, cpus: cpus) == accounted
        else { return .none }
        return .record(record)
    }

    /// The memory the recorded decision left on the job, or nil when the record does not say.
    static func memorySet(by record: AdminRecord) -> RequestedMemory? {
        let mib: UInt64
        var perCPU = false
        switch record.action {
        case "set":
            mib = record.requestMiB
            if case .perCPU = record.ranks { perCPU = true }
        case "kept_user", "kept_larger":
            guard let user = record.userMiB, user > 0 else { return nil }
            mib = user
        default:
            return nil
        }
        let (bytes, overflow) = mib.multipliedReportingOverflow(by: 1 << 20)
        guard !overflow else { return nil }
        return perCPU ? .perCPU(bytes) : .perNode(bytes)
    }
}
