public import ArgumentParser
import Foundation

/// The `qubemem` root command: it only routes to the subcommands.
public struct QubeMemCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qubemem",
        abstract: "Predict, enforce and audit the memory of QUBE power-spectrum runs.",
        discussion: """
            qubemem computes QUBE's peak memory stage by stage from a run's dimensions, \
            turns it into a SLURM memory request, audits finished jobs against their \
            predictions, and profiles a run's real memory from outside the process.
            """,
        version: QubeMemVersion.string,
        subcommands: [PredictCommand.self, AuditCommand.self, ProfileCommand.self, SweepCommand.self]
    )

    public init() {}

    /// Parses the arguments and runs the chosen subcommand. Input errors exit 64 (EX_USAGE),
    /// like argument errors; other failures exit 1.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            CommandContext.standard.err("Error: \(error)\n")
            Foundation.exit(error.exitCode.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}

/// The version printed by `qubemem --version`.
public enum QubeMemVersion {
    public static let string = "0.1.0"
}
