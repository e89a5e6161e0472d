public import QubeMemSlurm
/// The SQL `qubemem audit --source db` sends to slurmdbd's database: every job record of a window,
/// selected the way sacct selects them, then the steps of the records kept, in the columns
/// `AccountingRows` turns into sacct rows.
///
/// Two plain reads instead of a join (issue 16). The one query joined the job table with itself
/// (to find requeued jobs' newer records) and with the step table; the server spent about 12 s
/// of CPU per million jobs on it and sent each job's columns again with every step. Now
/// `jobsText` reads the job table once (a scan in primary-key order), after a list of the job ids
/// that have several records (from the `id_job` index alone), and `stepsText` reads the step
/// table's primary-key range of the records kept; the client (`AccountingRows`) picks the
/// newest record of a requeued job in the window and hands each step its job's id. About 5 s of
/// server CPU per million jobs and a third less text (BENCHMARKS.md, issue 16).
///
/// Everything put into the text is checked first: the cluster and database names are plain
/// identifiers, accounts and partitions plain names, and users, states, job ids and times
/// numbers, so no value can change the query's meaning.
public struct AccountingSQL: Sendable, Equatable {
    /// The cluster whose `<cluster>_job_table` and `<cluster>_step_table` are read.
    public var cluster: String
    /// The window, Unix seconds: jobs eligible before `end` and not ended before `start`.
    public var start: Int64
    public var end: Int64
    /// Only jobs of these uids (empty: all).
    public var uids: [UInt32] = []
    public var accounts: [String] = []
    public var partitions: [String] = []
    /// Only jobs in these states during the window (empty: any), as sacct --state selects them.
    public var states: [JobState] = []
    /// Only these jobs (`123`, an array task `123_4`, a heterogeneous component `123+1`).
    public var jobs: [String] = []
    /// True when the audit keeps only what its summary needs (`--suggest-config`: no job is
    /// listed, so no name, user, account, partition or canceller is read): the job statement
    /// selects constants in their place and the associations are not read. At 10 M jobs the
    /// server then spends about a fifth less on the job statement (BENCHMARKS.md, issue 16).
    public var summaryOnly = false

    public init(cluster: String, start: Int64, end: Int64) {
        self.cluster = cluster
        self.start = start
        self.end = end
    }

    /// Why the query cannot be built; the message quotes the value.
    public struct InvalidValue: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Columns of the job statement's rows, in order (`AccountingRows.Job` reads them by position);
    /// the first tells the row kind.
    static let jobColumns = [
        "'J'", "j.job_db_inx", "j.id_job", "j.id_array_job", "j.id_array_task", "j.het_job_id", "j.het_job_offset",
        "j.id_user", "j.state", "IFNULL(j.kill_requid,-1)", "j.time_start", "j.time_end", "j.time_suspended",
        "j.nodes_alloc", "IFNULL(j.tres_alloc,'')", "IFNULL(j.tres_req,'')", "IFNULL(j.job_name,'')",
        "IFNULL(j.account,'')", "IFNULL(j.`partition`,'')", "IFNULL(j.derived_es,'')", "IFNULL(j.admin_comment,'')",
        "IFNULL(j.array_task_str,'')", "j.time_submit", "j.id_assoc",
    ]

    /// `jobColumns` as `summaryOnly` selects them: the columns only a job listing shows (name,
    /// user, account, partition, canceller, association) as constants of the same form.
    static let summaryJobColumns: [String] = jobColumns.enumerated().map { index, column in
        switch index {
        case AccountingRows.Job.user, AccountingRows.Job.association: "0"
        case AccountingRows.Job.cancelledBy: "-1"
        case AccountingRows.Job.name, AccountingRows.Job.account, AccountingRows.Job.partition: "''"
        default: column
        }
    }

    /// Columns of the step statement's rows, in order (`AccountingRows.Step`): only what the audit
    /// reads of a step (its state, for OUT_OF_MEMORY; its nodes, tasks, MaxRSS and the sum of its
    /// tasks' peaks, for the peak per node) and its id. The step table is the largest the audit
    /// reads (two or more rows a job); its name, times and allocation were a third of the
    /// server's time on it and of the text (BENCHMARKS.md, issue 16).
    static let stepColumns = [
        "'S'", "s.job_db_inx", "s.id_step", "s.step_het_comp", "s.state", "s.nodes_alloc", "s.task_cnt",
        "IFNULL(s.tres_usage_in_max,'')", "IFNULL(s.tres_usage_in_tot,'')",
    ]

