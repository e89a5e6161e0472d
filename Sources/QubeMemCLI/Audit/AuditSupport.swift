import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser
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
                    // Written beside and renamed: a reader (or a full disk) never sees half a file.
                    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
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

/// Reads the input, streaming it into the accumulator: memory grows with jobs, not rows.
enum AuditInput {
    static func read(
        input: String?, query: SacctQuery, program: String, timeoutSeconds: Int, outputLimit: Int,
        database: AuditDatabase? = nil, keeping: SacctAccumulator.Keeping = .jobs, ctx: AuditContext
    ) throws -> SacctAccumulator {
        var acc = SacctAccumulator(keeping: keeping)
        if let database {
            let users = UserDirectory()
            do {
                try AccountingDatabase.read(
                    settings: database.settings, sql: database.sql, client: database.client, runner: ctx.sacct,
                    timeoutSeconds: timeoutSeconds, outputLimit: outputLimit, now: database.now,
                    userName: users.name, onRows: { acc.feed($0) })
            } catch {
                throw AuditError.database(error.description)
            }
        } else if let input {
            let fd: Int32
            if input == "-" {
                fd = 0
            } else {
                fd = open(input, O_RDONLY)
                if fd < 0 { throw AuditError.cannotOpen(path: input, reason: String(cString: strerror(errno))) }
            }
            defer { if fd != 0 { close(fd) } }
            // A capacity hint: a job with its step rows takes 256 bytes or more of sacct -P output
            // (reserved but untouched room costs address space, not memory; the job table grown
            // by doubling instead would hold its old and new storage at once while copying).
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

    init(accumulator a: SacctAccumulator, input: String?, database: AuditDatabase? = nil) {
        origin = database.map { "database \($0.settings.host):\($0.settings.port)/\($0.settings.database)" }
            ?? input.map { $0 == "-" ? "stdin" : $0 } ?? "sacct"
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

/// `--source db`: where the accounting database is and the query to send it.
struct AuditDatabase {
    var settings: SlurmdbdSettings
    var sql: String
    var client: String
    /// Unix seconds when the audit started.
    var now: Int64

    /// Reads slurmdbd.conf (and slurm.conf for the cluster) and builds the window's query.
    /// - Throws: `ValidationError` quoting a bad option value; `AuditError.database` when a
    ///   configuration file cannot be read.
    static func make(query: SacctQuery, slurmdbdConf: String?, client: String) throws -> AuditDatabase {
        let now = Int64(time(nil))
        let slurmConf = ProcessInfo.processInfo.environment["SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/etc/slurm/slurm.conf"
        let folder = slurmConf.lastIndex(of: "/").map { String(slurmConf[..<$0]) } ?? "."
        let dbdPath = slurmdbdConf ?? folder + "/slurmdbd.conf"
        let dbdText = try readText(dbdPath, purpose: "it holds the database's address and credentials; "
            + "run as root or SlurmUser, or give --slurmdbd-conf")
        let settings: SlurmdbdSettings
        switch SlurmdbdSettings.parse(slurmdbdConf: dbdText) {
        case .success(let s): settings = s
        case .failure(let error): throw AuditError.database("\(dbdPath): \(error)")
        }
        let cluster: String
        if let given = query.cluster {
            cluster = given
        } else {
            let text = try readText(slurmConf, purpose: "its ClusterName names the tables to read; or give --cluster")
            guard let name = SlurmdbdSettings.clusterName(slurmConf: text) else {
                throw AuditError.database("\(slurmConf) has no ClusterName; give --cluster")
            }
            cluster = name
        }
        guard let start = SacctTime.parse(query.start, now: now) else {
            throw ValidationError("--source db reads --start '\(query.start)' in one of: \(SacctTime.validForms).")
        }
        let end = try query.end.map { text -> Int64 in
            guard let t = SacctTime.parse(text, now: now) else {
                throw ValidationError("--source db reads --end '\(text)' in one of: \(SacctTime.validForms).")
            }
            return t
        } ?? now
        var sql = AccountingSQL(cluster: cluster, start: start, end: end)
        for user in query.users {
            guard let uid = UserDirectory.uid(user) else {
                throw ValidationError("--user '\(user)' is not a user name or uid known to this system.")
            }
            sql.uids.append(uid)
        }
        sql.accounts = query.accounts
        sql.partitions = query.partitions
        for name in query.states {
            guard let state = JobState.parse(Array(name.uppercased().utf8)) ?? JobState.abbreviation(name) else {
                throw ValidationError("--state '\(name)' is not a SLURM job state (such as COMPLETED, CD, OUT_OF_MEMORY, OOM).")
            }
            sql.states.append(state)
        }
        sql.jobs = query.jobs
        do {
            return AuditDatabase(settings: settings, sql: try sql.text(), client: client, now: now)
        } catch {
            throw ValidationError("--source db: \(error.description).")
        }
    }

    private static func readText(_ path: String, purpose: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuditError.database("cannot read \(path): \(error.localizedDescription) (\(purpose))")
        }
    }
}
