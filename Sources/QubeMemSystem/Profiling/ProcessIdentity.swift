/// Who a process of the profiled tree is: the MPI rank its environment names, and its command line.
///
/// Read once when the process is first seen and once more when its command name changes (an
/// exec: hydra's proxy forks and then execs each rank), never at every sample. Parsing is pure
/// (bytes in, value out) so the tests run it on fixture files.
public struct ProcessIdentity: Sendable, Equatable, Codable {
    /// The environment variable that gave the rank (`PMI_RANK`, ...), nil when none did.
    public var rankVariable: String?
    /// The rank that variable holds, nil when none did.
    public var rank: Int?
    /// argv joined with single spaces, at most `commandLineLimit` characters (with "…" when cut).
    public var commandLine: String

    public init(rankVariable: String? = nil, rank: Int? = nil, commandLine: String = "") {
        self.rankVariable = rankVariable; self.rank = rank; self.commandLine = commandLine
    }

    /// The variables that carry a process's rank, most specific first: MPICH's hydra and Intel MPI
    /// (`PMI_RANK`), PMIx launchers such as Open MPI 5 and `srun --mpi=pmix` (`PMIX_RANK`), Open MPI
    /// (`OMPI_COMM_WORLD_RANK`), MVAPICH2 (`MV2_COMM_WORLD_RANK`), and srun's task id
    /// (`SLURM_PROCID`, inherited by everything a task starts, hence last).
    public static let rankVariables = ["PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "SLURM_PROCID"]

    /// Characters of the command line kept.
    public static let commandLineLimit = 160

    /// The identity from the bytes of `/proc/PID/environ` and `/proc/PID/cmdline` (NUL-separated).
    /// Either may be nil (unreadable: another user's process, or gone).
    public static func parse(environ: [UInt8]?, cmdline: [UInt8]?) -> ProcessIdentity {
        var id = ProcessIdentity()
        if let environ, let (name, rank) = rank(environ: environ) {
            id.rankVariable = name
            id.rank = rank
        }
        if let cmdline { id.commandLine = commandLine(cmdline) }
        return id
    }

    /// The first of `rankVariables` present in the environment with a non-negative decimal value.
    static func rank(environ: [UInt8]) -> (String, Int)? {
        var found: [String: Int] = [:]
        for entry in environ.split(separator: 0, omittingEmptySubsequences: true) {
            guard let eq = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: entry[entry.startIndex..<eq], as: UTF8.self)
            guard rankVariables.contains(key), found[key] == nil,
                  let value = parseDecimal(entry[(eq + 1)...]), value <= UInt64(Int32.max)
            else { continue }
            found[key] = Int(value)
        }
        for key in rankVariables { if let v = found[key] { return (key, v) } }
        return nil
    }

    /// argv (NUL-separated) joined with spaces, cut to `commandLineLimit` characters.
    static func commandLine(_ bytes: [UInt8]) -> String {
        let args = bytes.split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        var text = args.joined(separator: " ")
        while text.hasSuffix(" ") { text.removeLast() }
        if text.count > commandLineLimit { text = String(text.prefix(commandLineLimit - 1)) + "…" }
        return text
    }
}
