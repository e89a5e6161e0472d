/// How a process ended, decoded from a wait status.
public enum ExitStatus: Sendable, Equatable, Codable, CustomStringConvertible {
    /// exit(code) or return from main.
    case exited(Int32)
    /// Killed by a signal; `coreDumped` when the kernel wrote a core file.
    case signaled(Int32, coreDumped: Bool)

    /// Decodes a raw wait status (the `WIFEXITED`/`WTERMSIG` macros, which Swift does not import).
    public init?(waitStatus s: Int32) {
        let low = s & 0x7f
        if low == 0 {
            self = .exited((s >> 8) & 0xff)
        } else if low != 0x7f {
            self = .signaled(low, coreDumped: s & 0x80 != 0)
        } else {
            return nil  // stopped, not ended
        }
    }

    /// The exit code a shell would show: the code, or 128 + signal.
    public var shellCode: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s, _): return 128 + s
        }
    }

    public var description: String {
        switch self {
        case .exited(let c): return "exited with code \(c)"
        case .signaled(let s, let core):
            return "killed by signal \(s) (\(signalName(s)))" + (core ? ", core dumped" : "")
        }
    }
}

/// The conventional name of a Linux signal number, such as SIGKILL for 9.
public func signalName(_ s: Int32) -> String {
    let names: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
        8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
        14: "SIGALRM", 15: "SIGTERM", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
        24: "SIGXCPU", 25: "SIGXFSZ", 30: "SIGPWR", 31: "SIGSYS",
    ]
    return names[s] ?? "signal \(s)"
}
