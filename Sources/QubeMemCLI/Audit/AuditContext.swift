import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

/// Where `audit` writes and how it runs sacct. `run()` uses the real ones; tests inject theirs.
struct AuditContext: Sendable {
    var out: @Sendable (String) -> Void
    var err: @Sendable (String) -> Void
    /// Colour the table (only when stdout is a terminal and NO_COLOR is unset).
    var colour: Bool
    var sacct: any SacctRunning
    var writeFile: @Sendable (String, String) throws -> Void

    static var standard: AuditContext {
        let base = CommandContext.standard
        let noColour = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return AuditContext(
            out: base.out, err: base.err, colour: Terminal.standardOutputIsTerminal && !noColour, sacct: ProcessSacctRunner(),
            writeFile: { path, text in
                do {
                    // Written beside and renamed: a reader (or a full disk) never sees half a file.
                    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw AuditError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
                }
            })
    }
}
