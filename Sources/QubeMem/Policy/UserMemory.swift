/// The memory a user asked for at submission, as SLURM encodes it in `pn_min_memory`.
public enum UserMemory: Sendable, Equatable {
    /// No --mem or --mem-per-cpu.
    case none
    /// --mem: MiB per node (0 means "all the memory of the node").
    case perNode(mib: UInt64)
    /// --mem-per-cpu: MiB per CPU, with the CPUs per node the job asked for.
    case perCPU(mib: UInt64, cpusPerNode: UInt64)

    /// The request per node in MiB, saturating at `UInt64.max`; nil when none was given.
    /// A per-node request of 0 (the whole node) counts as the largest possible request.
    public var perNodeMiB: UInt64? {
        switch self {
        case .none: return nil
        case .perNode(let mib): return mib == 0 ? UInt64.max : mib
        case .perCPU(let mib, let cpus):
            let (product, overflow) = mib.multipliedReportingOverflow(by: max(cpus, 1))
            return overflow || mib == 0 ? UInt64.max : product
        }
    }

    /// Writes the user's request as records hold it: MiB per node (`8000`), `0` for the whole
    /// node (SLURM's own --mem=0), or `none`.
    func writeRecord<S: TextSink>(to sink: inout S) {
        guard let mib = perNodeMiB else { return sink.append("none") }
        sink.append(decimal: mib == UInt64.max ? 0 : mib)
    }

    /// Writes it the way the user wrote it: `--mem=8000M` or `--mem-per-cpu=2000M (4 CPUs per node)`.
    func writeFlag<S: TextSink>(to sink: inout S) {
        switch self {
        case .none:
            sink.append("no memory request")
        case .perNode(let mib):
            sink.append("--mem=")
            sink.append(decimal: mib)
            sink.append("M")
        case .perCPU(let mib, let cpus):
            sink.append("--mem-per-cpu=")
            sink.append(decimal: mib)
            sink.append("M (")
            sink.append(decimal: cpus)
            sink.append(" CPUs per node)")
        }
    }
}
