#if canImport(Glibc)
import Glibc
#endif
public import QubeMemSlurm

/// Reads finished jobs straight from slurmdbd's database (`qubemem audit --source db`): sends
/// `AccountingSQL`'s statements in two reads (the job records, then the steps of those kept), and
/// turns their rows into sacct rows (`AccountingRows`).
///
/// Through the client library, libmariadb (`MariaDBSession`), when it is installed; else, or when
/// a program is named, through that MariaDB/MySQL command-line client. The password from
/// slurmdbd.conf goes to the library in memory, and to a command-line client in a private option
/// file (mode 0600, removed afterwards), never on its command line, where any user could read it.
public enum AccountingDatabase {
    /// What went wrong; every message names the file, value or program involved.
    public enum Failure: Error, CustomStringConvertible {
        case settings(String)
        case client(SacctError)
        case library(String)
        case unreadableRows(count: Int, first: String, reason: String)

        public var description: String {
            switch self {
            case .settings(let message): return message
            case .client(let error): return error.description
            case .library(let message): return message
            case .unreadableRows(let count, let first, let reason):
                return "the database client printed \(count) row(s) that are not the query's columns; the first (\(reason)): '\(first)'"
            }
        }
    }

    /// The command-line client used when no program is named and the library cannot be loaded.
    public static let defaultClient = "mariadb"

    /// Job records handed to the step read at a time (`AccountingStepReader`).
    static let stepChunk = 65_536

    /// Runs the statements and passes the sacct rows they make to `onRows`: every job row, then
    /// the step rows.
    /// - Parameters:
    ///   - client: a command-line client program (`mariadb` or `mysql`) to read through; nil for
    ///     the client library, or `defaultClient` when the library is not installed.
    ///   - timeoutSeconds: the limit for each of the two reads.
    ///   - outputLimit: the limit on each command-line client run's output, bytes.
    ///   - now: Unix seconds, for the elapsed time of running jobs.
    ///   - onEstimate: called before the first row with the job table's estimated rows (jobs).
    ///   - onStep: through the client library, the steps are read on a second connection while
    ///     the jobs are, and each step of a job written to `onRows` is handed here as figures
    ///     (after its job's row) instead of as a sacct row. Nil: step rows go to `onRows`.
    public static func read(
        settings: SlurmdbdSettings, query: AccountingSQL, client: String?, runner: any SacctRunning,
        timeoutSeconds: Int, outputLimit: Int, now: Int64, userName: @escaping AccountingRows.UserName,
        onEstimate: ((Int) -> Void)? = nil, onRows: (UnsafeRawBufferPointer) -> Void,
        onStep: ((JobKey, StepFigures) -> Void)? = nil
    ) throws(Failure) {
        let jobStatements: [String]
        do { jobStatements = try query.jobStatements() } catch { throw .settings(error.description) }
        if client == nil, case .success(let library) = MariaDBLibrary.load() {
            do {
                try readThroughLibrary(
                    library, settings: settings, query: query, statements: jobStatements, timeoutSeconds: timeoutSeconds,
                    now: now, userName: userName, onEstimate: onEstimate, onRows: onRows, onStep: onStep)
            } catch let error as MariaDBSession.Failure {
                throw .library(error.description)
            } catch let error as Failure {
                throw error
            } catch {
                throw .library("\(error)")
            }
            return
        }
        let optionFile = try writeOptionFile(settings)
        defer { if let optionFile { unlink(optionFile) } }
        var arguments: [String] = []
        if let optionFile { arguments.append("--defaults-extra-file=" + optionFile) }  // must come first
        // --quick: rows are streamed as the server produces them (mysql_use_result), not gathered
        // first in the client's memory; --batch: tab-separated, with \t \n \\ and NUL escaped.
        arguments += ["--batch", "--quick", "--skip-column-names", "--host=" + settings.host, "--port=\(settings.port)"]
        if let user = settings.user { arguments.append("--user=" + user) }
        arguments.append("--database=" + settings.database)
        var rows = AccountingRows(now: now, userName: userName)
        rows.onEstimate = onEstimate
        let program = client ?? defaultClient
        func run(_ sql: String) throws(Failure) {
            do {
                try runner.run(program: program, arguments: arguments + ["--execute=" + sql], timeoutSeconds: timeoutSeconds,
                               outputLimit: outputLimit, onOutput: { rows.feed($0, emit: onRows) })
            } catch {
                throw .client(error)
            }
        }
        try run(jobStatements.joined(separator: "; "))
        rows.finishJobs(emit: onRows)
        if let stepsSQL = try steps(query, rows.stepSelection) {
            try run(stepsSQL)
            rows.finish(emit: onRows)
        }
        try checkReadable(rows)
    }

