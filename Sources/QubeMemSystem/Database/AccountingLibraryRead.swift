import QubeMem
import QubeMemSlurm

/// `--source db` through the client library (`AccountingDatabase.read` without a command-line client).
extension AccountingDatabase {
    /// The library path: the job statements on one connection, the steps on a second connection
    /// and thread as the job read goes (`AccountingStepReader`), handed to `onStep` as figures.
    static func readThroughLibrary(
        _ library: MariaDBLibrary, settings: SlurmdbdSettings, query: AccountingSQL, statements: [String],
        timeoutSeconds: Int, now: Int64, userName: @escaping AccountingRows.UserName, onEstimate: ((Int) -> Void)?,
        onRows: (UnsafeRawBufferPointer) -> Void, onStep: (JobKey, StepFigures) -> Void, onJob: ((JobRecordFigures) -> Void)?
    ) throws(Failure) {
        do {
            try readThroughSessions(
                library, settings: settings, query: query, statements: statements, timeoutSeconds: timeoutSeconds,
                now: now, userName: userName, onEstimate: onEstimate, onRows: onRows, onStep: onStep, onJob: onJob)
        } catch let error as MariaDBSession.Failure {
            throw .library(error.description)
        } catch let error as Failure {
            throw error
        } catch {
            throw .library("\(error)")
        }
    }

    private static func readThroughSessions(
        _ library: MariaDBLibrary, settings: SlurmdbdSettings, query: AccountingSQL, statements: [String],
        timeoutSeconds: Int, now: Int64, userName: @escaping AccountingRows.UserName, onEstimate: ((Int) -> Void)?,
        onRows: (UnsafeRawBufferPointer) -> Void, onStep: (JobKey, StepFigures) -> Void, onJob: ((JobRecordFigures) -> Void)?
    ) throws {
        var rows = AccountingRows(now: now, userName: userName, escaped: false)
        rows.onEstimate = onEstimate
        rows.onJob = onJob
        let session = try MariaDBSession(library: library, settings: settings, timeoutSeconds: timeoutSeconds)
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
        func afterRow() {
            if rows.recordsSeen - handedSeen >= stepChunk {
                handOver()
                rows.flush(onRows)  // the jobs' rows reach the audit before their steps
                let taken = reader.take(wait: false)
                if failure == nil { failure = taken.failure }
                merge(taken.batches)
            }
        }
        // The job records, the last statement, through a prepared statement (their integers as
        // integers); the others, small, as text.
        for (index, statement) in statements.enumerated() {
            if index == statements.count - 1 {
                try session.boundRows(statement, columns: AccountingRows.Job.kinds) { row in
                    rows.feed(bound: row, emit: onRows)
                    afterRow()
                }
            } else if AccountingSQL.isRequeued(statement) {
                try readRequeued(statement, session: session, reader: reader, query: query, rows: &rows, emit: onRows)
            } else {
                try session.rows(statement) { row, lengths, count in
                    rows.feed(row: row, lengths: lengths, count: count, emit: onRows)
                    afterRow()
                }
            }
            if let failure { throw MariaDBSession.Failure(description: failure) }
        }
        rows.finishJobs(emit: onRows)
        if handedHigh == nil, case .records = rows.stepSelection {
            reader.read(rows.stepSelection)  // a few jobs: their records' steps, looked up one by one
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
        for figures in waiting {
            if let key = rows.jobKey(record: figures.record) { onStep(key, figures) }
        }
        try checkReadable(rows)
    }

    /// The requeued-ids statement in two halves of the job ids, one on this connection and one on
    /// the step read's (idle until the job records come), at once; the whole statement here when
    /// the table has fewer than two ids.
    private static func readRequeued(
        _ statement: String, session: MariaDBSession, reader: AccountingStepReader, query: AccountingSQL,
        rows: inout AccountingRows, emit: (UnsafeRawBufferPointer) -> Void
    ) throws {
        var low: UInt64?, high: UInt64?
        try session.rows(try query.idRangeStatement()) { row, lengths, count in
            func number(_ i: Int) -> UInt64? {
                guard i < count, let field = row[i] else { return nil }
                return DecimalText.parse(UnsafeRawBufferPointer(start: field, count: Int(lengths[i])).bindMemory(to: UInt8.self))
            }
            (low, high) = (number(1), number(2))
        }
        guard let low, let high, high > low else {
            try session.rows(statement) { row, lengths, count in rows.feed(row: row, lengths: lengths, count: count, emit: emit) }
            return
        }
        let halves = try query.requeuedHalves(splitAt: low + (high - low) / 2 + 1)
        reader.readRequeued(halves[1])
        try session.rows(halves[0]) { row, lengths, count in rows.feed(row: row, lengths: lengths, count: count, emit: emit) }
        let taken = reader.takeRequeued()
        guard let text = taken.text else { throw MariaDBSession.Failure(description: taken.failure ?? "the requeued ids were not read") }
        text.withUnsafeBytes { rows.feed($0, emit: emit) }
    }
}
