import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

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
                var sql = database.sql
                sql.summaryOnly = keeping == .summary
                try AccountingDatabase.read(
                    settings: database.settings, query: sql, client: database.client, runner: ctx.sacct,
                    timeoutSeconds: timeoutSeconds, outputLimit: outputLimit, now: database.now,
                    userName: users.name, onEstimate: { acc.reserve(jobs: $0) }, onRows: { acc.feed($0) },
                    onStep: { key, step in
                        acc.addStep(job: key, state: step.state, maxRSS: step.maxRSS, taskSum: step.taskSum,
                                    tasks: step.tasks, nodes: step.nodes)
                    },
                    // The summary needs no name: the job records come as figures, not as sacct rows.
                    onJob: keeping == .summary ? { job in
                        acc.addJob(key: job.key, state: job.state, elapsedSeconds: job.elapsedSeconds, nodes: job.nodes,
                                   cpus: job.cpus, requested: job.requested, comment: job.comment,
                                   adminComment: job.adminComment)
                    } : nil)
            } catch {
                throw AuditError.database(error.description)
            }
        } else if let input {
            do {
                // A capacity hint: a job with its step rows takes 256 bytes or more of sacct -P
                // output (reserved but untouched room costs address space, not memory; the job
                // table grown by doubling instead would hold its old and new storage at once).
                try StreamedFile.read(input, sized: { acc.reserve(jobs: $0 / 256) }) { acc.feed($0) }
            } catch {
                switch error {
                case let .cannotOpen(path, reason): throw AuditError.cannotOpen(path: path, reason: reason)
                case let .cannotRead(path, reason): throw AuditError.cannotRead(path: path, reason: reason)
                }
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
