import ArgumentParser
import QubeMem

/// `qubemem predict`: QUBE's memory budget and the memory request for a run.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Print QUBE's memory budget for a run, stage by stage, and the memory request it needs.",
        discussion: """
            The budget is QUBE's own model (qube.memory_budget) for the chosen model version, term \
            for term, plus the terms qubemem measured on real runs that the reference leaves out. \
            Every stage figure is above baseline RSS; the request adds the baseline (interpreter \
            floor and input covariances) and the slack: \
            request = ceil((baseline + lifetime peak) x slack) MiB.

            Dimensions come either as QUBE's own flags (--n-pix, --n-modes, ...) or from the \
            science (--fields, --n-obs or --nside with --fsky, --lmax, --lmax-signal), or from a \
            job comment (--from-comment), or from the run's own QUBE YAML config \
            (--qube-config, what qube-fisher-run and qube-run take).

            With --qube-config, qubemem reads the config as QUBE 1.3 does (its defaults for what \
            the file leaves out) and counts the unmasked pixels (> 0.5) of each field in the \
            FITS mask it names; it derives n_pix, n_modes, the bins and the path QUBE's CLI picks \
            (automatically, with n_bins = max(lmax_signal - 1, 1), since the bins are set later), \
            and prints them before the budget (on standard error with --comment and --request). \
            Keys QUBE does not know are warnings naming the nearest key it knows; a config \
            that nests [ ] or { } more than 64 levels deep, or has more than 16 YAML aliases, is \
            refused before it is parsed (no QUBE config has either; both make the parser slow). \
            load_reduced: \
            false (QUBE's default) prices the read of the full-sky covariance; do_cross: true \
            prices QUBE's traditional path as pixel_direct with the second covariance and the \
            derivatives the cross trace keeps. Spectra runs' maps (nsims) are not priced.

            MPI runs (mpiexec -n R qube-run ...) take the job's layout with sbatch's own options: \
            every rank holds its own copy of QUBE's matrices, so the request is for the busiest \
            node: rank 0 (inputs, setup, its share of the run) plus each further rank (interpreter \
            floor, MPI runtime, its copy of the basis manager, the run peak), taking the largest of \
            the setup, broadcast and run phases. --ntasks-per-node=K prices K ranks; --ntasks=N \
            --nodes=M prices ceil(N/M); --ntasks alone (SLURM picks the nodes) gives a request per \
            CPU at the largest rank's share, which SLURM multiplies by what it places on each node.

            Examples:
              qubemem predict --model 1.0 --path harmonic --n-pix 59136 \\
                  --n-modes 33274 --lmax-signal 256 --lmax 128
              qubemem predict --path pixel_direct --fields QU --n-obs 4900 \\
                  --lmax 128 --lmax-signal 256 --n-bins 6
              qubemem predict --fields QU --nside 64 --fsky 0.1 --lmax 128 --json
              qubemem predict --fields QU --n-obs 2496 --lmax 64 --lmax-signal 128 --comment
              qubemem predict --request \\
                  --from-comment "qube: fields=QU n_obs=2496 lmax=64 lmax_signal=128"
              qubemem predict --fields QU --n-obs 2496 --lmax 64 --lmax-signal 128 \\
                  --ntasks 8 --nodes 2 --request
              qubemem predict --qube-config examples/qube/run.yaml \\
                  --mask examples/qube/run_mask.fits --ntasks-per-node 2
              sbatch --comment "$(qubemem predict --qube-config run.yaml --comment)" \\
                  --wrap "qube-fisher-run run.yaml"

            Exit status: 0 on success; 64 when an input is missing, invalid or too large (the \
            message names the input, quotes its value and says what is valid; a size whose bytes \
            do not fit in 64 bits is such an error, never a wrong number); 1 when the config file \
            cannot be used, when --qube-config's config or mask cannot be used (the message \
            names the file and the problem) or, with --request, when the plugin would reject the \
            job.

            JSON schema (--json, "schema": "qubemem.predict/1"): model, releases, path, \
            path_picked, config {n_pix, n_modes, lmax_signal, lmax, working_dim, n_bins, n_params, \
            release_pixel_projector, cache_derivatives, has_switch, fields, n_obs}, stages [{name, \
            persistent [{name, bytes}], transient [{name, bytes}], persistent_bytes, \
            transient_bytes, peak_bytes}] (the reference model exactly), lifetime_peak_bytes, \
            excludes, measured_terms [{stage, name, bytes}], request {peak_bytes, baseline_bytes, \
            total_bytes, slack, request_mib} (one process), node {layout {ntasks, nodes, \
            ntasks_per_node, cpus_per_task}, multi_rank, ranks_per_node (null when per CPU), \
            per_cpu, rank_floor_bytes, rank0, further_rank and node_phases {setup_bytes, \
            broadcast_bytes, run_bytes, peak_bytes}, total_bytes, request_mib, request_unit} (the \
            request the plugin sets for that layout; for one process the same as request), \
            alternative {path, peak_bytes, request_mib} or null; with --qube-config also \
            qube_config {file, maskfile, nside, fields, n_obs (one per field), n_pix, n_modes, \
            lmin, lmax, lmax_signal, pick_n_bins, n_bins, n_params, path (harmonic, \
            pixel_direct or traditional), priced_path, do_cross, load_reduced, \
            full_sky_covariance_bytes, comment, warnings}.
            """
    )

    @OptionGroup(title: "Run dimensions") var dimensions: DimensionOptions
    @OptionGroup(title: "MPI task layout (sbatch's options)") var layoutOptions: LayoutOptions
    @OptionGroup(title: "Request policy") var policyOptions: PolicyOptions

    @Flag(help: "Print the prediction as JSON (schema above) instead of a table.")
    var json = false

    @Flag(help: "Print only the job comment that carries these dimensions ('qube: key=value ...').")
    var comment = false

    @Flag(help: "Print only the memory request the job_submit plugin would set, with its breakdown.")
    var request = false

    func validate() throws {
        if [json, comment, request].filter({ $0 }).count > 1 {
            throw ValidationError("Please choose one of --json, --comment and --request.")
        }
    }

    func run() async throws {
        try run(.standard)
    }

    func run(_ ctx: CommandContext) throws {
        let loaded = try dimensions.loadQubeConfig()
        let spec = try dimensions.runSpec(loaded: loaded)
        if let loaded {
            for warning in loaded.file.warnings { ctx.err("qubemem: warning: \(warning)\n") }
        }
        let site = try policyOptions.siteConfig()
        let policy = site.policy
        let prediction: Prediction
        let layout = layoutOptions.layout
        switch Predictor.predict(spec, policy: policy, layout: layout) {
        case let .success(p): prediction = p
        case let .failure(error): throw CLIError.prediction(error)
        }
        if comment {
            if let loaded { ctx.err(QubeConfigReport.render(loaded)) }
            ctx.out(QubeComment.render(spec) + "\n")
        } else if json {
            ctx.out(PredictionJSON.render(prediction, policy: policy, run: loaded) + "\n")
        } else if request {
            if let loaded { ctx.err(QubeConfigReport.render(loaded)) }
            try printRequest(spec, prediction, site: site, layout: layout, ctx)
        } else {
            if let loaded { ctx.out(QubeConfigReport.render(loaded) + "\n") }
            ctx.out(BudgetTable.render(prediction, policy: policy))
        }
    }

    /// What the job_submit plugin would do with a job carrying this spec and no --mem: the same
    /// decision code, on the same comment, under the same site config.
    private func printRequest(_ spec: RunSpec, _ prediction: Prediction, site: SiteConfig, layout: TaskLayout,
                              _ ctx: CommandContext) throws {
        let decision = SubmissionDecision.decide(comment: QubeComment.render(spec), userMemory: .none, config: site,
                                                 layout: layout)
        switch decision.outcome {
        case let .setMemory(mib), let .setMemoryPerCPU(mib):
            var lines = BudgetTable.requestLines(prediction, policy: site.policy)
            if mib != prediction.node.requestMiB {
                let unit = prediction.node.perCPU ? "per CPU" : "per node"
                lines = "Request: \(mib) MiB \(unit) (raised to min_request)\n" + lines.drop { $0 != "\n" }.dropFirst()
            }
            ctx.out(lines)
        case .untouched:
            ctx.out(BudgetTable.requestLines(prediction, policy: site.policy))
            ctx.out("The plugin is disabled by this config (enabled = no): it would leave the job untouched.\n")
        case .reject:
            ctx.out(BudgetTable.requestLines(prediction, policy: site.policy))
            ctx.err("The plugin would reject this job: \(decision.userMessage ?? "")\n")
            throw ExitCode.failure
        }
    }
}