    /// The first read's statements, in order (without the `A` statement when `summaryOnly`): an estimate of the job table's rows (`N`, to reserve
    /// memory once), the associations' users and accounts (`A` rows: slurmdbd takes a job's User
    /// from its association, and its Account too when the record has none), the job ids with
    /// several records (`D` rows, read from the `(id_job, time_submit)` index only: about 0.2 s of
    /// server CPU per million records), then the window's job records (`J` rows, no join) in
    /// primary-key order: the order `AccountingRows` looks steps up in, and the order that lets
    /// the step read follow the job read (`AccountingStepReader`). For the whole table, or a wide
    /// window, the server scans the primary key and sorts nothing; a narrow window or one user's
    /// jobs come through an index and are sorted, few rows.
    ///
    /// A requeued job has one record per run; sacct (without `--duplicates`) shows, of the records
    /// that match its selection, the one submitted last. The `D` rows say which jobs have several
    /// records and the submit time of the newest; `AccountingRows` holds the older ones back.
    /// - Throws: `InvalidValue` for a name or id that is not plain.
    ///
    /// With `boundRecords` the job records are read as a prepared statement
    /// (`MariaDBSession.boundRows`, the client library's read): their integers arrive as integers,
    /// and the canceller and the texts are selected bare (NULL when unknown, read as empty)
    /// instead of through `IFNULL`.
    public func jobStatements(boundRecords: Bool = false) throws(InvalidValue) -> [String] {
        try checkCluster()
        let jobTable = "`\(cluster)_job_table`"
        var conditions = ["j.deleted = 0"]
        if states.isEmpty {
            // sacct without --state: eligible before the end, and running or ended after the start.
            conditions.append("(j.time_eligible <> 0 AND j.time_eligible < \(end) AND (j.time_end >= \(start) OR j.time_end = 0))")
        } else {
            var any: [String] = []
            for state in states {
                guard let number = Self.stateNumber(state) else {
                    throw InvalidValue(description: "state '\(state.rawValue)' is not kept in the accounting database; "
                        + "choose among \(Self.selectableStates.map(\.rawValue).joined(separator: ", "))")
                }
                any.append("(j.state = \(number) AND \(Self.during(state, start: start, end: end)))")
            }
            conditions.append("(" + any.joined(separator: " OR ") + ")")
        }
        if !uids.isEmpty { conditions.append("j.id_user IN (\(uids.map(String.init).joined(separator: ",")))") }
        if !accounts.isEmpty { conditions.append("j.account IN (\(try Self.quoted(accounts, what: "account")))") }
        if !partitions.isEmpty { conditions.append("j.`partition` IN (\(try Self.quoted(partitions, what: "partition")))") }
        if !jobs.isEmpty {
            var any: [String] = []
            for job in jobs { any.append(try Self.jobCondition(job)) }
            conditions.append("(" + any.joined(separator: " OR ") + ")")
        }
        // TABLE_ROWS: InnoDB's estimate (no scan); NULL for an unknown table, then 0.
        let estimate = "SELECT 'N', IFNULL(MAX(TABLE_ROWS), 0) FROM information_schema.TABLES"
            + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '\(cluster)_job_table'"
        let associations = "SELECT 'A', id_assoc, IFNULL(user,''), IFNULL(acct,'') FROM `\(cluster)_assoc_table`"
        let requeued = requeuedStatement(where: nil)
        var columns = summaryOnly ? Self.summaryJobColumns : Self.jobColumns
        if boundRecords {
            columns[AccountingRows.Job.cancelledBy] = summaryOnly ? "NULL" : "j.kill_requid"
            // A NULL text arrives as empty: no IFNULL for the server to evaluate (it cost it about
            // a tenth of the statement at 10 M jobs: a copy of each text).
            columns = columns.map(Self.withoutIfNull)
        }
        let records = "SELECT " + columns.joined(separator: ", ")
            + " FROM \(jobTable) j WHERE " + conditions.joined(separator: " AND ") + " ORDER BY j.job_db_inx"
        return summaryOnly ? [estimate, requeued, records] : [estimate, associations, requeued, records]
    }

