/// The stage channel's protocol, version 1.
///
/// `qubemem profile` opens a pipe and names it in the child's environment:
///
/// - `QUBEMEM_STAGE_FD`: the number of an inherited descriptor open for writing;
/// - `QUBEMEM_STAGE_FILE`: a path that opens the same pipe for writing (for a process that lost
///   the descriptor, e.g. one started with close_fds).
///
/// The child writes one line per event, in one `write` each (lines under 4096 bytes are atomic on
/// a pipe, so several processes may write):
///
///     enter NAME
///     exit NAME
///
/// Optionally, a writer that wants each event stamped before it goes on reads one byte from
/// `QUBEMEM_STAGE_ACK_FD` after writing a line: the profiler writes one byte per event once it
/// has taken that event's sample. Only one process should wait for acks (they are not addressed).
///
/// NAME is any text without a newline (QUBE's are like `fisher.basis_setup`). Stages nest: an
/// `exit` closes the innermost open stage of that name and any opened inside it. The profiler
/// stamps each event when it reads it and takes a sample right then, so every sampling interval
/// lies inside one set of open stages. Unknown verbs and blank lines are ignored.
public enum StageEvent: Sendable, Equatable {
    case enter(String)
    case exit(String)

    /// Parses one line (without its newline). nil for anything that is not an event.
    public static func parse(line: some StringProtocol) -> StageEvent? {
        var text = Substring(line)
        while let last = text.last, last == "\r" || last == " " { text.removeLast() }
        if text.hasPrefix("enter ") {
            let name = text.dropFirst(6)
            return name.isEmpty ? nil : .enter(String(name))
        }
        if text.hasPrefix("exit ") {
            let name = text.dropFirst(5)
            return name.isEmpty ? nil : .exit(String(name))
        }
        return nil
    }
}

/// Splits a byte stream into complete lines, keeping a partial last line for the next call.
struct LineBuffer {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending.append(contentsOf: bytes)
        var lines: [String] = []
        while let nl = pending.firstIndex(of: 10) {
            lines.append(String(decoding: pending[..<nl], as: UTF8.self))
            pending.removeSubrange(...nl)
        }
        if pending.count > 65536 { pending.removeAll() }  // a runaway line without newline
        return lines
    }
}
