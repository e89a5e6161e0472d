/// Where the memory cgroup of a process lives, worked out from `/proc/self/cgroup` and
/// `/proc/self/mountinfo`, and the kernel's counter files read as numbers.
///
/// Pure: bytes in, values out, so the tests run it on fixture copies of those files (v1, v2, a
/// SLURM job under cgroup v1 and v2, a container whose mount root is not the hierarchy's root).

/// One line of `/proc/PID/cgroup`: `ID:CONTROLLERS:PATH`.
public struct CgroupMembership: Sendable, Equatable {
    /// The hierarchy id (0 for the cgroup v2 unified hierarchy).
    public var hierarchy: Int
    /// The v1 controllers bound to the hierarchy (`memory`, `cpu,cpuacct`, `name=systemd`); empty for v2.
    public var controllers: [String]
    /// The cgroup's path from the hierarchy's root, starting with "/".
    public var path: String

    public init(hierarchy: Int, controllers: [String], path: String) {
        self.hierarchy = hierarchy; self.controllers = controllers; self.path = path
    }

    /// Every well-formed line of the file; nil when none is (an empty or foreign file).
    public static func parse(_ bytes: [UInt8]) -> [CgroupMembership]? {
        var out: [CgroupMembership] = []
        for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
            // The path may itself hold ':' : split at the first two only.
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let id = parseDecimal(parts[0]), id < 1 << 20, parts[2].first == UInt8(ascii: "/") else { continue }
            let controllers = parts[1].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }
            out.append(CgroupMembership(hierarchy: Int(id), controllers: controllers,
                                        path: String(decoding: parts[2], as: UTF8.self)))
        }
        return out.isEmpty ? nil : out
    }
}

/// A cgroup file system mount, from one line of `/proc/PID/mountinfo`.
public struct CgroupMount: Sendable, Equatable {
    /// The cgroup version: 1 (`cgroup`) or 2 (`cgroup2`).
    public var version: Int
    /// Where it is mounted (`/sys/fs/cgroup/memory`).
    public var mountPoint: String
    /// The hierarchy's directory that appears at the mount point ("/" usually; a container's own
    /// cgroup inside a container).
    public var root: String
    /// The super options (for v1 they name the controllers: `rw,memory`).
    public var superOptions: [String]

