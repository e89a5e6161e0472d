#if canImport(Glibc)
import Glibc
#endif

/// User names and ids from the system's user database (getpwnam_r / getpwuid_r), cached.
public final class UserDirectory: @unchecked Sendable {
    private var names: [UInt32: String] = [:]

    public init() {}

    /// The name of `uid`, or the number as text when the system does not know it (a deleted
    /// user), as sacct prints it from SLURM 24.11 on (22.05's printed nothing).
    public func name(_ uid: UInt32) -> String {
        if let known = names[uid] { return known }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let found = getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0 && result != nil
        let name = found ? String(cString: entry.pw_name) : "\(uid)"
        names[uid] = name
        return name
    }

    /// The uid of a user name (or of a number given as text), or nil.
    public static func uid(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }
}
