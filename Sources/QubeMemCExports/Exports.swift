// The qubemem_v1_* functions of qubemem_abi.h: C structs in, QubeMem decisions out.
//
// Nothing here may trap: this code runs inside slurmctld, under its locks. Every pointer from C
// is optional and checked, every text is written into the caller's buffer with its capacity.

public import CQubeMemABI
import Glibc
import QubeMem

/// `qubemem_v1_configure` in qubemem_abi.h: sets the config path and loads qubemem.conf.
#if compiler(>=6.3)
@c(qubemem_v1_configure)
#else
@_cdecl("qubemem_v1_configure")
#endif
public func qubemem_v1_configure(
    _ configPath: UnsafePointer<CChar>?, _ slurmConfPath: UnsafePointer<CChar>?,
    _ log: UnsafeMutablePointer<CChar>?, _ logCapacity: UInt32
) -> Int32 {
    let path = ConfigLocation.resolve(
        explicit: configPath.map { String(cString: $0) },
        environment: getenv("QUBEMEM_CONF").map { String(cString: $0) },
        slurmConf: slurmConfPath.map { String(cString: $0) })
    let (line, isError) = PluginState.shared.configure(path: path)
    CText.write(line, to: log, capacity: logCapacity)
    return isError ? Int32(QUBEMEM_V1_LOG_ERROR) : Int32(QUBEMEM_V1_LOG_INFO)
}

/// `qubemem_v1_job_submit` in qubemem_abi.h: decides what to do with one job.
#if compiler(>=6.3)
@c(qubemem_v1_job_submit)
#else
@_cdecl("qubemem_v1_job_submit")
#endif
public func qubemem_v1_job_submit(
    _ job: UnsafePointer<qubemem_v1_job>?, _ result: UnsafeMutablePointer<qubemem_v1_result>?
) -> Int32 {
    guard let result else { return Int32(QUBEMEM_V1_FAILED) }
    CText.clear(result)
    guard let job else {
        CText.write("qubemem: job_submit: internal: no job given", to: result.pointee.log,
                    capacity: result.pointee.log_capacity)
        result.pointee.log_level = Int32(QUBEMEM_V1_LOG_ERROR)
        return Int32(QUBEMEM_V1_FAILED)
    }
    // The fast path: a comment without "qube:" costs one strstr and nothing else.
    guard let comment = job.pointee.comment, strstr(comment, "qube:") != nil else {
        return Int32(QUBEMEM_V1_PASS)
    }
    return PluginState.shared.submit(job.pointee, comment: comment, result: result)
}

/// `qubemem_v1_fini` in qubemem_abi.h: forgets the configuration.
#if compiler(>=6.3)
@c(qubemem_v1_fini)
#else
@_cdecl("qubemem_v1_fini")
#endif
public func qubemem_v1_fini() {
    PluginState.shared.reset()
}

/// `qubemem_v1_plain_job_id` in qubemem_abi.h: "123" → 123; anything else → QUBEMEM_NO_VAL.
#if compiler(>=6.3)
@c(qubemem_v1_plain_job_id)
#else
@_cdecl("qubemem_v1_plain_job_id")
#endif
public func qubemem_v1_plain_job_id(_ text: UnsafePointer<CChar>?) -> UInt32 {
    guard let text else { return QUBEMEM_NO_VAL }
    // At most 11 bytes are looked at: a longer text is not a 32-bit id, and is never read to its end.
    var length = 0
    while length < 11, text[length] != 0 { length += 1 }
    let bytes = UnsafeRawBufferPointer(start: text, count: length)
    guard length <= 10, let value = DecimalText.parse(bytes, limit: UInt64(QUBEMEM_NO_VAL) - 1), value > 0
    else { return QUBEMEM_NO_VAL }
    return UInt32(value)
}

/// Where qubemem.conf lives.
enum ConfigLocation {
    static let fallback = "/etc/slurm/qubemem.conf"

    /// The explicit path, else $QUBEMEM_CONF, else qubemem.conf beside slurm.conf, else the
    /// Debian default.
    static func resolve(explicit: String?, environment: String?, slurmConf: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let environment, !environment.isEmpty { return environment }
        if let slurmConf, let slash = slurmConf.lastIndex(of: "/") {
            return slurmConf[..<slash] + "/qubemem.conf"
        }
        return fallback
    }
}

/// The C fields of a job turned into the user's memory request.
enum JobFields {
    /// Decodes job_desc's pn_min_memory with the CPUs per node the job asked for.
    static func userMemory(_ job: qubemem_v1_job) -> UserMemory {
        let raw = job.pn_min_memory
        if raw == QUBEMEM_NO_VAL64 || raw == UInt64.max { return .none }
        if raw & QUBEMEM_MEM_PER_CPU != 0 {
            return .perCPU(mib: raw & ~QUBEMEM_MEM_PER_CPU, cpusPerNode: cpusPerNode(job))
        }
        return .perNode(mib: raw)
    }

    /// The job's MPI ranks on nodes, from num_tasks, min_nodes, ntasks_per_node and
    /// cpus_per_task (NO_VAL and 0 mean "not given").
    static func layout(_ job: qubemem_v1_job) -> TaskLayout {
        func given32(_ v: UInt32) -> UInt64? { v == QUBEMEM_NO_VAL || v == 0 ? nil : UInt64(v) }
        func given16(_ v: UInt16) -> UInt64? { v == QUBEMEM_NO_VAL16 || v == 0 ? nil : UInt64(v) }
        return TaskLayout(tasks: given32(job.num_tasks), nodes: given32(job.min_nodes),
                          tasksPerNode: given16(job.ntasks_per_node), cpusPerTask: given16(job.cpus_per_task))
    }

    /// CPUs per node: ntasks_per_node × cpus_per_task when given, else min_cpus spread over
    /// min_nodes (rounded up), else cpus_per_task, else 1.
    static func cpusPerNode(_ job: qubemem_v1_job) -> UInt64 {
        let perTask: UInt64 =
            (job.cpus_per_task == QUBEMEM_NO_VAL16 || job.cpus_per_task == 0)
            ? 1 : UInt64(job.cpus_per_task)
        if job.ntasks_per_node != QUBEMEM_NO_VAL16, job.ntasks_per_node != 0 {
            return UInt64(job.ntasks_per_node) * perTask  // both < 2^16: cannot overflow
        }
        if job.min_cpus != QUBEMEM_NO_VAL, job.min_cpus != 0 {
            let nodes: UInt64 =
                (job.min_nodes == QUBEMEM_NO_VAL || job.min_nodes == 0) ? 1 : UInt64(job.min_nodes)
            let cpus = UInt64(job.min_cpus)
            return (cpus + nodes - 1) / nodes  // cpus, nodes < 2^32: cannot overflow
        }
        return perTask
    }
}
