#if canImport(Glibc)
import Glibc
#endif
public import QubeMemSlurm

/// Reads finished jobs straight from slurmdbd's database (`qubemem audit --source db`): sends
/// `AccountingSQL`'s statements in two reads, the job records and the steps of those kept, and
/// turns their rows into sacct rows (`AccountingRows`), or the steps into figures (`StepFigures`).
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
    ///     (after its job's row). Through a command-line client, step rows go to `onRows`.
    ///   - onJob: through the client library, when given, the job records go here as figures
    ///     (`AccountingRows.onJob`) instead of to `onRows` as sacct rows, all but the few whose
    ///     figures cannot stand for their row. Through a command-line client it is not called.
    public static func read(
        settings: SlurmdbdSettings, query: AccountingSQL, client: String?, runner: any SacctRunning,
        timeoutSeconds: Int, outputLimit: Int, now: Int64, userName: @escaping AccountingRows.UserName,
        onEstimate: ((Int) -> Void)? = nil, onRows: (UnsafeRawBufferPointer) -> Void,
        onStep: (JobKey, StepFigures) -> Void, onJob: ((JobRecordFigures) -> Void)? = nil
    ) throws(Failure) {
        func statements(boundRecords: Bool) throws(Failure) -> [String] {
            do { return try query.jobStatements(boundRecords: boundRecords) } catch { throw .settings(error.description) }
        }
        var libraryMissing: MariaDBLibrary.LoadError?
        if client == nil {
            switch MariaDBLibrary.load() {
            case .success(let library): return try readThroughLibrary(
                library, settings: settings, query: query, statements: try statements(boundRecords: true),
                timeoutSeconds: timeoutSeconds,
                now: now, userName: userName, onEstimate: onEstimate, onRows: onRows, onStep: onStep, onJob: onJob)
            case .failure(let error): libraryMissing = error
            }
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
                if let libraryMissing, case .notFound(let program, let number) = error {
                    throw .library("\(libraryMissing), and cannot run '\(program)' (\(SacctError.errnoText(number))): install "
                        + "MariaDB's client library (Debian: libmariadb3; RPM: mariadb-connector-c), or give --db-client")
                }
                throw .client(error)
            }
        }
        try run(try statements(boundRecords: false).joined(separator: "; "))
        rows.finishJobs(emit: onRows)
        if let stepsSQL = try steps(query, rows.stepSelection) {
            try run(stepsSQL)
            rows.finish(emit: onRows)
        }
        try checkReadable(rows)
    }

    /// The step statement for the records kept, or nil when none was.
    static func steps(_ query: AccountingSQL, _ selection: AccountingRows.StepSelection) throws(Failure) -> String? {
        do { return try query.stepsText(selection) } catch { throw .settings(error.description) }
    }

    static func checkReadable(_ rows: AccountingRows) throws(Failure) {
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
