/// Where slurmdbd keeps the accounting database, read from slurmdbd.conf (`Storage*` keys), and
/// the cluster whose tables to read, from slurm.conf (`ClusterName`).
///
/// `qubemem audit --source db` reads the tables slurmdbd writes instead of asking sacct: the same
/// jobs and figures, without slurmdbd's per-job step queries. Only what is needed to connect is
/// read; every other key is ignored.
public struct SlurmdbdSettings: Sendable, Equatable {
    /// `StorageHost`, default localhost.
    public var host = "localhost"
    /// `StoragePort`, default 3306.
    public var port: UInt16 = 3306
    /// `StorageUser`, default the user running the audit (nil: let the client decide).
    public var user: String?
    /// `StoragePass`, or nil.
    public var password: String?
    /// `StorageLoc`: the database, default slurm_acct_db.
    public var database = "slurm_acct_db"

    public init() {}

    /// Why a configuration file could not be used.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads slurmdbd.conf's text: `Key=Value` lines, `#` comments, keys in any case.
    public static func parse(slurmdbdConf text: String) -> Result<SlurmdbdSettings, ParseError> {
        var settings = SlurmdbdSettings()
        for (number, key, value) in keyValues(text) {
            switch key {
            case "storagehost": settings.host = value
            case "storageport":
                guard let port = UInt16(value), port > 0 else {
                    return .failure(ParseError(line: number, message: "StoragePort '\(value)' is not a TCP port (1-65535)"))
                }
                settings.port = port
            case "storageuser": settings.user = value
            case "storagepass": settings.password = value
            case "storageloc": settings.database = value
            default: continue
            }
        }
        guard Self.isIdentifier(settings.database) else {
            return .failure(ParseError(line: 0, message: "StorageLoc '\(settings.database)' is not a plain database name (letters, digits, _)"))
        }
        return .success(settings)
    }

    /// The `ClusterName` of slurm.conf's text, lowercased as slurmctld does, or nil.
    public static func clusterName(slurmConf text: String) -> String? {
        for (_, key, value) in keyValues(text) where key == "clustername" && !value.isEmpty {
            return value.lowercased()
        }
        return nil
    }

    /// `(line number, lowercased key, value)` for each `Key=Value` line, comments removed.
    static func keyValues(_ text: String) -> [(Int, String, String)] {
        var out: [(Int, String, String)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingSpaces.lowercased()
            let value = String(line[line.index(after: eq)...].trimmingSpaces)
            if !key.isEmpty { out.append((index + 1, key, value)) }
        }
        return out
    }

    /// A plain SQL identifier, as cluster and database names must be before they are put into a
    /// query: letters, digits and `_`, 1 to 64 of them.
    public static func isIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and carriage returns.
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}
