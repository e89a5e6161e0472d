#if canImport(Glibc)
import Glibc
#endif
import QubeMemSlurm

/// The step read of `audit --source db` on a connection and a thread of its own, while the job
/// read goes on (issue 16).
///
/// The two reads were one after the other: the server scanned the step table (two or more rows
/// a job, the larger table) only once the job table was done, and qubemem waited for it. Now the
/// job read hands over, every `AccountingDatabase.stepChunk` job records, the range of records it
/// has passed (`read(_:)`); this thread reads those records' steps (a primary-key range of the
/// step table) on a second connection, so the server scans both tables at once, and turns each
/// step into `StepFigures` (a prepared statement: the integers come as integers, and only TRES
/// lists are read from text), handed back in batches (`take`). The job read merges them into the
/// audit between its own rows, on its own thread: the audit's state is never shared.
///
/// The job statement returns records in primary-key order (`ORDER BY job_db_inx`), so a range
/// handed over holds only records the job read has already kept, held or dropped.
final class AccountingStepReader: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `lock`.
    private var selections: [AccountingRows.StepSelection] = []
    private var noMoreSelections = false
    private var cancelled = false
    private var batches: [[StepFigures]] = []
    private var finished = false
    private var failure: String?
    /// A requeued-ids statement to read before any step (`readRequeued`), and its rows, as the
    /// command-line client's text (`D\t<id>\t<submit>\n`), once read.
    private var requeuedSQL: String?
    private var requeuedText: [UInt8]?

    private var thread = pthread_t()
    private var started = false
    private let work: @Sendable (AccountingStepReader) -> Void

    /// Figures per batch handed back (about 400 KiB).
    static let batchSize = 8192

    /// Prepares the reader; `start()` opens its connection and thread.
    init(library: MariaDBLibrary, settings: SlurmdbdSettings, query: AccountingSQL, timeoutSeconds: Int, now: Int64) {
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
        work = { reader in reader.run(library: library, settings: settings, query: query, timeoutSeconds: timeoutSeconds, now: now) }
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        changed.deallocate()
        lock.deallocate()
    }

    /// Starts the thread.
    /// - Throws: `MariaDBSession.Failure` when no thread can be made.
    func start() throws(MariaDBSession.Failure) {
        let box = Unmanaged.passRetained(self)
        let status = pthread_create(&thread, nil, { argument in
            let reader = Unmanaged<AccountingStepReader>.fromOpaque(argument!).takeRetainedValue()
            reader.work(reader)
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw MariaDBSession.Failure(description: "cannot start the step read's thread: \(String(cString: strerror(status)))")
        }
        started = true
    }

    // MARK: - The job read's side

    /// Asks for the steps of these records.
    func read(_ selection: AccountingRows.StepSelection) {
        locked {
            selections.append(selection)
            pthread_cond_broadcast(changed)
        }
    }

    /// Says that no more selections will come.
    func noMore() {
        locked {
            noMoreSelections = true
            pthread_cond_broadcast(changed)
        }
    }

    /// Asks for the rows of a requeued-ids statement (`AccountingSQL.requeuedHalves`), read
    /// before any step; `takeRequeued` waits for them.
    func readRequeued(_ sql: String) {
        locked {
            requeuedSQL = sql
            pthread_cond_broadcast(changed)
        }
    }

    /// The rows of `readRequeued`'s statement as text lines for `AccountingRows.feed`, once read;
    /// nil with the reason when the read failed.
    func takeRequeued() -> (text: [UInt8]?, failure: String?) {
        locked {
            while requeuedText == nil && !finished { pthread_cond_wait(changed, lock) }
            return (requeuedText, requeuedText == nil ? failure ?? "the step read ended early" : nil)
        }
    }

    /// The batches read so far; with `wait`, blocks until there is one or the reader has ended.
    /// `done` is true once every selection was read (or the read failed: `failure`).
    func take(wait: Bool) -> (batches: [[StepFigures]], done: Bool, failure: String?) {
        locked {
            while wait && batches.isEmpty && !finished { pthread_cond_wait(changed, lock) }
            let taken = batches
            batches = []
            return (taken, finished, failure)
        }
    }

    /// Stops the reader (at its next 4,096 rows, or at its read timeout if the server sends
    /// nothing) and waits for its thread to end.
    func cancelAndJoin() {
        guard started else { return }
        locked {
            cancelled = true
            pthread_cond_broadcast(changed)
        }
        pthread_join(thread, nil)
        started = false
    }

    // MARK: - The thread

    private func run(library: MariaDBLibrary, settings: SlurmdbdSettings, query: AccountingSQL, timeoutSeconds: Int, now: Int64) {
        var batch: [StepFigures] = []
        batch.reserveCapacity(Self.batchSize)
        var failureText: String?
        do {
            let session = try MariaDBSession(library: library, settings: settings, timeoutSeconds: timeoutSeconds)
            while let task = nextTask() {
                guard case .steps(let selection) = task else {
                    if case .requeued(let sql) = task { try readRequeued(sql, session) }
                    continue
                }
                let sql: String?
                do { sql = try query.stepFiguresText(selection) } catch { throw MariaDBSession.Failure(description: error.description) }
                guard let sql else { continue }
                // A prepared statement: the step table's integers arrive as integers (BENCHMARKS.md).
                typealias Column = StepFigureColumn
                try session.boundRows(sql, columns: Column.kinds, stop: { self.locked { self.cancelled } }) { row in
                    batch.append(StepFigures(
                        record: row.integer(Column.record), stateNumber: row.integer(Column.state),
                        nodes: row.integer(Column.nodes), tasks: row.integer(Column.tasks),
                        tresMax: row.text(Column.tresMax), tresTotal: row.text(Column.tresTotal)))
                    if batch.count >= Self.batchSize {
                        hand(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            }
        } catch let error as MariaDBSession.Failure {
            failureText = error.description
        } catch {
            failureText = "\(error)"
        }
        let rest = batch
        locked {
            if !rest.isEmpty { batches.append(rest) }
            if !cancelled { failure = failureText }
            finished = true
            pthread_cond_broadcast(changed)
        }
    }

    private enum Task {
        case requeued(String)
        case steps(AccountingRows.StepSelection)
    }

    /// The next statement to read: a requeued-ids statement first, then the step selections.
    private func nextTask() -> Task? {
        locked {
            while requeuedSQL == nil && selections.isEmpty && !noMoreSelections && !cancelled {
                pthread_cond_wait(changed, lock)
            }
            if cancelled { return nil }
            if let sql = requeuedSQL {
                requeuedSQL = nil
                return .requeued(sql)
            }
            return selections.isEmpty ? nil : .steps(selections.removeFirst())
        }
    }

    /// Reads a requeued-ids statement's rows into `requeuedText`, each as the command-line
    /// client prints it, so that the job read converts them as its own (NULL as `NULL`).
    private func readRequeued(_ sql: String, _ session: MariaDBSession) throws(MariaDBSession.Failure) {
        var text: [UInt8] = []
        try session.rows(sql, stop: { self.locked { self.cancelled } }) { row, lengths, count in
            for i in 0..<count {
                if i > 0 { text.append(0x09) }
                if let field = row[i] {
                    text.append(contentsOf: UnsafeRawBufferPointer(start: field, count: Int(lengths[i])))
                } else {
                    text.append(contentsOf: [0x4E, 0x55, 0x4C, 0x4C])  // NULL
                }
            }
            text.append(0x0A)
        }
        let read = text
        locked {
            requeuedText = read
            pthread_cond_broadcast(changed)
        }
    }

    private func hand(_ batch: [StepFigures]) {
        locked {
            batches.append(batch)
            pthread_cond_broadcast(changed)
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }
}

/// The columns of `AccountingSQL.stepFiguresText`, in order.
enum StepFigureColumn {
    static let record = 0, state = 1, nodes = 2, tasks = 3, tresMax = 4, tresTotal = 5
    static let kinds: [MariaDBSession.BoundColumn] = [.integer, .integer, .integer, .integer, .text, .text]
}