    /// The library path: the job statements on one connection; the steps either on a second
    /// connection and thread, as the job read goes (`onStep` given), or after the jobs on the same.
    private static func readThroughLibrary(
        _ library: MariaDBLibrary, settings: SlurmdbdSettings, query: AccountingSQL, statements: [String],
        timeoutSeconds: Int, now: Int64, userName: @escaping AccountingRows.UserName, onEstimate: ((Int) -> Void)?,
        onRows: (UnsafeRawBufferPointer) -> Void, onStep: ((JobKey, StepFigures) -> Void)?
    ) throws {
        var rows = AccountingRows(now: now, userName: userName, escaped: false)
        rows.onEstimate = onEstimate
        let session = try MariaDBSession(library: library, settings: settings, timeoutSeconds: timeoutSeconds)
        guard let onStep else {
            for statement in statements {
                try session.rows(statement) { rows.feed(row: $0, lengths: $1, count: $2, emit: onRows) }
            }
            rows.finishJobs(emit: onRows)
            if let stepsSQL = try steps(query, rows.stepSelection) {
                try session.rows(stepsSQL) { rows.feed(row: $0, lengths: $1, count: $2, emit: onRows) }
                rows.finish(emit: onRows)
            }
            try checkReadable(rows)
            return
        }
        let reader = AccountingStepReader(library: library, settings: settings, query: query, timeoutSeconds: timeoutSeconds, now: now)
        try reader.start()
        defer { reader.cancelAndJoin() }
        // Steps of held records (older records of requeued jobs) wait for `finishJobs`.
        var waiting: [StepFigures] = []
        var failure: String?
        func merge(_ batches: [[StepFigures]]) {
            for batch in batches {
                for figures in batch {
                    if let key = rows.jobKey(record: figures.record) {
                        onStep(key, figures)
                    } else if rows.isHeld(record: figures.record) {
                        waiting.append(figures)
                    }
                }
            }
        }
        // The records passed since the last hand-over: their steps are read next.
        var handedSeen = 0
        var handedHigh: UInt64?
        func handOver() {
            guard rows.recordsSeen > handedSeen else { return }
            reader.read(.range(handedHigh.map { $0 + 1 } ?? rows.firstRecordSeen, rows.lastRecordSeen))
            handedSeen = rows.recordsSeen
            handedHigh = rows.lastRecordSeen
        }
        for statement in statements {
            try session.rows(statement) { row, lengths, count in
                rows.feed(row: row, lengths: lengths, count: count, emit: onRows)
                if rows.recordsSeen - handedSeen >= stepChunk {
                    handOver()
                    rows.flush(onRows)  // the jobs' rows reach the audit before their steps
                    let taken = reader.take(wait: false)
                    if failure == nil { failure = taken.failure }
                    merge(taken.batches)
                }
            }
            if let failure { throw MariaDBSession.Failure(description: failure) }
        }
        rows.finishJobs(emit: onRows)
        if handedHigh == nil, case .records = rows.stepSelection {
            reader.read(rows.stepSelection)  // a few jobs: their records' steps, looked up one by one
            handedSeen = rows.recordsSeen
        } else {
            handOver()
        }
        reader.noMore()
        while true {
            let taken = reader.take(wait: true)
            merge(taken.batches)
            if let failure = taken.failure ?? failure { throw MariaDBSession.Failure(description: failure) }
            if taken.done { break }
        }
        let held = waiting
        waiting = []
        for figures in held {
            if let key = rows.jobKey(record: figures.record) { onStep(key, figures) }
        }
        let stepRows = reader.unreadableRows
        if stepRows.count > 0 || rows.unreadable > 0 {
            let first = rows.firstUnreadable.map { ($0, rows.firstUnreadableReason ?? "") } ?? stepRows.first ?? ("", "")
            throw Failure.unreadableRows(count: rows.unreadable + stepRows.count, first: first.0, reason: first.1)
        }
    }

    /// The step statement for the records kept, or nil when none was.
    private static func steps(_ query: AccountingSQL, _ selection: AccountingRows.StepSelection) throws(Failure) -> String? {
        do { return try query.stepsText(selection) } catch { throw .settings(error.description) }
    }