    /// The cgroup mounts in a mountinfo file (octal escapes such as `\040` in paths decoded).
    public static func parse(mountinfo bytes: [UInt8]) -> [CgroupMount] {
        var out: [CgroupMount] = []
        for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
            let fields = line.split(separator: 32, omittingEmptySubsequences: true)
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            guard let dash = fields.firstIndex(where: { $0.elementsEqual([UInt8(ascii: "-")]) }),
                  dash >= 5, fields.count >= dash + 4
            else { continue }
            let fstype = String(decoding: fields[dash + 1], as: UTF8.self)
            let version: Int
            switch fstype {
            case "cgroup": version = 1
            case "cgroup2": version = 2
            default: continue
            }
            out.append(CgroupMount(version: version, mountPoint: unescape(fields[4]), root: unescape(fields[3]),
                                   superOptions: fields[dash + 3].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }))
        }
        return out
    }

    /// mountinfo writes space, tab, newline and backslash in paths as `\ooo`.
    static func unescape(_ field: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var i = field.startIndex
        while i < field.endIndex {
            if field[i] == UInt8(ascii: "\\"), field.endIndex - i >= 4,
               let v = parseOctal(field[(i + 1)..<(i + 4)]) {
                out.append(v)
                i += 4
            } else {
                out.append(field[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func parseOctal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        var v: UInt16 = 0
        for d in digits {
            guard d >= 48, d <= 55 else { return nil }
            v = v * 8 + UInt16(d - 48)
        }
        return v <= 255 ? UInt8(v) : nil
    }
}

/// The memory cgroup a process is in: the directory that holds its files, and which version.
public struct MemoryCgroupLocation: Sendable, Equatable {
    /// 1: the v1 `memory` controller (`memory.usage_in_bytes`, `memory.max_usage_in_bytes`);
    /// 2: the unified hierarchy (`memory.current`, `memory.peak`).
    public var version: Int
    /// The cgroup's directory on this machine (mount point + path below the mount's root).
    public var directory: String
    /// The cgroup's path in its hierarchy (as in /proc/PID/cgroup).
    public var path: String
    /// The mount point of the hierarchy (the directory of its root cgroup as mounted here).
    public var mountPoint: String

    /// Why no memory cgroup location could be found.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Neither a v1 `memory` hierarchy nor a v2 one is listed for the process.
        case noMemoryHierarchy(cgroupFile: String)
        /// The hierarchy is not mounted (no matching line in mountinfo).
        case notMounted(version: Int)
        /// The process's cgroup lies outside the part of the hierarchy mounted here (a container).
        case outsideMount(path: String, mountRoot: String)

        public var description: String {
            switch self {
            case .noMemoryHierarchy(let text):
                return "no memory cgroup hierarchy in /proc/self/cgroup ('\(text)')"
            case .notMounted(let v):
                return "the cgroup v\(v) \(v == 1 ? "memory " : "")hierarchy is not mounted (no such line in /proc/self/mountinfo)"
            case .outsideMount(let path, let root):
                return "this process's memory cgroup '\(path)' is outside the mounted part '\(root)' of its hierarchy"
            }
        }
    }

    /// The memory cgroup of the process whose `/proc/PID/cgroup` lines and mounts these are. The
    /// v1 `memory` controller wins where both exist (hybrid systems keep memory on v1).
    public static func resolve(_ memberships: [CgroupMembership], mounts: [CgroupMount],
                               cgroupFile: String = "") -> Result<MemoryCgroupLocation, Failure> {
        let version: Int
        let path: String
        if let v1 = memberships.first(where: { $0.hierarchy != 0 && $0.controllers.contains("memory") }) {
            version = 1
            path = v1.path
        } else if let v2 = memberships.first(where: { $0.hierarchy == 0 && $0.controllers.isEmpty }) {
            version = 2
            path = v2.path
        } else {
            return .failure(.noMemoryHierarchy(cgroupFile: cgroupFile))
        }
        let candidates = mounts.filter { $0.version == version && (version == 2 || $0.superOptions.contains("memory")) }
        guard !candidates.isEmpty else { return .failure(.notMounted(version: version)) }
        // The mount whose root holds the path, the deepest root first.
        for mount in candidates.sorted(by: { $0.root.count > $1.root.count }) {
            guard let below = relative(path, under: mount.root) else { continue }
            let base = mount.mountPoint.hasSuffix("/") ? String(mount.mountPoint.dropLast()) : mount.mountPoint
            return .success(MemoryCgroupLocation(version: version, directory: base + below, path: path,
                                                 mountPoint: mount.mountPoint))
        }
        return .failure(.outsideMount(path: path, mountRoot: candidates[0].root))
    }

    /// `path` below `root` ("" when equal, "/a/b" otherwise); nil when outside it.
    static func relative(_ path: String, under root: String) -> String? {
        if root == "/" { return path == "/" ? "" : path }
        if path == root { return "" }
        guard path.hasPrefix(root + "/") else { return nil }
        return String(path.dropFirst(root.count))
    }

    /// The enclosing cgroup of SLURM job `jobID` when this one lies inside it (slurmd puts a job's
    /// steps and tasks below `.../job_ID/`, under v1 `/slurm/uid_U/job_ID/step_S/task_T` and under
    /// v2 `/system.slice/slurmstepd.scope/job_ID/step_S/user/task_T`); nil otherwise.
    public func enclosingSlurmJob(_ jobID: String) -> MemoryCgroupLocation? {
        guard !jobID.isEmpty, jobID.allSatisfy(\.isNumber) else { return nil }
        let component = "job_" + jobID
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let k = parts.firstIndex(where: { $0 == component }) else { return nil }
        let jobPath = "/" + parts[...k].joined(separator: "/")
        let depthBelow = parts.count - 1 - k
        var dir = directory
        for _ in 0..<depthBelow {
            guard let slash = dir.lastIndex(of: "/") else { return nil }
            dir = String(dir[..<slash])
        }
        guard dir.hasSuffix("/" + component) else { return nil }
        return MemoryCgroupLocation(version: version, directory: dir, path: jobPath, mountPoint: mountPoint)
    }

    /// The file with the charge now, bytes.
    public var usageFile: String { directory + (version == 1 ? "/memory.usage_in_bytes" : "/memory.current") }
    /// The file with the kernel's high-water mark of the charge, bytes (v2: Linux 5.19 and later).
    public var peakFile: String { directory + (version == 1 ? "/memory.max_usage_in_bytes" : "/memory.peak") }
}

/// A cgroup counter file's value: one decimal number of bytes and a newline. nil for anything else,
/// including v2's "max" (no limit).
public func parseCgroupCounter(_ bytes: some Collection<UInt8>) -> UInt64? {
    var trimmed = Array(bytes)
    while let last = trimmed.last, last == 10 || last == 32 { trimmed.removeLast() }
    return parseDecimal(trimmed)
}
