import ArgumentParser
import Foundation
import QubeMem
import QubeMemInputs

/// The flags that describe a QUBE run: `qube-memory-budget`'s own, plus the science that
/// derives them. Shared by `predict` and `profile --compare`.
struct DimensionOptions: ParsableArguments {
    @Option(help: "QUBE memory model: 1.0, 1.2, 1.3, latest, or a qube-qml release such as 1.1.0 (default: 1.3, or the config's default_model).")
    var model: ModelVersion?

    @Option(help: "QUBE path: harmonic, pixel_direct, or auto (QUBE's own picker; reports both costs).")
    var path: PathChoice?

    @Option(name: .customLong("n-pix"), help: "Total pixel count (2 x observed pixels for QU, 1 x for T, summed).")
    var nPix: Int?

    @Option(name: .customLong("working-dim"), help: "Filter rank: the dimension of every restricted object (model 1.3). Omit for no filter.")
    var workingDim: Int?

    @Option(name: .customLong("lmax-signal"), help: "Signal-covariance ceiling ell (default 4 x nside).")
    var lmaxSignal: Int?

    @Option(name: .customLong("n-modes"), help: "Harmonic mode count after V (default: from --fields and ell).")
    var nModes: Int?

    @Option(help: "Inference window ell; below --lmax-signal it turns on QUBE's switch optimisation.")
    var lmax: Int?

    @Flag(name: .customLong("keep-pixel-projector"), help: "Harmonic, legacy: V is not released after the SMW build.")
    var keepPixelProjector = false

    @Option(name: .customLong("n-bins"), help: "Bandpower bins (default: one per multipole from 2 to ell).")
    var nBins: Int?

    @Option(name: .customLong("n-params"), help: "Derivative parameters (default: n_bins x spectra of --fields).")
    var nParams: Int?

    @Flag(name: .customLong("cache-derivatives"), help: "Pixel-direct, model 1.2+: Fisher(cache_derivatives=True).")
    var cacheDerivatives = false

    @Flag(name: .customLong("no-switch"), help: "Pixel-direct, model 1.0: Core did not allocate the S_fixed buffer.")
    var noSwitch = false

    @Option(help: "Fields: T, QU, TQU, or spins joined by '+' (0+2).")
    var fields: FieldSet?

    @Option(name: .customLong("n-obs"), help: "Unmasked pixels per field.")
    var nObs: Int?

    @Option(help: "HEALPix nside (a power of two); with --fsky gives the observed pixels.")
    var nside: Int?

    @Option(help: "Observed sky fraction in (0, 1], with --nside: n_obs = round(12 x nside^2 x fsky).")
    var fsky: SkyFraction?

    @Option(name: .customLong("from-comment"), help: "Read the dimensions from a job comment's 'qube:' section (flags given too override it).")
    var fromComment: String?

    @Option(name: .customLong("qube-config"), help: ArgumentHelp(
        "QUBE's own YAML run config (as given to qube-fisher-run or qube-run): every dimension is derived from it and its mask as QUBE does, including the CLI's automatic path pick (flags given too override it).",
        valueName: "file.yaml"))
    var qubeConfig: String?

    @Option(name: .customLong("mask"), help: ArgumentHelp(
        "With --qube-config: the run's HEALPix FITS mask (default: the config's maskfile, relative to the working directory, as QUBE opens it).",
        valueName: "file.fits"))
    var mask: String?

    /// The QUBE YAML run of `--qube-config`, read with its mask and derived as QUBE would.
    /// - Returns: nil without `--qube-config`.
    /// - Throws: `CLIError.input` naming the config or mask file and the problem.
    func loadQubeConfig() throws -> LoadedQubeConfig? {
        guard let qubeConfig else {
            if mask != nil { throw ValidationError("Please give --mask together with --qube-config.") }
            return nil
        }
        if fromComment != nil { throw ValidationError("Please give either --qube-config or --from-comment, not both.") }
        return try LoadedQubeConfig.load(config: qubeConfig, mask: mask, model: model)
    }

    /// The run these flags describe.
    /// - Parameter loaded: the `--qube-config` run, when the caller has read it already.
    /// - Throws: `CLIError.badComment` when `--from-comment` does not parse; `CLIError.input`
    ///   when `--qube-config` or its mask cannot be used.
    func runSpec(loaded: LoadedQubeConfig? = nil) throws -> RunSpec {
        var spec = RunSpec()
        if let run = try loaded ?? loadQubeConfig() {
            spec = run.derived.spec
        }
        if let comment = fromComment {
            switch QubeComment.parse(comment) {
            case nil: throw CLIError.noQubeSection(comment: comment)
            case let .failure(error)?: throw CLIError.badComment(error)
            case let .success(parsed)?: spec = parsed
            }
        }
        if let model { spec.model = model }
        if let path { spec.path = path }
        if let nPix { spec.nPix = nPix }
        if let workingDim { spec.workingDim = workingDim }
        if let lmaxSignal { spec.lmaxSignal = lmaxSignal }
        if let nModes { spec.nModes = nModes }
        if let lmax { spec.lmax = lmax }
        if keepPixelProjector { spec.keepPixelProjector = true }
        if let nBins { spec.nBins = nBins }
        if let nParams { spec.nParams = nParams }
        if cacheDerivatives { spec.cacheDerivatives = true }
        if noSwitch { spec.hasSwitch = false }
        if let fields { spec.fields = fields }
        if let nObs { spec.nObs = nObs }
        if let nside { spec.nside = nside }
        if let fsky { spec.fskyMillionths = fsky.millionths }
        return spec
    }
}

