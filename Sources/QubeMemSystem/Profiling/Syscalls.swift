#if canImport(Glibc)
import Glibc
#endif

/// The one place where the profiler calls wait4, posix_spawn, prctl, pipe2 and poll. Each wrapper
/// turns a failure into a typed `SystemError` (retrying on EINTR) so callers never read errno.
enum Sys {
    /// Resource usage of a reaped process (`struct rusage`, the fields the profiler uses).
    struct Usage: Sendable, Equatable {
        /// ru_maxrss in bytes (the kernel reports KiB).
        var maxRSSBytes: UInt64
        /// ru_utime, seconds.
        var userSeconds: Double
        /// ru_stime, seconds.
        var systemSeconds: Double
    }

    struct Reaped: Sendable, Equatable {
        var pid: Int32
        var status: ExitStatus
        var usage: Usage
    }

    /// `wait4(pid, ..., options)`: nil when WNOHANG found nothing or there is no child (ECHILD).
    static func wait4(_ pid: Int32, noHang: Bool) throws(SystemError) -> Reaped? {
        while true {
            var status: Int32 = 0
            var usage = rusage()
            let r = Glibc.wait4(pid, &status, noHang ? WNOHANG : 0, &usage)
            if r > 0 {
                guard let st = ExitStatus(waitStatus: status) else { continue }
                return Reaped(pid: r, status: st, usage: Usage(rusage: usage))
            }
            if r == 0 { return nil }
            let e = errno
            if e == EINTR { continue }
            if e == ECHILD { return nil }
            throw SystemError(call: "wait4", subject: String(pid), errno: e)
        }
    }

    /// `getrusage(RUSAGE_SELF)`: the profiler's own cost.
    static func selfUsage() -> Usage {
        var usage = rusage()
        _ = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Usage(rusage: usage)
    }

    /// Makes this process the reaper of its orphaned descendants (`prctl(PR_SET_CHILD_SUBREAPER)`),
    /// so a grandchild whose parent died is reaped by us, with its rusage. Returns false where the
    /// call is unavailable. prctl is variadic and not imported by Swift; it is called through a
    /// fixed-arity pointer, which the x86-64 and AArch64 calling conventions allow for integers.
    static func becomeSubreaper() -> Bool {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") else { return false }
        let prctl = unsafeBitCast(sym, to: Prctl.self)
        let PR_SET_CHILD_SUBREAPER: Int32 = 36
        return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    }

    /// A descriptor that becomes readable when `pid` ends (`pidfd_open`, Linux 5.3, glibc 2.36),
    /// or nil where unavailable. Looked up at run time: older glibc does not declare it.
    static func pidfd(_ pid: Int32) -> Int32? {
        typealias PidfdOpen = @convention(c) (Int32, UInt32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else { return nil }
        let fd = unsafeBitCast(sym, to: PidfdOpen.self)(pid, 0)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// A pipe: (read end, write end). `cloexecWrite: false` leaves the write end inheritable.
    static func pipe(cloexecWrite: Bool) throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        if !cloexecWrite { _ = fcntl(fds[1], F_SETFD, 0) }
        return (fds[0], fds[1])
    }

    /// Starts `argv` with posix_spawnp (PATH search), `env` as its environment, the signals in
    /// `defaultSignals` reset to their default action and no signal blocked.
    static func spawn(argv: [String], env: [String], newProcessGroup: Bool,
                      defaultSignals: [Int32]) throws(SpawnError) -> Int32 {
        guard let file = argv.first, !file.isEmpty else { throw .emptyCommand }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attr, 0)
        }
        posix_spawnattr_setflags(&attr, Int16(truncatingIfNeeded: flags))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = cArgv.withUnsafeBufferPointer { a in
            cEnv.withUnsafeBufferPointer { e -> Int32 in
                guard let argvBase = a.baseAddress else { return EINVAL }
                return posix_spawnp(&pid, file, nil, &attr, argvBase, e.baseAddress)
            }
        }
        switch rc {
        case 0: return pid
        case ENOENT, ENOTDIR: throw .notFound(file)
        case EACCES: throw .permissionDenied(file)
        default: throw .failed(SystemError(call: "posix_spawnp", subject: file, errno: rc))
        }
    }

    /// The environment of this process as `KEY=VALUE` strings.
    static func environment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }

    /// `poll` on three descriptors (a negative one is ignored) for up to `timeoutMs`; returns
    /// which were readable. Fixed arity: the sampling loop calls it every interval, without
    /// allocating.
    static func poll3(_ a: Int32, _ b: Int32, _ c: Int32, timeoutMs: Int32) -> (Bool, Bool, Bool) {
        var pfds = (pollfd(fd: a, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: b, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: c, events: Int16(POLLIN), revents: 0))
        let r = withUnsafeMutableBytes(of: &pfds) { raw -> Int32 in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: pollfd.self) else { return -1 }
            return Glibc.poll(base, 3, timeoutMs)
        }
        guard r > 0 else { return (false, false, false) }
        let mask = Int16(POLLIN | POLLHUP)
        return (pfds.0.revents & mask != 0, pfds.1.revents & mask != 0, pfds.2.revents & mask != 0)
    }

    /// Reads what is available on a non-blocking descriptor (up to 64 KiB).
    static func readAvailable(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < 65536 {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { out.append(contentsOf: buf[0..<n]) } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return out
    }

    /// Monotonic time in nanoseconds (CLOCK_MONOTONIC).
    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension Sys.Usage {
    init(rusage u: rusage) {
        maxRSSBytes = UInt64(max(u.ru_maxrss, 0)) &* 1024
        userSeconds = Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
        systemSeconds = Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }
}
