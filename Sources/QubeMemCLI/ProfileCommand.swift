import ArgumentParser

// Placeholder: replaced by the profile subcommand's implementation.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", abstract: "Not built yet.")
}