/// A QUBE YAML run read by `--qube-config`: the file, the mask used, and what QUBE derives.
struct LoadedQubeConfig {
    var file: QubeConfigFile
    var maskPath: String
    var derived: DerivedRun

    /// Reads a QUBE YAML config and its mask and derives the run as QUBE would.
    /// - Parameters:
    ///   - mask: the mask to read instead of the config's `maskfile`.
    ///   - model: the model version to name in the run's spec (nil: the site's default).
    /// - Throws: `CLIError.input` naming the config or mask file and the problem.
    static func load(config path: String, mask: String?, model: ModelVersion?) throws -> LoadedQubeConfig {
        do {
            let file = try QubeConfigFile.read(path: path)
            let maskPath = mask ?? file.maskfile
            var config = file.config
            if config.spins.allSatisfy({ $0 == 0 || $0 == 2 }), !config.spins.isEmpty,
               config.spins.count <= FieldSet.maxFields
            {
                guard FileManager.default.fileExists(atPath: maskPath) else {
                    throw InputError.unreadable(
                        path: maskPath,
                        why: "no such mask file (maskfile of '\(path)'; QUBE opens it relative to the working directory; --mask gives another)")
                }
                config.nObs = try HealpixMask.unmaskedPixels(path: maskPath, nside: config.nside, spins: config.spins)
            }
            switch config.derive(model: model) {
            case let .success(derived):
                return LoadedQubeConfig(file: file, maskPath: maskPath, derived: derived)
            case let .failure(error):
                throw InputError.derivation(path: path, error: error)
            }
        } catch let error as InputError {
            throw CLIError.input(error)
        }
    }
}

/// The request policy flags shared by the commands that turn a budget into a request.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The site's qubemem.conf (default: $QUBEMEM_CONF, else qubemem.conf beside $SLURM_CONF, else /etc/slurm/qubemem.conf, when present).",
        valueName: "file"))
    var config: String?

    @Option(help: "Multiplier on baseline + peak, up to 4 decimals (default 1.15, or the config's slack).")
    var slack: Slack?

    @Option(name: .customLong("interpreter-floor"), help: "Interpreter and imports, as bytes or with K/M/G suffix (default 256M).")
    var interpreterFloor: MemorySize?

    @Option(name: .customLong("input-covariances"), help: "Input covariances the run holds, each n_pix^2 x 8 bytes (default 1).")
    var inputCovariances: UInt64?

    @Flag(name: .customLong("reference-only"), help: "Price with QUBE's reference model alone, without qubemem's measured terms.")
    var referenceOnly = false

    /// The site configuration: the config file the plugin would read (or the documented
    /// defaults when there is none), with these flags applied to its policy.
    /// - Throws: `CLIError.config` when an explicit or present config file cannot be used.
    func siteConfig(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SiteConfig {
        var site = SiteConfig()
        if let path = configPath(environment) {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CLIError.config(path: path, message: "cannot read it: \(error.localizedDescription)")
            }
            switch SiteConfig.parse(text) {
            case let .success(parsed): site = parsed
            case let .failure(error): throw CLIError.config(path: path, message: "\(error)")
            }
        }
        applyFlags(to: &site.policy)
        return site
    }

    /// Overrides a policy's coefficients with the flags given on the command line.
    private func applyFlags(to policy: inout RequestPolicy) {
        if let slack { policy.slack = slack }
        if let interpreterFloor { policy.interpreterFloorBytes = interpreterFloor.bytes }
        if let inputCovariances { policy.inputCovariances = inputCovariances }
        if referenceOnly { policy.measuredTerms = false }
    }

    /// The request policy for commands that only price runs: `siteConfig()`'s.
    /// - Throws: `CLIError.config` when an explicit or present config file cannot be used: a
    ///   broken qubemem.conf is reported, never silently replaced by the defaults.
    func policy() throws -> RequestPolicy {
        try siteConfig().policy
    }

    /// The config file to read: explicit, else the plugin's own lookup, only if the file exists.
    func configPath(_ env: [String: String]) -> String? {
        if let config { return config }
        var candidates: [String] = []
        if let explicit = env["QUBEMEM_CONF"], !explicit.isEmpty { candidates.append(explicit) }
        if let slurm = env["SLURM_CONF"], let slash = slurm.lastIndex(of: "/") {
            candidates.append(String(slurm[..<slash]) + "/qubemem.conf")
        }
        candidates.append("/etc/slurm/qubemem.conf")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
