#if canImport(Glibc)
import Glibc
#endif

/// Reads /proc (or a copy of it under another root, for tests). Every read is one open/read/close
/// of a small file into a reused buffer; nothing is cached between calls.
public struct ProcFS: Sendable {
    /// The directory that plays /proc: "/proc" live, a fixture folder in tests.
    public var root: String

    public init(root: String = "/proc") { self.root = root }

    /// The whole file (up to `limit` bytes), or nil if it cannot be opened or read (a process that
    /// has just exited, a file the kernel does not offer).
    public func read(_ relative: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(root + "/" + relative, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = 4096
        while out.count < limit {
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: chunk))
            let n = out.withUnsafeMutableBytes { buf -> Int in
                guard let base = buf.baseAddress else { return -1 }
                return Glibc.read(fd, base + start, chunk)
            }
            if n < 0 {
                if errno == EINTR { out.removeLast(chunk); continue }
                return nil
            }
            out.removeLast(chunk - n)
            if n == 0 { break }
            chunk = min(chunk * 2, 65536)
        }
        return out
    }

    public func status(_ pid: Int32) -> ProcStatus? {
        read("\(pid)/status").flatMap { ProcStatus.parse($0) }
    }

    public func stat(_ pid: Int32) -> ProcStat? {
        read("\(pid)/stat").flatMap { ProcStat.parse($0) }
    }

    public func smapsRollup(_ pid: Int32) -> SmapsRollup? {
        read("\(pid)/smaps_rollup").flatMap { SmapsRollup.parse($0) }
    }

    /// The last pid the kernel allocated (from loadavg).
    public func lastPid() -> Int32? {
        read("loadavg").flatMap { parseLastPid($0) }
    }

    /// Resets the process's VmHWM to its current RSS (`echo 5 > clear_refs`). Returns false when
    /// the kernel refuses (another user's process, or no such file).
    public func resetHighWaterMark(_ pid: Int32) -> Bool {
        let fd = open(root + "/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var five: UInt8 = UInt8(ascii: "5")
        return write(fd, &five, 1) == 1
    }

    /// The numeric entries of the root directory: every process id.
    public func pids() -> [Int32] {
        guard let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let entry = readdir(dir) {
            let pid: Int32? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                var v: Int32 = 0
                var n = 0
                for b in raw {
                    if b == 0 { break }
                    guard b >= 48, b <= 57, n < 9 else { return nil }
                    v = v * 10 + Int32(b - 48)
                    n += 1
                }
                return n > 0 ? v : nil
            }
            if let pid { out.append(pid) }
        }
        return out
    }
}
