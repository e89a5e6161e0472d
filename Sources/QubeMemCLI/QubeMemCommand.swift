public import ArgumentParser

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
}

/// The version printed by `qubemem --version`.
public enum QubeMemVersion {
    public static let string = "0.1.0"
}
