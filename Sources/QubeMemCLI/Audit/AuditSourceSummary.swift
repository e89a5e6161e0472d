import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

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
