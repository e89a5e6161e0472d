#if canImport(Glibc)
import Glibc
#endif

/// The memory cgroup whose charge `qubemem profile` reports beside the tree's summed RSS: every
/// page the run's processes touched, counted once however many of them map it, page cache and
/// shmem included. It is the figure the kernel's OOM killer (and SLURM's cgroup limit) acts on.
///
/// Two kinds. `own`: a cgroup qubemem creates for the run, `qubemem-profile-PID` below its own
/// memory cgroup (below, not at the hierarchy's root, so any limit on qubemem still applies to the
/// run), and removes at the end. `slurmJob`: inside a SLURM job, the job's cgroup, only read.
public final class MemoryCgroup {
    public enum Kind: String, Sendable, Codable {
        /// Created for this run; holds exactly the command's tree.
        case own
        /// The enclosing SLURM job's cgroup, read only: it holds the whole job, since it started.
        case slurmJob = "slurm_job"
    }

    /// Why there is no cgroup figure (a line of the report).
    public enum Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
        case turnedOff
        case location(MemoryCgroupLocation.Failure)
        case unreadable(path: String, SystemError)
        case slurmJobNotFound(jobID: String, path: String)
        case cannotCreate(path: String, SystemError)
        case cannotJoin(path: String, SystemError)
        case noMemoryController(path: String)
        case noPeakFile(path: String)

        public var description: String {
            switch self {
            case .turnedOff:
                return "not measured (turned off)"
            case .location(let f):
                return "\(f)"
            case .unreadable(let path, let e):
                return "cannot read '\(path)': \(e)"
            case .slurmJobNotFound(let id, let path):
                return "inside SLURM job \(id) (SLURM_JOB_ID) but its cgroup is not among this process's ancestors ('\(path)'); the job's processes are not moved"
            case .cannotCreate(let path, let e):
                return "cannot create the cgroup '\(path)': \(e)"
            case .cannotJoin(let path, let e):
                return "cannot start the command inside the cgroup '\(path)': \(e)"
            case .noMemoryController(let path):
                return "the memory controller is not enabled for '\(path)' (its parent's cgroup.subtree_control refused +memory)"
            case .noPeakFile(let path):
                return "the kernel has no '\(path)' (cgroup v2 memory.peak needs Linux 5.19)"
            }
        }
    }

    public let kind: Kind
    public let location: MemoryCgroupLocation
    /// The cgroup qubemem itself was in (for `own`: where it returns to and where processes still
    /// inside at the end are moved before the cgroup is removed).
    public let home: MemoryCgroupLocation
    private let usageFD: Int32
    private var removed = false

    private init(kind: Kind, location: MemoryCgroupLocation, home: MemoryCgroupLocation, usageFD: Int32) {
        self.kind = kind; self.location = location; self.home = home; self.usageFD = usageFD
    }

    deinit {
        close(usageFD)
        _ = remove()
    }

    /// The cgroup to measure: inside a SLURM job (`slurmJobID`, from SLURM_JOB_ID) the job's own,
    /// otherwise a new one below this process's memory cgroup.
    ///
    /// - Parameters:
    ///   - slurmJobID: the value of SLURM_JOB_ID in qubemem's environment, nil outside a job.
    ///   - procSelf: the directory that plays /proc/self (tests).
    public static func prepare(slurmJobID: String?, procSelf: String = "/proc/self") -> Result<MemoryCgroup, Unavailable> {
        let cgroupPath = procSelf + "/cgroup", mountinfoPath = procSelf + "/mountinfo"
        let cgroupText: [UInt8], mountinfo: [UInt8]
        do {
            cgroupText = try CgroupIO.read(cgroupPath)
            mountinfo = try CgroupIO.read(mountinfoPath, limit: 1 << 20)
        } catch {
            return .failure(.unreadable(path: error.subject, error))
        }
        let text = String(decoding: cgroupText, as: UTF8.self).split(separator: "\n").joined(separator: " ")
        let home: MemoryCgroupLocation
        switch MemoryCgroupLocation.resolve(CgroupMembership.parse(cgroupText) ?? [], mounts: CgroupMount.parse(mountinfo: mountinfo),
                                            cgroupFile: text) {
        case .success(let l): home = l
        case .failure(let f): return .failure(.location(f))
        }
        if let job = slurmJobID, !job.isEmpty {
            guard let jobCgroup = home.enclosingSlurmJob(job) else {
                return .failure(.slurmJobNotFound(jobID: job, path: home.path))
            }
            return open(kind: .slurmJob, jobCgroup, home: home)
        }
        let name = "qubemem-profile-\(getpid())"
        let own = MemoryCgroupLocation(version: home.version, directory: home.directory + "/" + name,
                                       path: (home.path == "/" ? "" : home.path) + "/" + name, mountPoint: home.mountPoint)
        CgroupIO.removeStaleSiblings(in: home.directory, except: name)
        if mkdir(own.directory, 0o755) != 0 {
            let e = errno
            // Left by an earlier run of a process with this pid: reuse it if it is empty.
            guard e == EEXIST, rmdir(own.directory) == 0, mkdir(own.directory, 0o755) == 0 else {
                return .failure(.cannotCreate(path: own.directory, SystemError(call: "mkdir", subject: own.directory, errno: e)))
            }
        }
        if own.version == 2 && !CgroupIO.enableMemoryController(own, parent: home) {
            rmdir(own.directory)
            return .failure(.noMemoryController(path: own.directory))
        }
        return open(kind: .own, own, home: home)
    }

    private static func open(kind: Kind, _ location: MemoryCgroupLocation, home: MemoryCgroupLocation) -> Result<MemoryCgroup, Unavailable> {
        let fail: (Unavailable) -> Result<MemoryCgroup, Unavailable> = { reason in
            if kind == .own { rmdir(location.directory) }
            return .failure(reason)
        }
        guard access(location.peakFile, R_OK) == 0 else {
            if location.version == 2 { return fail(.noPeakFile(path: location.peakFile)) }
            return fail(.unreadable(path: location.peakFile, SystemError(call: "open", subject: location.peakFile, errno: errno)))
        }
        let fd = Glibc.open(location.usageFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return fail(.unreadable(path: location.usageFile, SystemError(call: "open", subject: location.usageFile, errno: errno)))
        }
        return .success(MemoryCgroup(kind: kind, location: location, home: home, usageFD: fd))
    }

    /// The charge now (`memory.usage_in_bytes` / `memory.current`), bytes: one pread of a
    /// descriptor kept open (a few microseconds).
    public func usage() -> UInt64? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b -> UInt64? in
            let n = pread(usageFD, b.baseAddress, b.count, 0)
            guard n > 0, n < b.count else { return nil }
            return parseCgroupCounter(UnsafeBufferPointer(rebasing: b[0..<n]))
        }
    }

    /// The kernel's high-water mark of the charge (`memory.max_usage_in_bytes` / `memory.peak`),
    /// bytes: since the cgroup was created (`own`) or since the job started (`slurmJob`).
    public func peak() -> UInt64? {
        (try? CgroupIO.read(location.peakFile)).flatMap { parseCgroupCounter($0) }
    }

    /// Moves this process (all its threads) into the cgroup, so that a child spawned now starts
    /// in it; `leave()` right after the spawn. Only for `own`.
    public func join() throws(SystemError) {
        try CgroupIO.write(location.directory + "/cgroup.procs", "\(getpid())")
    }

    /// Moves this process back to the cgroup it came from.
    public func leave() throws(SystemError) {
        try CgroupIO.write(home.directory + "/cgroup.procs", "\(getpid())")
    }

    /// Removes an `own` cgroup: processes of the run still in it (left running) are first moved
    /// to qubemem's own cgroup; the kernel may need a moment after the last one was reaped.
    /// Returns why it could not be removed, nil when it was (or is not ours to remove).
    @discardableResult
    public func remove() -> SystemError? {
        guard kind == .own, !removed else { return nil }
        var last: Int32 = 0
        for attempt in 0..<50 {
            if rmdir(location.directory) == 0 || errno == ENOENT {
                removed = true
                return nil
            }
            last = errno
            if last != EBUSY { break }
            for pid in CgroupIO.pids(in: location.directory) {
                try? CgroupIO.write(home.directory + "/cgroup.procs", "\(pid)")
            }
            if attempt > 0 { usleep(10_000) }
        }
        return SystemError(call: "rmdir", subject: location.directory, errno: last)
    }
}

