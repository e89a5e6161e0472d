/// The job records of `audit --source db` as the prepared statement hands them over
/// (`AccountingSQL.jobStatements(boundRecords: true)`, read by `MariaDBSession.boundRows`).
extension AccountingRows {
    /// Converts one job record read through the prepared statement (`AccountingSQL`'s
    /// `jobStatements(boundRecords: true)`): its integer columns (`Job.integers`) as numbers, a
    /// NULL one as an empty field (a canceller the database does not know), the rest as text.
    /// Needs `escaped: false`.
    mutating func feed(bound row: BoundRow, emit: (UnsafeRawBufferPointer) -> Void) {
        boundMask = 0
        let integerMask = Job.integerMask  // a global's initialisation check, once a row
        for column in 0..<Job.count where integerMask & (1 << column) != 0 && !row.isNull(column) {
            boundMask |= 1 << column
            boundValues[column] = row.integer(column)
        }
        if onJob != nil {
            // Figures read the texts in place: the row is copied into `line` only for a record
            // held or written as a sacct row (`materializeLine`). The prepared statement's
            // columns are the job statement's (`boundRows` checks their count), so the row kind
            // and the number of columns need no check here.
            unmaterialized = row
            if jobsFinished { refuse("a job row after the steps began") } else { convertJob() }
            unmaterialized = nil
        } else {
            unmaterialized = row
            materializeLine()
            convertFields()
        }
        boundMask = 0
        line.removeAll(keepingCapacity: true)
        if mustFlush { flush(emit) }
    }
}

extension AccountingRows.Job {
    /// How `MariaDBSession.boundRows` reads each column.
    static let kinds: [MariaDBSession.BoundColumn] = (0..<count).map { integers.contains($0) ? .integer : .text }
}
