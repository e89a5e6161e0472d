import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem
import ArgumentParser

/// `--source db`: where the accounting database is and the statements to send it.
struct AuditDatabase {
    var settings: SlurmdbdSettings
    /// Checked: its `jobsText()` does not throw.
    var sql: AccountingSQL
    /// The command-line client to read through; nil for the client library.
    var client: String?
    /// Unix seconds when the audit started.
    var now: Int64

    /// Reads slurmdbd.conf (and slurm.conf for the cluster) and builds the window's query.
    /// - Throws: `ValidationError` quoting a bad option value; `AuditError.database` when a
    ///   configuration file cannot be read.
    static func make(query: SacctQuery, slurmdbdConf: String?, client: String?) throws -> AuditDatabase {
        let now = Int64(time(nil))
        let slurmConf = ProcessInfo.processInfo.environment["SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/etc/slurm/slurm.conf"
        let folder = slurmConf.lastIndex(of: "/").map { String(slurmConf[..<$0]) } ?? "."
        let dbdPath = slurmdbdConf ?? folder + "/slurmdbd.conf"
        let dbdText = try readText(dbdPath, purpose: "it holds the database's address and credentials; "
            + "run as root or SlurmUser, or give --slurmdbd-conf")
        let settings: SlurmdbdSettings
        switch SlurmdbdSettings.parse(slurmdbdConf: dbdText) {
        case .success(let s): settings = s
        case .failure(let error): throw AuditError.database("\(dbdPath): \(error)")
        }
        let cluster: String
        if let given = query.cluster {
            cluster = given
        } else {
            let text = try readText(slurmConf, purpose: "its ClusterName names the tables to read; or give --cluster")
            guard let name = SlurmdbdSettings.clusterName(slurmConf: text) else {
                throw AuditError.database("\(slurmConf) has no ClusterName; give --cluster")
            }
            cluster = name
        }
        guard let start = SacctTime.parse(query.start, now: now) else {
            throw ValidationError("--source db reads --start '\(query.start)' in one of: \(SacctTime.validForms).")
        }
        let end = try query.end.map { text -> Int64 in
            guard let t = SacctTime.parse(text, now: now) else {
                throw ValidationError("--source db reads --end '\(text)' in one of: \(SacctTime.validForms).")
            }
            return t
        } ?? now
        var sql = AccountingSQL(cluster: cluster, start: start, end: end)
        for user in query.users {
            guard let uid = UserDirectory.uid(user) else {
                throw ValidationError("--user '\(user)' is not a user name or uid known to this system.")
            }
            sql.uids.append(uid)
        }
        sql.accounts = query.accounts
        sql.partitions = query.partitions
        for name in query.states {
            guard let state = JobState.parse(Array(name.uppercased().utf8)) ?? JobState.abbreviation(name) else {
                throw ValidationError("--state '\(name)' is not a SLURM job state (such as COMPLETED, CD, OUT_OF_MEMORY, OOM).")
            }
            sql.states.append(state)
        }
        sql.jobs = query.jobs
        do {
            _ = try sql.jobsText()  // refuses a value that is not plain, as an argument error
            return AuditDatabase(settings: settings, sql: sql, client: client, now: now)
        } catch {
            throw ValidationError("--source db: \(error.description).")
        }
    }

    private static func readText(_ path: String, purpose: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuditError.database("cannot read \(path): \(error.localizedDescription) (\(purpose))")
        }
    }
}
