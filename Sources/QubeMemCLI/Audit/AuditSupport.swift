import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemSystem
#if canImport(Glibc)
import Glibc
#endif

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
            out: base.out, err: base.err, colour: isatty(1) == 1 && !noColour, sacct: ProcessSacctRunner(),
            writeFile: { path, text in
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                } catch {
                    throw AuditError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
                }
            })
    }
}

/// Errors of `audit` other than bad options (those are ValidationErrors, exit 64). All exit 1.
enum AuditError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case sacct(SacctError)
    case badHeader(String)
    case rowsDropped(Int)
    case noRecommendation(String)

    var description: String {
        switch self {
        case let .cannotOpen(path, reason): "cannot open the dump '\(path)': \(reason)"
        case let .cannotRead(path, reason): "cannot read the dump '\(path)': \(reason)"
        case let .cannotWrite(path, reason): "cannot write '\(path)': \(reason)"
        case let .sacct(error): "\(error)"
        case let .badHeader(message): "unusable input: \(message)"
        case let .rowsDropped(n):
            "\(n) malformed row\(n == 1 ? " was" : "s were") dropped (listed above); the report covers the rest. "
                + "Pass --tolerate-bad-rows to exit 0 anyway."
        case let .noRecommendation(why): "no slack to suggest: \(why)"
        }
    }
}

/// Reads the input, streaming it into the accumulator: memory grows with jobs, not rows.
enum AuditInput {
    static func read(
        input: String?, query: SacctQuery, program: String, timeoutSeconds: Int, outputLimit: Int,
        ctx: AuditContext
    ) throws -> SacctAccumulator {
        var acc = SacctAccumulator()
        if let input {
            let fd: Int32
            if input == "-" {
                fd = 0
            } else {
                fd = open(input, O_RDONLY)
                if fd < 0 { throw AuditError.cannotOpen(path: input, reason: String(cString: strerror(errno))) }
            }
            defer { if fd != 0 { close(fd) } }
            // A capacity hint: a job with its step rows takes 256 bytes or more of sacct -P output
            // (reserved but untouched room costs address space, not memory).
            var info = stat()
            if fstat(fd, &info) == 0, info.st_size > 0 { acc.reserve(jobs: Int(info.st_size / 256)) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditError.cannotRead(path: input, reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                buffer.withUnsafeBytes { acc.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        } else {
            do {
                try ctx.sacct.run(
                    program: program, arguments: query.arguments, timeoutSeconds: timeoutSeconds,
                    outputLimit: outputLimit, onOutput: { acc.feed($0) })
            } catch {
                throw AuditError.sacct(error)
            }
        }
        acc.finish()
        return acc
    }
}

/// What was read, for the report's header lines.
struct AuditSourceSummary {
    var origin: String
    var rows: Int
    var malformed: Int
    var malformedRows: [MalformedRow]
    var liveJobs: Int
    var pendingArrayRows: Int
    var orphanJobs: Int

    init(accumulator a: SacctAccumulator, input: String?) {
        origin = input.map { $0 == "-" ? "stdin" : $0 } ?? "sacct"
        rows = a.rows
        malformed = a.malformedCount
        malformedRows = a.malformed
        liveJobs = a.liveJobs
        pendingArrayRows = a.pendingArrayRows
        orphanJobs = a.orphanJobs
    }
}

/// Prices a job comment with the current model, for jobs the plugin left no record on.
enum AuditRecompute {
    static func closure(policy: RequestPolicy) -> Recompute {
        { comment in
            switch QubeComment.parse(comment) {
            case nil:
                return nil
            case let .failure(error)?:
                return .failure(RecomputeError("\(error)"))
            case let .success(spec)?:
                switch Predictor.predict(spec, policy: policy) {
                case let .success(p):
                    return .success(RecomputedPrediction(model: p.model.rawValue, path: p.path.rawValue,
                                                         totalBytes: p.totalBytes))
                case let .failure(error):
                    return .failure(RecomputeError("\(error)"))
                }
            }
        }
    }
}
