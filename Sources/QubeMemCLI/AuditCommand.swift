import ArgumentParser

// Placeholder: replaced by the audit subcommand's implementation.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Not built yet.")
}
