import ArgumentParser
import Foundation
import QubeMem
import QubeMemSlurm
import QubeMemAudit
import QubeMemSystem

/// `qubemem audit`: what finished jobs really used, against what was predicted, and the slack to set.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Compare finished jobs' measured memory with their predictions and recommend a slack.",
        discussion: """
            Reads finished jobs from sacct (run for you, without a shell: sacct --parsable2 \
            --noheader --noconvert --format=\(SacctField.formatList)) or from a saved dump of that \
            format (--input FILE, or - for stdin; a header line starting with JobID is also \
            accepted and sets the column order). Jobs still pending or running are skipped and \
            counted: sacct's figures for them are not final.

            With --source db the same jobs are read straight from slurmdbd's database (the \
            address and credentials in slurmdbd.conf; the password reaches the MariaDB client \
            library in memory, or a --db-client program in a private option file, never a \
            command line): two plain reads, the window's job records and, on a second \
            connection at the same time, their steps, select the jobs as sacct selects them \
            (of a requeued job's records, the one submitted last; --state meaning "in that state \
            during the window"), and the rows they return are read as sacct's would be, so the \
            report is the same, without slurmdbd's per-job step queries. --start and --end then take now, now-7days (seconds to weeks) and \
            2026-11-21[T08:00[:30]].

            Each job's allocation row and step rows (batch, extern, numbered steps; array tasks \
            123_4 and heterogeneous components 123+0 are jobs of their own) are merged. The \
            measured peak per node is the largest step figure, where a step's figure is: one \
            task: MaxRSS (that task's peak is the node's); several tasks on one node: the sum of \
            task peaks (TRESUsageInTot mem), an upper bound of what the node held at once, since \
            MaxRSS is only the largest task; several nodes: min(sum of task peaks, MaxRSS x (tasks \
            - nodes + 1)), the tightest upper bound of the busiest node that sacct's figures \
            allow. Upper bounds are used so that a slack chosen from the audit never under-covers \
            a node. An empty MaxRSS is no data, never zero, and so is a NODE_FAIL job's peak (a \
            dead node cut the run short: its figures are the surviving nodes' up to then). \
            MaxRSS is sampled every \
            JobAcctGatherFrequency seconds, so a peak shorter than that can be missed.

            The prediction is the plugin's AdminComment record (the last 'qubemem:v1' record: what \
            was requested and why). When an epilog replaced the AdminComment (jobstats writes \
            'JS1:...' there), it is the plugin's copy of the record at the end of the job's Comment, \
            used only when the memory it says was set is the job's ReqMem (qubemem.conf(5), \
            comment_record). A job without either but with a 'qube:' comment is recomputed \
            with the current model and marked '*'; a job with neither is counted, and listed only \
            with --all, as plain requested-versus-used. Requested memory is sacct's ReqMem per \
            node. OOM marks state OUT_OF_MEMORY (job or step); a near miss is a peak at or above \
            --near-miss x the request without OOM.

            The recommendation is the smallest slack, in steps of 0.01, at which predicted x \
            slack would have held the measured peak of the --target share of jobs that completed \
            or ran out of memory (an OOM job needs more than the request that killed it). It is \
            only meaningful with at least max(20, 1 / (1 - target)) such jobs; below that the \
            audit says so. It is compared with the current slack: --slack if given, else the most \
            common slack in the records, else the site config's. --suggest-config prints the line \
            to put in qubemem.conf in place of its slack line. Quantiles are nearest-rank.

            Malformed rows are counted and the first five are shown with their line numbers on \
            stderr; the report covers the rest. Exit status: 0; 1 when rows were dropped (unless \
            --tolerate-bad-rows), or sacct was missing, failed or timed out (its stderr is shown); \
            64 for bad options.

            JSON schema (--json, "schema": "qubemem.audit/1"): input {origin, rows, \
            malformed_rows, malformed [{line, reason}], live_jobs_skipped, \
            pending_array_rows_skipped, jobs_without_job_row}, counts {finished_jobs, with_record, \
            recomputed, without_prediction, unreadable_records, unpriced_comments}, jobs [{id, name, \
            user, account, partition, state, source (record, recomputed, none), action, model, path, \
            predicted_bytes, requested_bytes (per node), peak_bytes (per node), peak_basis \
            (single_task, task_sum, multi_node_bound), nodes, elapsed_seconds, slack, \
            peak_over_predicted, requested_over_peak, oom, near_miss, wasted_bytes, note}], summary \
            [{group, jobs, states {STATE: count}, oom, near_misses, no_data, peak_over_predicted \
            {count, p50, p90, p99, max}, requested_over_peak {...}, wasted_gib, \
            wasted_gib_hours}], recommendation {target, eligible_jobs, minimum_jobs, enough_jobs, \
            slack, covered, requested_gib, unused_gib_hours, current_slack, current_covered, \
            current_requested_gib, current_unused_gib_hours}. Missing figures are null.

            Examples:
              qubemem audit --start 2026-11-01 --end 2026-11-08
              qubemem audit --user alice --partition normal --near-miss 0.95
              qubemem audit --input week45.sacct --json > week45.json
              qubemem audit --input week45.sacct --suggest-config
              qubemem audit --input week45.sacct --svg week45.svg --target 0.995
              qubemem audit --start now-7days --prometheus \\
                  /var/lib/prometheus/node-exporter/qubemem.prom

            For node_exporter's textfile collector, an hourly cron line (metric names, labels and \
            units in the file's HELP lines; a Grafana dashboard in examples/grafana/):
              17 * * * * root qubemem audit --source db --start now-30days --tolerate-bad-rows \\
                  --prometheus /var/lib/prometheus/node-exporter/qubemem.prom >/dev/null
              eval "$(qubemem audit --print-sacct-command --start now-30days)" > month.sacct
            """
    )

    @Option(help: ArgumentHelp("Read a saved sacct dump instead of running sacct ('-' for stdin).", valueName: "file"))
    var input: String?

    @Option(help: "Window start, in sacct's syntax (2026-11-01, 2026-11-01T08:00, now-7days). Default now-7days.")
    var start: String?

    @Option(help: "Window end, in sacct's syntax. Default now.")
    var end: String?

    @Option(name: [.customShort("u"), .long], help: "Only these users (repeat, or separate with commas). Default all users.")
    var user: [String] = []

    @Option(name: [.customShort("A"), .long], help: "Only these accounts (repeat, or separate with commas).")
    var account: [String] = []

    @Option(name: [.customShort("r"), .long], help: "Only these partitions (repeat, or separate with commas).")
    var partition: [String] = []

    @Option(name: [.customShort("s"), .long], help: "Only jobs in these states, as sacct --state takes them (repeat, or separate with commas).")
    var state: [String] = []

    @Option(name: [.customShort("j"), .long], help: "Only these job ids (repeat, or separate with commas).")
    var jobs: [String] = []

    @Option(help: ArgumentHelp("Where to read jobs: sacct (the default), or db: slurmdbd's own database, read directly through the MariaDB client library (the job and step tables at once, instead of sacct's per-job step queries; needs read access to slurmdbd.conf, as root or SlurmUser).", valueName: "sacct|db"))
    var source: AuditSourceKind = .sacct

    @Option(help: "The sacct program to run.")
    var sacct = "sacct"

    @Option(name: .customLong("slurmdbd-conf"), help: ArgumentHelp("With --source db: the slurmdbd.conf holding the database's address and credentials. Default: slurmdbd.conf beside slurm.conf ($SLURM_CONF, else /etc/slurm).", valueName: "file"))
    var slurmdbdConf: String?

    @Option(name: .customLong("db-client"), help: ArgumentHelp("With --source db: read through this MariaDB/MySQL command-line client (such as mariadb or mysql) instead of the client library, libmariadb.so.3. Default: the library, or the mariadb command when the library is not installed.", valueName: "program"))
    var dbClient: String?

    @Option(help: "The cluster to audit (sacct --clusters; with --source db, whose tables to read). Default: ClusterName of slurm.conf.")
    var cluster: String?

    @Option(help: "Stop sacct, or each read of the database with --source db, after this many seconds.")
    var timeout = 300

    @Option(name: .customLong("max-output"), help: "Stop sacct when it has printed more than this many MiB.")
    var maxOutputMiB = 4096

    @Flag(help: "Also list jobs with no prediction (no record, no qube comment), as requested versus used.")
    var all = false

    @Option(name: .customLong("near-miss"), help: "Flag a job whose peak reached this share of its request (0 < x <= 1).")
    var nearMiss = 0.9

    @Option(help: "Share of jobs the recommended slack must cover (0 < x < 1).")
    var target = 0.99

    @OptionGroup(title: "Policy for jobs without a record")
    var policyOptions: PolicyOptions

    @Flag(help: "Print the report as JSON (schema qubemem.audit/1) instead of a table.")
    var json = false

    @Flag(help: "Print one CSV row per job instead of a table.")
    var csv = false

    @Option(help: ArgumentHelp("Also write an SVG chart: predicted vs measured (with y = x and the slack) and a histogram of measured/predicted.", valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("Also write the report's figures as Prometheus text exposition, for node_exporter's textfile collector (written beside the file and renamed into place).", valueName: "file"))
    var prometheus: String?

    @Flag(name: .customLong("suggest-config"), help: "Print only the qubemem.conf line that applies the recommended slack.")
    var suggestConfig = false

    @Flag(name: .customLong("tolerate-bad-rows"), help: "Exit 0 even when malformed rows were dropped (they are still reported).")
    var tolerateBadRows = false

    @Flag(name: .customLong("print-sacct-command"), help: "Print the sacct command the audit would run (to save a dump for --input) and exit.")
    var printSacctCommand = false

    func validate() throws {
        if [json, csv, suggestConfig].filter({ $0 }).count > 1 {
            throw ValidationError("Please choose one of --json, --csv and --suggest-config.")
        }
        guard target > 0, target < 1 else {
            throw ValidationError("Please give --target as a share strictly between 0 and 1 such as 0.99; got '\(target)'.")
        }
        guard nearMiss > 0, nearMiss <= 1 else {
            throw ValidationError("Please give --near-miss as a share in (0, 1] such as 0.9; got '\(nearMiss)'.")
        }
        guard timeout > 0 else {
            throw ValidationError("Please give --timeout as a positive number of seconds; got '\(timeout)'.")
        }
        guard maxOutputMiB > 0 else {
            throw ValidationError("Please give --max-output as a positive number of MiB; got '\(maxOutputMiB)'.")
        }
        if source == .db, input != nil {
            throw ValidationError("Please choose one of --input and --source db: both name where the jobs come from.")
        }
        if source == .db, printSacctCommand {
            throw ValidationError("--print-sacct-command prints the sacct command; it does not apply to --source db.")
        }
        if input != nil {
            let filters = [("--start", start != nil), ("--end", end != nil), ("--user", !user.isEmpty),
                           ("--account", !account.isEmpty), ("--partition", !partition.isEmpty),
                           ("--state", !state.isEmpty), ("--jobs", !jobs.isEmpty)]
            if let given = filters.first(where: { $0.1 }) {
                throw ValidationError("Please drop \(given.0) with --input: the window and filters are sacct's; "
                    + "apply them when saving the dump (see --print-sacct-command).")
            }
        }
    }

    /// The sacct query these options describe.
    var query: SacctQuery {
        var q = SacctQuery()
        if let start { q.start = start }
        q.end = end
        func list(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        }
        q.users = list(user)
        q.accounts = list(account)
        q.partitions = list(partition)
        q.states = list(state)
        q.jobs = list(jobs)
        q.cluster = cluster
        return q
    }

    /// The policy for recomputing jobs without a record: the site's config (if any) with the flags applied.
    func policy() throws -> RequestPolicy { try policyOptions.policy() }

    func settings(policy: RequestPolicy) -> AuditSettings {
        var s = AuditSettings()
        s.target = target
        s.nearMiss = nearMiss
        s.includeAll = all
        s.currentSlack = policyOptions.slack?.tenThousandths
        s.fallbackSlack = policy.slack.tenThousandths
        return s
    }

    func run() async throws {
        try run(AuditContext.standard)
    }

    func run(_ ctx: AuditContext) throws {
        if printSacctCommand {
            ctx.out(query.shellLine(program: sacct) + "\n")
            return
        }
        let policy = try policy()  // a broken qubemem.conf stops the audit here, with its line
        let database = source == .db
            ? try AuditDatabase.make(query: query, slurmdbdConf: slurmdbdConf, client: dbClient) : nil
        // Only the summary is printed (the config line, and the Prometheus figures): keep only what
        // the summary needs of each job, about a quarter of the whole job.
        let summaryOnly = suggestConfig && svg == nil
        var accumulator = try AuditInput.read(
            input: input, query: query, program: sacct, timeoutSeconds: timeout,
            outputLimit: maxOutputMiB.multipliedReportingOverflow(by: 1 << 20).overflow
                ? Int.max : maxOutputMiB << 20,
            database: database, keeping: summaryOnly ? .summary : .jobs, ctx: ctx)
        if let message = accumulator.headerError { throw AuditError.badHeader(message) }
        let source = AuditSourceSummary(accumulator: accumulator, input: input, database: database)
        let report = summaryOnly
            ? AuditReport(summary: accumulator.takeSummary(), settings: settings(policy: policy),
                          recompute: AuditRecompute.closure(policy: policy))
            : AuditReport(jobs: accumulator.takeFinishedJobs(), settings: settings(policy: policy),
                          recompute: AuditRecompute.closure(policy: policy))

        if suggestConfig {
            ctx.out(try AuditText.configLines(report))
        } else if json {
            ctx.out(AuditJSON.render(report, source: source) + "\n")
        } else if csv {
            ctx.out(AuditCSV.render(report))
        } else {
            ctx.out(AuditText.render(report, source: source, colour: ctx.colour))
        }
        if let svg {
            try ctx.writeFile(svg, AuditSVG.render(report))
        }
        if let prometheus {
            try ctx.writeFile(prometheus, AuditPrometheus.render(report, source: source, now: Date().timeIntervalSince1970))
        }
        if accumulator.malformedCount > 0 {
            ctx.err(AuditText.malformedLines(accumulator))
            if !tolerateBadRows { throw AuditError.rowsDropped(accumulator.malformedCount) }
        }
    }
}

/// Where `qubemem audit` reads jobs.
enum AuditSourceKind: String, ExpressibleByArgument, CaseIterable {
    case sacct, db
}