    /// The lowest and highest job id of the job table (an `M` row; NULLs when it is empty): the
    /// two ends of its `(id_job, time_submit)` index, read without a scan.
    /// - Throws: `InvalidValue` for a cluster name that is not plain.
    public func idRangeStatement() throws(InvalidValue) -> String {
        try checkCluster()
        return "SELECT 'M', MIN(id_job), MAX(id_job) FROM `\(cluster)_job_table`"
    }

    /// The requeued-ids statement of `jobStatements` (`D` rows) in two halves: the ids below
    /// `split`, and the others. Together they return its rows, each half scanning its own range
    /// of the `(id_job, time_submit)` index, so that two connections read them at once (the
    /// client library's read: the statement is the one step of the job read no other work can
    /// overlap, about 2 s of the server's CPU at 10 M jobs, BENCHMARKS.md, issue 16).
    /// - Throws: `InvalidValue` for a cluster name that is not plain.
    public func requeuedHalves(splitAt split: UInt64) throws(InvalidValue) -> [String] {
        try checkCluster()
        return [requeuedStatement(where: "id_job < \(split)"), requeuedStatement(where: "id_job >= \(split)")]
    }

    /// Throws unless the cluster name is a plain identifier (it is put into table names).
    private func checkCluster() throws(InvalidValue) {
        guard SlurmdbdSettings.isIdentifier(cluster) else {
            throw InvalidValue(description: "cluster '\(cluster)' is not a plain name (letters, digits, _)")
        }
    }

    /// The job ids with several records (`D` rows) and the newest one's submit time, of the ids
    /// that `condition` keeps (SQL, or nil for all).
    private func requeuedStatement(where condition: String?) -> String {
        "SELECT 'D', id_job, MAX(time_submit) FROM `\(cluster)_job_table`" + (condition.map { " WHERE " + $0 } ?? "")
            + " GROUP BY id_job HAVING COUNT(*) > 1"
    }

    /// True for `jobStatements`' requeued-ids statement.
    static func isRequeued(_ statement: String) -> Bool { statement.hasPrefix("SELECT 'D',") }

    /// `IFNULL(x,'')` as `x`; any other column as it is.
    static func withoutIfNull(_ column: String) -> String {
        guard column.hasPrefix("IFNULL("), column.hasSuffix(",'')") else { return column }
        return String(column.dropFirst(7).dropLast(4))
    }

    /// `jobStatements()` as one text for the command-line client, separated by `; `.
    /// - Throws: `InvalidValue` for a name or id that is not plain.
    public func jobsText() throws(InvalidValue) -> String {
        try jobStatements().joined(separator: "; ")
    }

    /// The second client run's statement: the steps of the job records kept (`S` rows), by the
    /// step table's primary key (`job_db_inx` first): a list for a few records, else the range
    /// from the first to the last, read straight (the few steps of records in the range that were
    /// not kept are dropped by `AccountingRows`); nil when no record was kept.
    /// - Throws: `InvalidValue` for a cluster name that is not plain.
    public func stepsText(_ selection: AccountingRows.StepSelection) throws(InvalidValue) -> String? {
        try stepStatement(Self.stepColumns, selection)
    }

    /// The step statement of the client library's read, run as a prepared statement
    /// (`MariaDBSession.boundRows`): only the columns of `StepFigures`, in `StepFigureColumn`'s
    /// order, the integers sent as integers; nil when no record was kept.
    /// - Throws: `InvalidValue` for a cluster name that is not plain.
    public func stepFiguresText(_ selection: AccountingRows.StepSelection) throws(InvalidValue) -> String? {
        try stepStatement(Self.stepFigureColumns, selection)
    }

    /// Columns of `stepFiguresText`: the record, state, nodes and tasks (unsigned integers),
    /// then MaxRSS's and TRESUsageInTot's TRES lists (text).
    static let stepFigureColumns = [
        "s.job_db_inx", "s.state", "s.nodes_alloc", "s.task_cnt", "s.tres_usage_in_max", "s.tres_usage_in_tot",
    ]

    private func stepStatement(_ columns: [String], _ selection: AccountingRows.StepSelection) throws(InvalidValue) -> String? {
        try checkCluster()
        let records: String
        switch selection {
        case .none: return nil
        case .records(let list): records = "s.job_db_inx IN (\(list.map(String.init).joined(separator: ",")))"
        case .range(let low, let high): records = "s.job_db_inx BETWEEN \(low) AND \(high)"
        }
        return "SELECT " + columns.joined(separator: ", ") + " FROM `\(cluster)_step_table` s"
            + " WHERE s.deleted = 0 AND " + records
    }

