/// The job records of `audit --source db` as the prepared statement hands them over
/// (`AccountingSQL.jobStatements(boundRecords: true)`, read by `MariaDBSession.boundRows`).
extension AccountingRows {
    /// Converts one job record read through the prepared statement (`AccountingSQL`'s
    /// `jobStatements(boundRecords: true)`): its integer columns (`Job.integers`) as numbers, a
    /// NULL one as an empty field (a canceller the database does not know), the rest as text.
    /// Needs `escaped: false`.
    mutating func feed(bound row: BoundRow, emit: (UnsafeRawBufferPointer) -> Void) {
        line.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        boundMask = 0
        for column in 0..<Job.count {
            if column > 0 { line.append(0x09) }
            starts.append(line.count)
            if Job.integerMask & (1 << column) != 0 {
                if !row.isNull(column) {
                    boundMask |= 1 << column
                    boundValues[column] = row.integer(column)
                }
            } else {
                line.append(contentsOf: row.text(column))
            }
        }
        convertFields()
        boundMask = 0
        line.removeAll(keepingCapacity: true)
        if mustFlush { flush(emit) }
    }
}

extension AccountingRows.Job {
    /// How `MariaDBSession.boundRows` reads each column.
    static let kinds: [MariaDBSession.BoundColumn] = (0..<count).map { integers.contains($0) ? .integer : .text }
}
