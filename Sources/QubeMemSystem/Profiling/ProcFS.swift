#if canImport(Glibc)
import Glibc
import QubeMem
#endif

/// Reads /proc (or a copy of it under another root, for tests).
///
/// Files of processes being followed are kept open (`status`, `statm`, `clear_refs`, the main
/// thread's `children`) and re-read with
/// `pread` at offset 0, which makes the kernel regenerate them: one system call per read, no path
/// lookup, and a descriptor that fails with ESRCH once the process is gone rather than reading a
/// new process that reused the pid. Call `forget` when a process ends.
public final class ProcFS: ProcessSource {
    /// The directory that plays /proc: "/proc" live, a fixture folder in tests.
    public let root: String
    private var buffer = [UInt8](repeating: 0, count: 16384)
    private var statusFDs: [Int32: Int32] = [:]
    private var statmFDs: [Int32: Int32] = [:]
    private var childrenFDs: [Int32: Int32] = [:]
    private var clearRefsFDs: [Int32: Int32] = [:]
    public let pageSize: UInt64

    public init(root: String = "/proc") {
        self.root = root
        let size = sysconf(Int32(_SC_PAGESIZE))
        pageSize = size > 0 ? UInt64(size) : 4096
    }

    deinit {
        if loadavgFD >= 0 { close(loadavgFD) }
        for fd in statusFDs.values { close(fd) }
        for fd in statmFDs.values { close(fd) }
        for fd in childrenFDs.values { close(fd) }
        for fd in clearRefsFDs.values { close(fd) }
    }

    /// The whole file (up to `limit` bytes), or nil if it cannot be opened or read (a process that
    /// has just exited, a file the kernel does not offer).
    public func read(_ relative: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(root + "/" + relative, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// Reads a descriptor from offset 0 to its end.
    private func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var offset = 0
        while offset < limit {
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base, raw.count, off_t(offset))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            if offset == 0 && n < buffer.count {
                return Array(buffer[0..<n])  // the usual case: the whole file in one read
            }
            out.append(contentsOf: buffer[0..<n])
            offset += n
        }
        return out
    }

