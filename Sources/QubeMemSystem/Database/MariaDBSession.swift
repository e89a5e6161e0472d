#if canImport(Glibc)
import Glibc
#endif
import CMariaDB
import QubeMemSlurm

/// One connection to slurmdbd's database through libmariadb (`MariaDBLibrary`), streaming each
/// statement's rows to a closure as the server sends them (`mysql_use_result`: no result is
/// gathered in memory first).
///
/// `timeoutSeconds` bounds the whole session, as it bounded each command-line client run: it is
/// checked between rows, and is the timeout of every network read, so that a server that stops
/// sending ends the read too. (`--max-output` limits text a program prints; rows read here are
/// never held, so their volume needs no limit of its own.)
final class MariaDBSession {
    let library: MariaDBLibrary
    let handle: MariaDBLibrary.Handle
    let deadline: Int64
    private let timeoutSeconds: Int
    /// Where the database is, for messages: `host:port/database`.
    let address: String

    /// What went wrong, with the library's own error text and number.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connects with slurmdbd.conf's address and credentials (the password goes to the library
    /// in memory: no file and no command line holds it).
    init(library: MariaDBLibrary, settings: SlurmdbdSettings, timeoutSeconds: Int) throws(Failure) {
        self.library = library
        self.timeoutSeconds = timeoutSeconds
        deadline = ProcessSacctRunner.nowMillis() + Int64(timeoutSeconds) * 1000
        address = "\(settings.host):\(settings.port)/\(settings.database)"
        guard let handle = library.initialize(nil) else {
            throw Failure(description: "\(MariaDBLibrary.fileName) could not allocate a connection (out of memory)")
        }
        self.handle = handle
        var seconds = UInt32(clamping: timeoutSeconds)
        _ = library.options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &seconds)
        _ = library.options(handle, MYSQL_OPT_READ_TIMEOUT, &seconds)
        _ = library.options(handle, MYSQL_OPT_WRITE_TIMEOUT, &seconds)
        // The [client] group of the option files, as the command-line client and slurmdbd read it.
        _ = library.options(handle, MYSQL_READ_DEFAULT_GROUP, "client")
        _ = library.options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        let connected = library.connect(handle, settings.host, settings.user, settings.password, settings.database,
                                        UInt32(clamping: settings.port), nil, 0)
        guard connected != nil else {
            // Not closed here: every stored property is set, so deinit runs and closes it.
            throw Failure(description: "cannot connect to the accounting database at \(address): " + errorText())
        }
    }

    deinit {
        library.close(handle)
    }

    /// Runs one statement and passes each row to `onRow`: its fields (a nil field is SQL NULL),
    /// their lengths in bytes, and their count. The pointers are valid during the call only.
    /// `stop`, asked every 4,096 rows, ends the read early (with an error) when it says true.
    func rows(
        _ sql: String, stop: (() -> Bool)? = nil,
        onRow: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, UnsafeMutablePointer<UInt>, Int) -> Void
    ) throws(Failure) {
        let sent = sql.utf8CString.withUnsafeBufferPointer { library.query(handle, $0.baseAddress, UInt($0.count - 1)) }
        guard sent == 0 else { throw failure("the statement was refused") }
        guard let result = library.useResult(handle) else {
            if library.errorNumber(handle) != 0 { throw failure("the statement failed") }
            return  // a statement without rows
        }
        defer { library.freeResult(result) }
        let count = Int(library.fieldCount(result))
        var rowNumber = 0
        while let row = library.fetchRow(result) {
            guard let lengths = library.fetchLengths(result) else { continue }
            onRow(row, lengths, count)
            rowNumber &+= 1
            if rowNumber & 0xFFF == 0 {
                if ProcessSacctRunner.nowMillis() > deadline { throw timedOut() }
                if let stop, stop() { throw Failure(description: "the read was stopped") }
            }
        }
        // The end of the rows, or a read that failed (connection lost, read timeout, killed).
        if library.errorNumber(handle) != 0 {
            if ProcessSacctRunner.nowMillis() > deadline { throw timedOut() }
            throw failure("reading its rows failed")
        }
    }

    func timedOut() -> Failure {
        Failure(description: "the accounting database at \(address) did not send every row within \(timeoutSeconds) s, "
            + "and the read was stopped (raise --timeout, or narrow --start/--end)")
    }

    func failure(_ what: String) -> Failure {
        Failure(description: "the accounting database at \(address): \(what): " + errorText())
    }

    /// The library's message with its number, as the command-line client prints it: `ERROR 2013: text`.
    private func errorText() -> String {
        let text = library.errorText(handle).map { String(cString: $0) } ?? "no message"
        return "ERROR \(library.errorNumber(handle)): \(text)"
    }
}
