import ArgumentParser

// Placeholder: replaced by the predict subcommand's implementation.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Not built yet.")
}
