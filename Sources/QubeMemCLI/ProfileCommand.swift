import ArgumentParser
import Foundation
import QubeMem
import QubeMemSystem

/// `qubemem profile`: run a command and measure its whole process tree's memory from outside.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Run a command and report the exact peak memory of its whole process tree, stage by stage.",
        discussion: """
            The command runs as a child of qubemem; its exit status passes through (qubemem exits \
            with the same code, or dies of the same signal) and SIGTERM, SIGHUP, SIGUSR1/2 and a \
            SIGINT or SIGQUIT sent with kill(1) are forwarded to it (Ctrl-C from the terminal \
            reaches it directly). The report goes to standard error, after the command ends.

            What "peak" means: every --interval, qubemem reads the RSS of every process in the \
            tree (children, grandchildren, orphans: qubemem is their subreaper) from /proc \
            (statm); at least every 100 ms (every sample at 100 ms and above), at every stage \
            event and at the end, it reads each process's VmHWM and resets it (clear_refs), so \
            the next VmHWM is that process's largest RSS since the last reading, however short \
            the spike. A process that ends is reaped with wait4 and its ru_maxrss counts instead. \
            "peak RSS" is the largest, over those windows, of the sum of the per-process maxima: \
            never below the true peak of the tree's summed RSS, and equal to it unless two \
            processes peaked at different instants of the same window (always, for one \
            process). "highest sample" is the largest sum seen at one instant, a lower bound. A \
            grandchild reaped by its own parent between two VmHWM readings counts with the \
            highest RSS sampled for it; one that lives less than one interval is not \
            seen. smaps_rollup (PSS, anonymous / file / shmem / huge pages) is read at new highs \
            and every --pss-every seconds.

            Shared pages: "peak RSS" is a sum of per-process RSS, as SLURM's jobacct_gather \
            counts it, so a page shared by several processes (MPI ranks forked by one launcher, \
            a parent and its forked child) counts once per process. "cgroup peak" is the charge \
            of a memory cgroup, read exactly from the kernel: each page once, page cache and \
            shmem the processes touched included; the figure an OOM kill (and SLURM's memory \
            limit) is decided on. qubemem creates a cgroup of the run's own, \
            qubemem-profile-PID below its own memory cgroup, starts the command inside it and \
            removes it at the end (processes left running are moved back out first); its peak is \
            memory.max_usage_in_bytes (cgroup v1) or memory.peak (v2, Linux 5.19 and later), \
            and memory.usage_in_bytes / memory.current is read with the VmHWM readings. Inside a SLURM \
            job (SLURM_JOB_ID set and a job_ID cgroup above qubemem's), the job's cgroup is only \
            read, nothing is moved, and its peak counts since the job started. Where no cgroup \
            can be made or read (not root, no memory controller) the report says why and gives \
            the RSS figures alone; --no-cgroup turns it off.

            Processes: with more than one process in the tree, a table lists each process whose \
            own peak RSS (VmHWM, or ru_maxrss once reaped) is at least 1% of the tree's peak RSS, \
            largest first (at most 16; the rest are summed on one line): pid, rank, own peak and \
            when it was read, name and command line. An MPI rank shows its rank variable \
            (PMI_RANK, PMIX_RANK, OMPI_COMM_WORLD_RANK, MV2_COMM_WORLD_RANK or SLURM_PROCID from \
            /proc/PID/environ, read when the process is first seen and again after an exec).

            Stages: qubemem puts QUBEMEM_STAGE_FD (an inherited pipe descriptor) and \
            QUBEMEM_STAGE_FILE (a path that opens the same pipe) in the command's environment. \
            The command writes one line per event, 'enter NAME' or 'exit NAME'; stages nest. A \
            writer that reads one byte from QUBEMEM_STAGE_ACK_FD after each line goes on only \
            once the event is recorded (exact attribution). examples/qube/qubemem_stage_hook.py \
            attaches this to QUBE's Fisher/Spectra._profiler. The baseline is the RSS at the first \
            stage's entry (with a budget to compare: at the first stage QUBE's model prices).

            Examples:
              qubemem profile -- python3 examples/qube/qube_workload.py --fields QU --nside 16 --fsky 0.3 --lmax 32
              qubemem profile --interval 10ms --json run.json --svg run.svg -- ./my_pipeline
              qubemem profile --compare "qube: fields=QU n_obs=1504 lmax=32 path=pixel_direct" -- python3 drive.py
              qubemem profile --json ranks.json -- mpiexec -n 4 python3 drive.py
              qubemem profile --no-cgroup -- mpiexec -n 2 python3 drive.py

            JSON (--json, "schema": "qubemem.profile/1"): command, exit {kind, code, signal, \
            signal_name, core_dumped}, timed_out, interval_seconds, elapsed_seconds, \
            user_seconds, system_seconds, peak_bytes, peak_time, peak_sampled_bytes, \
            peak_sampled_time, high_water_marks_reset, peak_pss_bytes, baseline_bytes, \
            peak_breakdown {smaps_rollup key: bytes}, peak_breakdown_time, profiler_cpu_seconds, \
            cgroup {kind (own or slurm_job), version, directory, peak_bytes, \
            peak_sampled_bytes, peak_sampled_time, start_bytes, removal_error} or null, \
            cgroup_unavailable (why cgroup is null), stages [{name, depth, enter, exit, entry_rss_bytes, exit_rss_bytes, peak_bytes, \
            peak_time, peak_sampled_bytes, peak_above_baseline_bytes}], processes [{pid, ppid, \
            name, first_seen, ended, peak_bytes, peak_time, reaped_by_profiler, rank_variable, \
            rank, command_line}] (every process), left_running [{pid}], \
            samples [{t, rss, interval_peak, pss, processes, cgroup, stage}], and with a budget \
            comparison {model, path, stages [{name, budget_bytes, measured_bytes, ratio, marks}], \
            budget_lifetime_peak_bytes, measured_lifetime_peak_bytes, predicted_baseline_bytes, \
            measured_baseline_bytes, predicted_total_bytes, measured_total_bytes, request_mib}.

            Exit status: the command's; 127 when it cannot be found, 126 when it cannot be run.
            """
    )

    @Option(help: "Sampling interval, such as 100ms (the default), 10ms (the minimum) or 0.5s.")
    var interval: SamplingInterval = SamplingInterval(seconds: 0.1)

    @Option(help: "Write the report as JSON to this file (schema above).")
    var json: String?

    @Option(help: "Write the timeline as an SVG image to this file.")
    var svg: String?

    @Option(help: "Write the text report to this file instead of standard error.")
    var report: String?

    @Flag(help: "Do not print the text report (the files are still written).")
    var quiet = false

    @Option(help: "Kill the command's whole tree after this many seconds (SIGTERM, then SIGKILL 2 s later).")
    var timeout: Double?

    @Option(name: .customLong("pss-every"), help: "Read smaps_rollup (PSS) at least every this many seconds; 0 turns it off (default 1).")
    var pssEvery: Double = 1

    @Flag(name: .customLong("no-hwm-reset"), help: "Do not reset the processes' VmHWM (their own getrusage keeps the lifetime figure; the peak becomes a looser upper bound).")
    var noHWMReset = false

    @Flag(name: .customLong("no-cgroup"), help: "Do not make or read a memory cgroup: report only the tree's summed RSS, not the cgroup's charge.")
    var noCgroup = false

    @Option(name: .customLong("baseline-at"), help: "Take the baseline at the entry of the first stage with this name (default: the first stage; with a budget to compare, the first stage QUBE's model prices, such as fisher.covariance_setup).")
    var baselineAt: String?

    @Option(help: "Compare with the budget of this job comment ('qube: fields=QU n_obs=1504 lmax=32 ...').")
    var compare: String?

    @OptionGroup(title: "Budget to compare (the flags of predict)") var dimensions: DimensionOptions
    @OptionGroup(title: "Request policy") var policyOptions: PolicyOptions

    @Argument(parsing: .postTerminator, help: "The command to run and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.first == "--" { return }
        if command.isEmpty { throw ValidationError("Please give the command to profile after '--'.") }
    }

    func run() async throws {
        let status = try run(.standard)
        exitLike(status)
    }

    /// The argv to run: the passthrough arguments without a leading "--".
    var argv: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    /// The budget to compare with, when --compare or any dimension flag was given.
    /// - Parameter ctx: where the warnings of a `--qube-config` config go (standard error).
    func comparisonSpec(_ ctx: CommandContext? = nil) throws -> RunSpec? {
        var dims = dimensions
        if let compare {
            if dims.fromComment != nil { throw ValidationError("Please give either --compare or --from-comment, not both.") }
            if dims.qubeConfig != nil { throw ValidationError("Please give either --compare or --qube-config, not both.") }
            dims.fromComment = compare
        }
        let loaded = try dims.loadQubeConfig()
        for warning in loaded?.file.warnings ?? [] { ctx?.err("qubemem: warning: \(warning)\n") }
        let spec = try dims.runSpec(loaded: loaded)
        return spec == RunSpec() ? nil : spec
    }

    func run(_ ctx: CommandContext) throws -> ExitStatus {
        guard !argv.isEmpty else { throw ValidationError("Please give the command to profile after '--'.") }
        // Price the budget first: a bad comment is reported before the run, not after.
        var prediction: Prediction?
        if let spec = try comparisonSpec(ctx) {
            switch Predictor.predict(spec, policy: try policyOptions.policy()) {
            case let .success(p): prediction = p
            case let .failure(error): throw CLIError.prediction(error)
            }
        }
        var options = Profiler.Options(command: argv)
        options.interval = interval.seconds
        options.timeout = timeout
        options.pssEvery = pssEvery
        options.resetHighWaterMarks = !noHWMReset
        options.measureCgroup = !noCgroup
        var result: ProfileResult
        do {
            result = try Profiler(options: options).run()
        } catch {
            ctx.err("qubemem profile: \(error)\n")
            if case .spawn(let e) = error {
                switch e {
                case .notFound: throw ExitCode(127)
                case .permissionDenied: throw ExitCode(126)
                default: break
                }
            }
            throw ExitCode(1)
        }
        if noCgroup { result.cgroupUnavailable = "turned off with --no-cgroup" }
        result.rebase(at: baselineAt, qubeDefault: prediction != nil)
        let comparison = prediction.map { Comparison(prediction: $0, result: result) }
        try ProfileOutputs.write(result, comparison: comparison, json: json, svg: svg, report: report, quiet: quiet, ctx: ctx)
        return result.exit
    }
}

