#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes. `run()` uses the process's streams; tests pass their own sinks.
struct CommandContext: Sendable {
    var out: @Sendable (String) -> Void
    var err: @Sendable (String) -> Void

    /// The process's standard output and standard error.
    ///
    /// A report that cannot be written whole is never left looking complete: when standard output
    /// fails (a full or read-only disk behind `> report.json`, an I/O error), qubemem says so on
    /// standard error and exits 1 at once. Foundation's `FileHandle.write` trapped there instead.
    /// A closed pipe (`| head`) ends the process by SIGPIPE, as for any filter.
    static let standard = CommandContext(
        out: { text in
            if let failure = StandardStream.write(text, to: STDOUT_FILENO) { StandardStream.outputFailed(failure) }
        },
        err: { text in _ = StandardStream.write(text, to: STDERR_FILENO) })
}

/// Whole writes to the standard streams with `write(2)`.
enum StandardStream {
    /// Writes every byte of `text` to `fd`, again after a signal or a short write; the `errno` of
    /// the write that failed, or nil.
    static func write(_ text: String, to fd: Int32) -> Int32? {
        var text = text
        return text.withUTF8 { bytes -> Int32? in
            guard let base = bytes.baseAddress else { return nil }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, base + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
    }

    /// Ends the process after standard output failed with `code`.
    static func outputFailed(_ code: Int32) -> Never {
        if code == EPIPE {
            signal(SIGPIPE, SIG_DFL)
            raise(SIGPIPE)
        }
        let reason = String(cString: strerror(code))
        _ = write("Error: cannot write standard output: \(reason) (the report is incomplete)\n", to: STDERR_FILENO)
        exit(1)
    }
}