    private static func checkReadable(_ rows: AccountingRows) throws(Failure) {
        if rows.unreadable > 0 {
            throw .unreadableRows(count: rows.unreadable, first: rows.firstUnreadable ?? "", reason: rows.firstUnreadableReason ?? "")
        }
    }

    /// Writes `[client] password=...` to a new private file; nil when there is no password.
    static func writeOptionFile(_ settings: SlurmdbdSettings) throws(Failure) -> String? {
        guard let password = settings.password else { return nil }
        guard !password.contains("\n"), !(password.contains("\"") && password.contains("'")) else {
            throw .settings("StoragePass holds a newline, or both kinds of quote: it cannot be handed to the database client")
        }
        let quote = password.contains("\"") ? "'" : "\""
        var escaped = ""
        for c in password { escaped += c == "\\" ? "\\\\" : String(c) }
        let text = "[client]\npassword=\(quote)\(escaped)\(quote)\n"
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/qubemem-db-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .settings("cannot create a private option file in \(directory): \(String(cString: strerror(errno)))")
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        fchmod(fd, 0o600)
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        guard written == text.utf8.count else {
            unlink(path)
            throw .settings("cannot write the private option file \(path)")
        }
        return path
    }
}

/// sacct's time syntax, the forms an audit window uses, as Unix seconds (local time).
public enum SacctTime {
    /// `now`, `now-7days` (`seconds`, `minutes`, `hours`, `days`, `weeks`, singular too), `+` as
    /// well as `-`, `2026-11-21`, `2026-11-21T08:00` and `2026-11-21T08:00:30`; nil for the rest.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        if text == "now" { return now }
        if text.hasPrefix("now") {
            let rest = text.dropFirst(3)
            guard let sign = rest.first, sign == "-" || sign == "+" else { return nil }
            let body = rest.dropFirst()
            let digits = body.prefix { $0.isASCII && $0.isNumber }
            guard let count = Int64(digits), count < 100_000_000 else { return nil }
            let unit: Int64
            switch body.dropFirst(digits.count) {
            case "", "s", "sec", "second", "seconds": unit = 1
            case "min", "minute", "minutes": unit = 60
            case "h", "hour", "hours": unit = 3600
            case "d", "day", "days": unit = 86_400
            case "w", "week", "weeks": unit = 604_800
            default: return nil
            }
            return sign == "-" ? now - count * unit : now + count * unit
        }
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, let y = Int32(date[0]), let mo = Int32(date[1]), let d = Int32(date[2]),
              date[0].count == 4, (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var h: Int32 = 0, mi: Int32 = 0, s: Int32 = 0
        if parts.count == 2 {
            let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard clock.count == 2 || clock.count == 3, let hh = Int32(clock[0]), let mm = Int32(clock[1]),
                  (0...23).contains(hh), (0...59).contains(mm) else { return nil }
            h = hh
            mi = mm
            if clock.count == 3 {
                guard let ss = Int32(clock[2]), (0...59).contains(ss) else { return nil }
                s = ss
            }
        }
        var t = tm()
        t.tm_year = y - 1900
        t.tm_mon = mo - 1
        t.tm_mday = d
        t.tm_hour = h
        t.tm_min = mi
        t.tm_sec = s
        t.tm_isdst = -1
        let seconds = mktime(&t)
        return seconds == -1 ? nil : Int64(seconds)
    }

    /// What `parse` accepts, for messages.
    public static let validForms = "now, now-7days (seconds, minutes, hours, days, weeks), 2026-11-21, 2026-11-21T08:00[:30]"
}

/// User names and ids from the system's user database (getpwnam_r / getpwuid_r), cached.
public final class UserDirectory: @unchecked Sendable {
    private var names: [UInt32: String] = [:]

    public init() {}

    /// The name of `uid`, or nothing when the system does not know it (a deleted user: sacct prints
    /// an empty User for a job whose association is gone too).
    public func name(_ uid: UInt32) -> String {
        if let known = names[uid] { return known }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let found = getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0 && result != nil
        let name = found ? String(cString: entry.pw_name) : ""
        names[uid] = name
        return name
    }

    /// The uid of a user name (or of a number given as text), or nil.
    public static func uid(_ name: String) -> UInt32? {
        if let number = UInt32(name) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }
}
