#if canImport(Glibc)
import Glibc
#endif
import CMariaDB

extension MariaDBSession {
    /// How a column of `boundRows` is read.
    enum BoundColumn: Equatable {
        /// An unsigned integer column (up to 64 bits).
        case integer
        /// Text of any length.
        case text
    }

    /// Runs one statement as a prepared statement and passes each row to `onRow`, its columns
    /// read as `columns` says (their number must match the statement's).
    ///
    /// The binary protocol: the server sends integers as integers instead of printing them, and
    /// qubemem does not read them back from digits. At 10 M jobs it cost the server about a
    /// sixth less on the step statement (BENCHMARKS.md, issue 16). Rows are streamed as in
    /// `rows`: none is gathered in memory, and `stop` and the deadline are checked every 4,096.
    func boundRows(
        _ sql: String, columns: [BoundColumn], stop: (() -> Bool)? = nil, onRow: (BoundRow) -> Void
    ) throws(Failure) {
        // The buffers outlive the statement: it is closed (its unread rows drained) before they go.
        let buffers = BoundBuffers(count: columns.count)
        defer { buffers.release() }
        guard let statement = library.statementInit(handle) else {
            throw Failure(description: "\(MariaDBLibrary.fileName) could not allocate a statement (out of memory)")
        }
        defer { _ = library.statementClose(statement) }
        func statementFailure(_ what: String) -> Failure {
            let text = library.statementErrorText(statement).map { String(cString: $0) } ?? "no message"
            return Failure(description: "the accounting database at \(address): \(what): "
                + "ERROR \(library.statementErrorNumber(statement)): \(text)")
        }
        let prepared = sql.utf8CString.withUnsafeBufferPointer {
            library.statementPrepare(statement, $0.baseAddress, UInt($0.count - 1))
        }
        guard prepared == 0 else { throw statementFailure("the statement was refused") }
        guard library.statementExecute(statement) == 0 else { throw statementFailure("the statement failed") }
        let count = columns.count
        let returned = Int(library.statementFieldCount(statement))
        guard returned == count else {
            throw Failure(description: "the accounting database at \(address) returned \(returned) columns where "
                + "\(count) were asked for")
        }
        var capacities = [Int](repeating: 0, count: count)
        for column in 0..<count {
            let bind = buffers.binds + column
            bind.pointee.length = buffers.lengths + column
            bind.pointee.is_null = buffers.nulls + column
            bind.pointee.error = buffers.errors + column
            switch columns[column] {
            case .integer:
                bind.pointee.buffer_type = MYSQL_TYPE_LONGLONG
                bind.pointee.buffer = UnsafeMutableRawPointer(buffers.integers + column)
                bind.pointee.buffer_length = 8
                bind.pointee.is_unsigned = 1
            case .text:
                guard let storage = malloc(BoundBuffers.firstTextCapacity) else {
                    throw Failure(description: "out of memory for a row's text")
                }
                buffers.texts[column] = storage
                capacities[column] = BoundBuffers.firstTextCapacity
                bind.pointee.buffer_type = MYSQL_TYPE_STRING
                bind.pointee.buffer = storage
                bind.pointee.buffer_length = UInt(BoundBuffers.firstTextCapacity)
            }
        }
        guard library.statementBindResult(statement, buffers.binds) == 0 else {
            throw statementFailure("its columns could not be bound")
        }
        let row = BoundRow(integers: buffers.integers, lengths: buffers.lengths, nulls: buffers.nulls, texts: buffers.texts)
        var rowNumber = 0
        while true {
            let status = library.statementFetch(statement)
            if status == MYSQL_NO_DATA { break }
            if status == MYSQL_DATA_TRUNCATED {
                // A text longer than its buffer: the buffer grows to it and the column is read again.
                for column in 0..<count where buffers.errors[column] != 0 {
                    guard columns[column] == .text else {
                        throw Failure(description: "the accounting database at \(address) sent a value that is not an "
                            + "unsigned 64-bit number in column \(column + 1) of: \(sql.prefix(120))")
                    }
                    let size = Int(buffers.lengths[column])
                    guard size > capacities[column], let grown = realloc(buffers.texts[column], size) else {
                        throw Failure(description: "out of memory for a text of \(size) bytes")
                    }
                    buffers.texts[column] = grown
                    capacities[column] = size
                    buffers.binds[column].buffer = grown
                    buffers.binds[column].buffer_length = UInt(size)
                    guard library.statementFetchColumn(statement, buffers.binds + column, UInt32(column), 0) == 0 else {
                        throw statementFailure("a long text could not be read")
                    }
                }
                guard library.statementBindResult(statement, buffers.binds) == 0 else {
                    throw statementFailure("its columns could not be bound again")
                }
            } else if status != 0 {
                // A read that failed (connection lost, read timeout, killed).
                if ProcessSacctRunner.nowMillis() > deadline { throw timedOut() }
                throw statementFailure("reading its rows failed")
            }
            onRow(row)
            rowNumber &+= 1
            if rowNumber & 0xFFF == 0 {
                if ProcessSacctRunner.nowMillis() > deadline { throw timedOut() }
                if let stop, stop() { throw Failure(description: "the read was stopped") }
            }
        }
    }
}

/// The memory the library writes a bound row into: one of each per column.
private struct BoundBuffers {
    /// Bytes first given to a text column; a longer text grows its buffer.
    static let firstTextCapacity = 512

    let binds: UnsafeMutablePointer<MYSQL_BIND>
    let integers: UnsafeMutablePointer<UInt64>
    let lengths: UnsafeMutablePointer<UInt>
    let nulls: UnsafeMutablePointer<CChar>
    let errors: UnsafeMutablePointer<CChar>
    let texts: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let count: Int

    init(count: Int) {
        self.count = count
        binds = .allocate(capacity: count)
        binds.initialize(repeating: MYSQL_BIND(), count: count)
        integers = .allocate(capacity: count)
        integers.initialize(repeating: 0, count: count)
        lengths = .allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        nulls = .allocate(capacity: count)
        nulls.initialize(repeating: 0, count: count)
        errors = .allocate(capacity: count)
        errors.initialize(repeating: 0, count: count)
        texts = .allocate(capacity: count)
        texts.initialize(repeating: nil, count: count)
    }

    func release() {
        for column in 0..<count { free(texts[column]) }
        binds.deallocate()
        integers.deallocate()
        lengths.deallocate()
        nulls.deallocate()
        errors.deallocate()
        texts.deallocate()
    }
}
