import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

/// Errors of `audit` other than bad options (those are ValidationErrors, exit 64). All exit 1.
enum AuditError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case sacct(SacctError)
    case database(String)
    case badHeader(String)
    case rowsDropped(Int)
    case noRecommendation(String)

    var description: String {
        switch self {
        case let .cannotOpen(path, reason): "cannot open the dump '\(path)': \(reason)"
        case let .cannotRead(path, reason): "cannot read the dump '\(path)': \(reason)"
        case let .cannotWrite(path, reason): "cannot write '\(path)': \(reason)"
        case let .sacct(error): "\(error)"
        case let .database(message): "--source db: \(message)"
        case let .badHeader(message): "unusable input: \(message)"
        case let .rowsDropped(n):
            "\(n) malformed row\(n == 1 ? " was" : "s were") dropped (listed above); the report covers the rest. "
                + "Pass --tolerate-bad-rows to exit 0 anyway."
        case let .noRecommendation(why): "no slack to suggest: \(why)"
        }
    }
}
