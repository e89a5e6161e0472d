import Foundation

/// Where a command writes. `run()` uses the process's streams; tests pass their own sinks.
struct CommandContext: Sendable {
    var out: @Sendable (String) -> Void
    var err: @Sendable (String) -> Void

    /// The process's standard output and standard error.
    static let standard = CommandContext(
        out: { FileHandle.standardOutput.write(Data($0.utf8)) },
        err: { FileHandle.standardError.write(Data($0.utf8)) })
}
