#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why running sacct failed.
public enum SacctError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program could not be found or started.
    case notFound(program: String, errno: Int32)
    /// It exited with a non-zero status; stderr is kept (truncated) for the message.
    case failed(program: String, status: Int32, stderr: String)
    /// It was killed by a signal.
    case signalled(program: String, signal: Int32, stderr: String)
    /// It ran longer than the timeout and was killed.
    case timedOut(program: String, seconds: Int, stderr: String)
    /// Its output exceeded the limit; it was killed.
    case outputTooLarge(program: String, limitBytes: Int)
    /// A system call failed while talking to it.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let p, let e):
            return "cannot run '\(p)': \(Self.errnoText(e)). Is SLURM's client installed and on PATH? "
                + "(or use --sacct PATH, or --input FILE with a saved dump)"
        case .failed(let p, let s, let err):
            return "'\(p)' exited with status \(s)" + Self.tail(err)
        case .signalled(let p, let s, let err):
            return "'\(p)' was killed by signal \(s)" + Self.tail(err)
        case .timedOut(let p, let secs, let err):
            return "'\(p)' did not finish within \(secs) s and was stopped (raise --timeout, or narrow "
                + "--start/--end)" + Self.tail(err)
        case .outputTooLarge(let p, let limit):
            return "'\(p)' printed more than \(limit) bytes and was stopped (narrow the window or the "
                + "filters, or save a dump and use --input)"
        case .system(let call, let e):
            return "\(call) failed: \(Self.errnoText(e))"
        }
    }

    static func tail(_ stderr: String) -> String {
        let trimmed = stderr.split(whereSeparator: \.isNewline).joined(separator: "\n  ")
        return trimmed.isEmpty ? " and printed nothing on stderr" : "; its stderr:\n  " + trimmed
    }

    static func errnoText(_ e: Int32) -> String {
        guard let s = strerror(e) else { return "errno \(e)" }
        return String(cString: s)
    }
}

/// Runs sacct (or any program) and streams its stdout to a consumer.
public protocol SacctRunning: Sendable {
    /// Runs `program` with `arguments`; calls `onOutput` with stdout chunks as they arrive.
    /// - Parameters:
    ///   - timeoutSeconds: wall-clock limit; the child is killed past it.
    ///   - outputLimit: stdout byte limit; the child is killed past it.
    /// - Throws: `SacctError` with the child's stderr in it.
    func run(
        program: String, arguments: [String], timeoutSeconds: Int, outputLimit: Int,
        onOutput: (UnsafeRawBufferPointer) -> Void
    ) throws(SacctError)
}

/// Runs the real program with posix_spawnp (no shell), reading stdout and stderr together with poll.
public struct ProcessSacctRunner: SacctRunning {
    /// Stderr kept for messages, bytes.
    static let stderrLimit = 16 * 1024

    public init() {}

    public func run(
        program: String, arguments: [String], timeoutSeconds: Int, outputLimit: Int,
        onOutput: (UnsafeRawBufferPointer) -> Void
    ) throws(SacctError) {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw .system(call: "pipe", errno: errno) }
        guard pipe(&errPipe) == 0 else {
            let e = errno
            close(outPipe[0]); close(outPipe[1])
            throw .system(call: "pipe", errno: e)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1]] {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = [program] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let spawnStatus = posix_spawnp(&pid, program, &actions, nil, cArgs, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard spawnStatus == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw .notFound(program: program, errno: spawnStatus)
        }

        var stderrBytes: [UInt8] = []
        var total = 0
        var failure: SacctError? = nil
        var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
        var open = 2
        let deadline = Self.nowMillis() + Int64(timeoutSeconds) * 1000
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while open > 0 && failure == nil {
            let remaining = deadline - Self.nowMillis()
            if remaining <= 0 {
                failure = .timedOut(program: program, seconds: timeoutSeconds, stderr: "")
                break
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1000)))
            if ready < 0 {
                if errno == EINTR { continue }
                failure = .system(call: "poll", errno: errno)
                break
            }
            for i in 0..<fds.count where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                    continue
                }
                if i == 0 {
                    total += n
                    if total > outputLimit {
                        failure = .outputTooLarge(program: program, limitBytes: outputLimit)
                        break
                    }
                    buffer.withUnsafeBytes { onOutput(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                } else if stderrBytes.count < Self.stderrLimit {
                    stderrBytes.append(contentsOf: buffer[0..<min(n, Self.stderrLimit - stderrBytes.count)])
                }
            }
        }
        if failure != nil { kill(pid, SIGKILL) }
        for fd in fds where fd.fd >= 0 { close(fd.fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw .system(call: "waitpid", errno: errno) }
        }
        let stderrText = String(decoding: stderrBytes, as: UTF8.self)
        if case .timedOut = failure { throw .timedOut(program: program, seconds: timeoutSeconds, stderr: stderrText) }
        if let failure { throw failure }
        let signal = status & 0x7f
        if signal != 0 { throw .signalled(program: program, signal: signal, stderr: stderrText) }
        let code = (status >> 8) & 0xff
        // posix_spawnp reports a missing program through the child's exit status 127.
        if code == 127 && total == 0 && stderrText.isEmpty {
            throw .notFound(program: program, errno: ENOENT)
        }
        if code != 0 { throw .failed(program: program, status: code, stderr: stderrText) }
    }

    static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
