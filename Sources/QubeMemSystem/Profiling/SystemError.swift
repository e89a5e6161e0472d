#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the errno it set.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed (`posix_spawnp`, `wait4`, `pipe2`, ...).
    public var call: String
    /// What it was called on (a path, a pid), or empty.
    public var subject: String
    /// The errno value.
    public var errno: Int32

    public init(call: String, subject: String = "", errno: Int32) {
        self.call = call; self.subject = subject; self.errno = errno
    }

    public var description: String {
        let what = subject.isEmpty ? "" : " '\(subject)'"
        return "\(call)\(what): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Why a command could not be started.
public enum SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command name is not an executable file on PATH (or the path does not exist).
    case notFound(String)
    /// The file exists but is not executable by us.
    case permissionDenied(String)
    /// Another failure of the spawn itself.
    case failed(SystemError)
    /// No command was given.
    case emptyCommand

    public var description: String {
        switch self {
        case .notFound(let c): return "command not found: '\(c)' (not an executable on PATH)"
        case .permissionDenied(let c): return "command not executable: '\(c)' (permission denied)"
        case .failed(let e): return "could not start the command: \(e)"
        case .emptyCommand: return "no command given: put it after '--'"
        }
    }
}