/// The cgroup file reads and writes behind `MemoryCgroup`.
enum CgroupIO {
    static func read(_ path: String, limit: Int = 65536) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open", subject: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "read", subject: path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    static func write(_ path: String, _ text: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open", subject: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw SystemError(call: "write", subject: "\(path) <- \(text)", errno: n < 0 ? errno : EIO) }
    }

    /// The pids in a cgroup's `cgroup.procs`.
    static func pids(in directory: String) -> [Int32] {
        guard let bytes = try? read(directory + "/cgroup.procs") else { return [] }
        return bytes.split(separator: 10).compactMap { parseDecimal($0).map { Int32(truncatingIfNeeded: $0) } }
    }

    /// Removes the `qubemem-profile-PID` cgroups of earlier runs that were killed before they could
    /// (SIGKILL): those whose PID is gone and that hold no process.
    static func removeStaleSiblings(in directory: String, except name: String) {
        guard let dir = opendir(directory) else { return }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix("qubemem-profile-"), entryName != name,
                  let pid = Int32(entryName.dropFirst("qubemem-profile-".count)),
                  kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            stale.append(directory + "/" + entryName)
        }
        closedir(dir)
        for path in stale where pids(in: path).isEmpty { rmdir(path) }
    }

    /// cgroup v2: makes the memory controller available in `cgroup` (its parent must list it in
    /// `cgroup.subtree_control`, which the kernel refuses while the parent, not the root, holds
    /// processes). True when `memory` is in the cgroup's `cgroup.controllers`.
    static func enableMemoryController(_ cgroup: MemoryCgroupLocation, parent: MemoryCgroupLocation) -> Bool {
        func hasMemory() -> Bool {
            guard let text = try? read(cgroup.directory + "/cgroup.controllers") else { return false }
            return text.split(whereSeparator: { $0 == 32 || $0 == 10 }).contains { $0.elementsEqual("memory".utf8) }
        }
        if hasMemory() { return true }
        try? write(parent.directory + "/cgroup.subtree_control", "+memory")
        return hasMemory()
    }
}