    public func status(_ pid: Int32) -> ProcStatus? {
        if let fd = statusFDs[pid] {
            // The usual case, without copying: one pread into the buffer, parsed in place.
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base, raw.count, 0)
            }
            if n > 0 && n < buffer.count { return ProcStatus.parse(slice: buffer[0..<n]) }
            if n <= 0 { return nil }
            return readAll(fd, limit: 65536).flatMap { ProcStatus.parse($0) }
        }
        let fd = open(root + "/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        guard let bytes = readAll(fd, limit: 65536), let st = ProcStatus.parse(bytes) else {
            close(fd)
            return nil
        }
        statusFDs[pid] = fd
        return st
    }

    public func statm(_ pid: Int32) -> ProcStatm? {
        var fd = statmFDs[pid] ?? -1
        if fd < 0 {
            fd = open(root + "/\(pid)/statm", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            statmFDs[pid] = fd
        }
        // Seven numbers, at most 147 bytes: one pread into the stack, parsed in place.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { b -> ProcStatm? in
            let n = pread(fd, b.baseAddress, b.count, 0)
            guard n > 0, n < b.count else { return nil }
            return ProcStatm.parse(buffer: UnsafeBufferPointer(rebasing: b[0..<n]))
        }
    }

    public func children(of pid: Int32, thread tid: Int32) -> [Int32]? {
        var fd = tid == pid ? childrenFDs[pid] ?? -1 : -1
        if fd < 0 {
            fd = open(root + "/\(pid)/task/\(tid)/children", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            if tid == pid { childrenFDs[pid] = fd }
        }
        defer { if tid != pid { close(fd) } }
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return -1 }
            return pread(fd, base, raw.count, 0)
        }
        if n >= 0 && n < buffer.count {
            return buffer.withUnsafeBufferPointer { parsePidList(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        guard n >= 0, let all = readAll(fd, limit: 1 << 20) else { return nil }
        return all.withUnsafeBufferPointer { parsePidList($0) }
    }

    public func threads(of pid: Int32) -> [Int32] {
        numericEntries(of: root + "/\(pid)/task")
    }

    public func probeStatus(_ pid: Int32) -> ProcStatus? {
        read("\(pid)/status").flatMap { ProcStatus.parse($0) }
    }

    public func stat(_ pid: Int32) -> ProcStat? {
        read("\(pid)/stat").flatMap { ProcStat.parse($0) }
    }

    public func smapsRollup(_ pid: Int32) -> SmapsRollup? {
        read("\(pid)/smaps_rollup").flatMap { SmapsRollup.parse($0) }
    }

    /// `environ` (up to 256 KiB: the rank variables of MPI launchers sit anywhere in it) and
    /// `cmdline` (up to 4 KiB; only the first `ProcessIdentity.commandLineLimit` characters are kept).
    public func identity(_ pid: Int32) -> ProcessIdentity {
        ProcessIdentity.parse(environ: read("\(pid)/environ", limit: 1 << 18), cmdline: read("\(pid)/cmdline", limit: 4096))
    }

    private var loadavgFD: Int32 = -1

    private var lastPidIsSysctl = false
    private var smallBuffer = [UInt8](repeating: 0, count: 24)

    /// The last pid the kernel allocated: `sys/kernel/ns_last_pid` (one integer, cheap to
    /// generate), or loadavg's last field where that file is missing. Kept open.
    public func lastPid() -> Int32? {
        if loadavgFD < 0 {
            loadavgFD = open(root + "/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC)
            lastPidIsSysctl = loadavgFD >= 0
            if loadavgFD < 0 { loadavgFD = open(root + "/loadavg", O_RDONLY | O_CLOEXEC) }
        }
        guard loadavgFD >= 0 else { return nil }
        if lastPidIsSysctl {
            // A small read: the sysctl handler allocates a kernel buffer as large as the request
            // (16 KiB for `buffer`), which cost more than the rest of the read. A pid is at most
            // 7 digits.
            let fd = loadavgFD
            return smallBuffer.withUnsafeMutableBufferPointer { b -> Int32? in
                let n = pread(fd, b.baseAddress, b.count, 0)
                guard n > 0, n < b.count else { return nil }
                let end = b[n - 1] == 10 ? n - 1 : n
                return parseDecimal(UnsafeBufferPointer(rebasing: b[0..<end])).map { Int32(truncatingIfNeeded: $0) }
            }
        }
        guard let bytes = readAll(loadavgFD, limit: 4096) else { return nil }
        return parseLastPid(bytes)
    }

    /// Resets the process's VmHWM to its current RSS (`echo 5 > clear_refs`). Returns false when
    /// the kernel refuses (another user's process, or no such file).
    public func resetHighWaterMark(_ pid: Int32) -> Bool {
        var fd = clearRefsFDs[pid] ?? -1
        if fd < 0 {
            fd = open(root + "/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            clearRefsFDs[pid] = fd
        }
        var five = UInt8(ascii: "5")
        return pwrite(fd, &five, 1, 0) == 1
    }

    /// Closes what is kept open for a process that ended.
    public func forget(_ pid: Int32) {
        if let fd = statusFDs.removeValue(forKey: pid) { close(fd) }
        if let fd = statmFDs.removeValue(forKey: pid) { close(fd) }
        if let fd = childrenFDs.removeValue(forKey: pid) { close(fd) }
        if let fd = clearRefsFDs.removeValue(forKey: pid) { close(fd) }
    }

    /// The numeric entries of the root directory: every process (thread-group leader) id.
    public func pids() -> [Int32] { numericEntries(of: root) }

    /// The names of a directory that are decimal numbers.
    private func numericEntries(of path: String) -> [Int32] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let entry = readdir(dir) {
            let pid: Int32? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.prefix { $0 != 0 }
                return DecimalText.parse(name, limit: UInt64(Int32.max)).map { Int32($0) }
            }
            if let pid { out.append(pid) }
        }
        return out
    }
}
