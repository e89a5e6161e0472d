import ArgumentParser

// Placeholder: replaced by the sweep subcommand's implementation.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep", abstract: "Not built yet.")
}
