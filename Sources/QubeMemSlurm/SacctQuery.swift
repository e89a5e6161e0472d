/// The sacct fields the audit reads, in the order it asks for them.
///
/// Comment and AdminComment come last: they are free text and may contain the `|` delimiter, so a row
/// with more fields than expected is read with the extra pieces given to Comment and the last piece to
/// AdminComment (the plugin's record never contains `|`, and it is the last record in AdminComment).
public enum SacctField: String, CaseIterable, Sendable {
    case jobID = "JobID"
    case jobName = "JobName"
    case user = "User"
    case account = "Account"
    case partition = "Partition"
    case state = "State"
    case elapsedRaw = "ElapsedRaw"
    case nNodes = "NNodes"
    case nTasks = "NTasks"
    case allocCPUs = "AllocCPUS"
    case reqMem = "ReqMem"
    case maxRSS = "MaxRSS"
    case tresUsageInTot = "TRESUsageInTot"
    case comment = "Comment"
    case adminComment = "AdminComment"

    /// The field list passed to `sacct --format`.
    public static var formatList: String { allCases.map(\.rawValue).joined(separator: ",") }
}

/// What to ask sacct for: a time window and the filters admins expect.
///
/// The argv is built as a value (never through a shell) so it can be tested and shown.
public struct SacctQuery: Equatable, Sendable {
    /// `--starttime`; sacct syntax (`2026-11-01`, `now-7days`, `2026-11-01T08:00`).
    public var start: String = "now-7days"
    /// `--endtime`, or nil for now.
    public var end: String? = nil
    public var users: [String] = []
    public var accounts: [String] = []
    public var partitions: [String] = []
    public var states: [String] = []
    public var jobs: [String] = []
    /// Extra cluster name (`--clusters`), or nil for the local one.
    public var cluster: String? = nil

    public init() {}

    /// The arguments after the program name.
    public var arguments: [String] {
        var args = ["--parsable2", "--noheader", "--noconvert", "--format=" + SacctField.formatList]
        args.append("--starttime=" + start)
        if let end { args.append("--endtime=" + end) }
        if users.isEmpty {
            args.append("--allusers")
        } else {
            args.append("--user=" + users.joined(separator: ","))
        }
        if !accounts.isEmpty { args.append("--accounts=" + accounts.joined(separator: ",")) }
        if !partitions.isEmpty { args.append("--partition=" + partitions.joined(separator: ",")) }
        if !states.isEmpty { args.append("--state=" + states.joined(separator: ",")) }
        if !jobs.isEmpty { args.append("--jobs=" + jobs.joined(separator: ",")) }
        if let cluster { args.append("--clusters=" + cluster) }
        return args
    }

    /// The command as one line a person can paste into a shell (single-quoted where needed).
    public func shellLine(program: String = "sacct") -> String {
        ([program] + arguments).map(shellQuote).joined(separator: " ")
    }
}

/// Quotes a word for a POSIX shell when it holds anything but safe characters.
public func shellQuote(_ word: String) -> String {
    let safe = word.utf8.allSatisfy { b in
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: "=")
            || b == UInt8(ascii: ",") || b == UInt8(ascii: ".") || b == UInt8(ascii: "/")
            || b == UInt8(ascii: ":") || b == UInt8(ascii: "+")
    }
    if safe && !word.isEmpty { return word }
    return "'" + word.replacingAll("'", with: "'\\''") + "'"
}

extension String {
    /// Replaces every occurrence of a character (standard library only; no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