extension ProfileResult {
    /// Moves the baseline to the entry of the first stage named `name`; with `qubeDefault`, to the
    /// first QUBE stage the model prices (fisher.covariance_setup, usually), so the interpreter,
    /// the imports and the inputs count as baseline, as in QUBE's model.
    mutating func rebase(at name: String?, qubeDefault: Bool) {
        let stage: Stage?
        if let name {
            stage = stages.first { $0.name == name }
        } else if qubeDefault {
            stage = stages.first { Comparison.modelStage(for: $0.name) != nil }
        } else {
            stage = nil
        }
        if let stage { baselineBytes = stage.entryRSSBytes }
    }
}

/// Writing the report files, shared by profile and sweep.
enum ProfileOutputs {
    static func write(_ result: ProfileResult, comparison: Comparison?, json: String?, svg: String?,
                      report: String?, quiet: Bool, ctx: CommandContext) throws {
        let text = ProfileReport.text(result, comparison: comparison)
        if let report {
            try writeFile(report, text)
        } else if !quiet {
            ctx.err(text)
        }
        if let json { try writeFile(json, ProfileReport.json(result, comparison: comparison) + "\n") }
        if let svg { try writeFile(svg, ProfileSVG.render(result)) }
    }

    static func writeFile(_ path: String, _ text: String) throws {
        do {
            // Written beside and renamed: a full disk never leaves half a report under the name.
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw OutputError(path: path, reason: "\(error.localizedDescription)")
        }
    }
}

/// A report file that could not be written.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write '\(path)': \(reason)" }
}

/// A sampling interval: "100ms", "0.5s", or plain seconds ("0.1"); at least 10 ms.
struct SamplingInterval: ExpressibleByArgument, CustomStringConvertible {
    var seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    init?(argument: String) {
        let text = argument.lowercased()
        let value: Double?
        if text.hasSuffix("ms") {
            value = Double(text.dropLast(2)).map { $0 / 1000 }
        } else if text.hasSuffix("s") {
            value = Double(text.dropLast())
        } else {
            value = Double(text)
        }
        guard let v = value, v.isFinite, v >= 0.01 - 1e-12, v <= 3600 else { return nil }
        seconds = v
    }

    var description: String { seconds < 1 ? "\(Int((seconds * 1000).rounded()))ms" : "\(seconds)s" }
    static var defaultValueDescription: String { "100ms" }
}
