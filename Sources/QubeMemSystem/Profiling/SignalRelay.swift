#if canImport(Glibc)
import Glibc
#endif

/// The write end of the self-pipe the signal handler writes to. It is the only global the profiler
/// keeps: a signal handler has no other way to reach the loop. Written before the handler is
/// installed and reset after it is removed.
nonisolated(unsafe) private var relayWriteFD: Int32 = -1

/// si_code of a signal the kernel raised itself, such as SIGINT from the terminal's Ctrl-C.
private let SI_KERNEL_CODE: Int32 = 0x80

/// Async-signal-safe: two bytes (signal, 1 if raised by the kernel/terminal) into the pipe.
private func relayHandler(_ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ ctx: UnsafeMutableRawPointer?) {
    let saved = errno
    var bytes: (UInt8, UInt8) = (UInt8(truncatingIfNeeded: sig), info?.pointee.si_code == SI_KERNEL_CODE ? 1 : 0)
    _ = withUnsafeBytes(of: &bytes) { write(relayWriteFD, $0.baseAddress, 2) }
    errno = saved
}

/// Catches the signals the profiler forwards and turns them into bytes on a pipe that the sampling
/// loop polls. SIGCHLD is left alone (the loop watches the child through a pidfd), so a host
/// process's own child handling is not disturbed.
final class SignalRelay {
    /// Signals forwarded to the child.
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]
    let readFD: Int32
    private let writeFD: Int32
    private var previous: [(Int32, sigaction)] = []

    struct Delivery: Equatable {
        var signal: Int32
        /// Raised by the kernel (the terminal's Ctrl-C / Ctrl-\), which the child, being in our
        /// process group, received as well.
        var fromTerminal: Bool
    }

    init() throws(SystemError) {
        (readFD, writeFD) = try Sys.pipe(cloexecWrite: true)
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        relayWriteFD = writeFD
        for s in Self.forwarded {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = relayHandler
            action.sa_flags = SA_SIGINFO | SA_RESTART
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(s, &action, &old)
            previous.append((s, old))
        }
    }

    /// Restores the previous handlers and closes the pipe.
    func restore() {
        for (s, old) in previous {
            var o = old
            sigaction(s, &o, nil)
        }
        previous = []
        relayWriteFD = -1
        close(readFD)
        close(writeFD)
    }

    func drain() -> [Delivery] {
        let bytes = Sys.readAvailable(readFD)
        var out: [Delivery] = []
        var i = 0
        while i + 1 < bytes.count {
            out.append(Delivery(signal: Int32(bytes[i]), fromTerminal: bytes[i + 1] == 1))
            i += 2
        }
        return out
    }
}

/// Ends this process the way the child ended: the same exit code, or the same signal (core dumps
/// off, so a crash is not dumped twice). Call after the report has been written.
public func exitLike(_ status: ExitStatus) -> Never {
    switch status {
    case .exited(let code):
        exit(code)
    case .signaled(let sig, _):
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigaction(sig, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        kill(getpid(), sig)
        // A signal whose default is to be ignored (SIGCHLD, SIGURG...) lands here.
        exit(128 + sig)
    }
}
