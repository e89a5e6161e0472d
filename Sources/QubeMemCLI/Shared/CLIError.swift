import ArgumentParser
import QubeMem
import QubeMemInputs

/// Errors of the CLI's own making. Input problems exit 64 (usage), like ValidationError.
enum CLIError: Error, CustomStringConvertible {
    case noQubeSection(comment: String)
    case badComment(CommentError)
    case prediction(PredictionError)
    case config(path: String, message: String)
    /// A QUBE run's own config or mask (`--qube-config`) cannot be used.
    case input(InputError)

    var description: String {
        switch self {
        case let .noQubeSection(comment):
            "the comment '\(comment)' has no 'qube:' section; write for example 'qube: fields=QU n_obs=4900 lmax=128'"
        case let .badComment(error):
            "bad qube comment: \(error)"
        case let .prediction(error):
            "\(error)"
        case let .config(path, message):
            "config file '\(path)': \(message)"
        case let .input(error):
            "\(error)"
        }
    }

    /// Input problems exit 64 (EX_USAGE); a config file that cannot be used exits 1.
    var exitCode: ExitCode {
        if case .config = self { return .failure }
        if case .input = self { return .failure }
        return ExitCode(64)
    }
}