    /// sacct's time condition for a state (slurmdbd's `_state_time_string`).
    static func during(_ state: JobState, start: Int64, end: Int64) -> String {
        switch state {
        case .pending:
            return "(j.time_eligible <> 0 AND ((j.time_start = 0 AND j.time_eligible <= \(end)) OR (\(start) BETWEEN j.time_eligible AND j.time_start)))"
        case .running, .suspended:
            return "(j.time_start <> 0 AND ((j.time_end = 0 AND j.time_start <= \(end)) OR (\(start) BETWEEN j.time_start AND j.time_end)))"
        default:
            return "(j.time_end <> 0 AND j.time_end BETWEEN \(start) AND \(end))"
        }
    }

    /// The numbers SLURM stores for job states (`enum job_states`).
    static func stateNumber(_ state: JobState) -> Int? {
        switch state {
        case .pending: 0
        case .running: 1
        case .suspended: 2
        case .completed: 3
        case .cancelled: 4
        case .failed: 5
        case .timeout: 6
        case .nodeFail: 7
        case .preempted: 8
        case .bootFail: 9
        case .deadline: 10
        case .outOfMemory: 11
        default: nil
        }
    }

    /// The state a stored number means (its low byte; the rest are flags), or nil: the inverse
    /// of `stateNumber` (a test checks every state), as a switch (it runs once per job and step).
    static func state(number: UInt64) -> JobState? {
        switch number & 0xFF {
        case 0: .pending
        case 1: .running
        case 2: .suspended
        case 3: .completed
        case 4: .cancelled
        case 5: .failed
        case 6: .timeout
        case 7: .nodeFail
        case 8: .preempted
        case 9: .bootFail
        case 10: .deadline
        case 11: .outOfMemory
        default: nil
        }
    }

    /// The states the database records.
    static let selectableStates: [JobState] = [
        .pending, .running, .suspended, .completed, .cancelled, .failed, .timeout, .nodeFail, .preempted,
        .bootFail, .deadline, .outOfMemory,
    ]

    /// `123`: the job, every task of array 123 and every component of heterogeneous job 123;
    /// `123_4`: one array task; `123+1`: one component.
    static func jobCondition(_ text: String) throws(InvalidValue) -> String {
        func number(_ s: Substring) -> UInt32? {
            guard !s.isEmpty, s.count <= 10, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return UInt32(s)
        }
        let bad = InvalidValue(description: "job id '\(text)' is not a job (123), an array task (123_4) or a heterogeneous component (123+1)")
        if let underscore = text.firstIndex(of: "_") {
            guard let job = number(text[..<underscore]), let task = number(text[text.index(after: underscore)...]) else { throw bad }
            return "(j.id_array_job = \(job) AND j.id_array_task = \(task))"
        }
        if let plus = text.firstIndex(of: "+") {
            guard let job = number(text[..<plus]), let offset = number(text[text.index(after: plus)...]) else { throw bad }
            return "(j.het_job_id = \(job) AND j.het_job_offset = \(offset))"
        }
        guard let job = number(text[...]) else { throw bad }
        return "(j.id_job = \(job) OR j.id_array_job = \(job) OR j.het_job_id = \(job))"
    }

    /// Names as SQL string literals; only plain names (letters, digits, `_ . -`) are accepted.
    static func quoted(_ names: [String], what: String) throws(InvalidValue) -> String {
        var out: [String] = []
        for name in names {
            let plain = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
            }
            guard plain else {
                throw InvalidValue(description: "\(what) '\(name)' is not a plain name (letters, digits, _ . -)")
            }
            out.append("'\(name)'")
        }
        return out.joined(separator: ",")
    }

}

extension JobState {
    /// The state sacct --state names by its short form (`CD`, `OOM`, ...), in any case.
    public static func abbreviation(_ text: String) -> JobState? {
        switch text.uppercased() {
        case "PD": .pending
        case "R": .running
        case "S": .suspended
        case "CD": .completed
        case "CA": .cancelled
        case "F": .failed
        case "TO": .timeout
        case "NF": .nodeFail
        case "PR": .preempted
        case "BF": .bootFail
        case "DL": .deadline
        case "OOM": .outOfMemory
        case "RV": .revoked
        default: nil
        }
    }
}
