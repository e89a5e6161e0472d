/// Errors from `Predictor`: the same cases as the model's, each naming its input.
public typealias PredictionError = BudgetError

/// The dimensions a prediction was made from, after QUBE's derivation rules.
public struct ResolvedConfig: Sendable, Equatable {
    public var model: ModelVersion
    public var fields: FieldSet?
    public var nObs: Int?
    public var nPix: Int
    public var nModes: Int?
    public var lmaxSignal: Int?
    public var lmax: Int?
    public var workingDim: Int?
    public var nBins: Int?
    public var nParams: Int?
    public var releasePixelProjector: Bool
    public var cacheDerivatives: Bool?
    public var hasSwitch: Bool?
    /// A cross run (`cross=yes`): QUBE's traditional path with two noise covariances.
    public var cross: Bool = false
    /// Noise covariances held as inputs (the policy's, plus one for a cross run).
    public var inputCovariances: UInt64 = 1
    /// The full-sky covariance read priced in covariance_setup (`cov_read=full`), bytes.
    public var fullSkyCovarianceBytes: UInt64?
}

/// The other path's cost, reported when the path was picked automatically.
public struct AlternativeCost: Sendable, Equatable {
    public var path: PipelinePath
    /// Lifetime peak above baseline, bytes (qubemem's extended model).
    public var peakBytes: UInt64
    /// The request it would need, MiB per node.
    public var requestMiB: UInt64
}

/// A priced QUBE run: the reference budget, qubemem's extended budget, and the request.
public struct Prediction: Sendable, Equatable {
    public var model: ModelVersion
    public var path: PipelinePath
    /// Whether `path` came from QUBE's picker (`path=auto`).
    public var pathWasPicked: Bool
    public var config: ResolvedConfig
    /// QUBE's own model, term for term.
    public var reference: Budget
    /// The reference plus qubemem's measured terms (identical when they are turned off).
    public var budget: Budget
    /// Lifetime peak above baseline of `budget`, bytes.
    public var peakBytes: UInt64
    /// Interpreter floor plus input covariances, bytes.
    public var baselineBytes: UInt64
    /// baseline + peak, bytes.
    public var totalBytes: UInt64
    /// The slack applied.
    public var slack: Slack
    /// ceil(total × slack / 2^20): memory per node, MiB.
    public var requestMiB: UInt64
    /// The other path, when the path was picked and the other path could be priced.
    public var alternative: AlternativeCost?
    /// The job's task layout the node was priced for.
    public var layout: TaskLayout
    /// The busiest node for that layout, rank by rank (for one rank: `totalBytes` and
    /// `requestMiB` again). The request a job needs is `node.requestMiB`.
    public var node: NodeBudget
}

/// Turns what a user said about a run into a budget and a memory request.
public enum Predictor {
    /// Prices a run under a policy.
    /// - Parameters:
    ///   - priceAlternative: with `path=auto`, also price the path QUBE's picker did not choose
    ///     (for reports; the plugin, which needs only the chosen path, turns it off).
    /// - Returns: the prediction, or the first input that is missing, invalid or too large.
    ///   - layout: the job's MPI ranks on nodes (default: one process).
    public static func predict(_ spec: RunSpec, policy: RequestPolicy, layout: TaskLayout = .singleRank,
                               priceAlternative: Bool = true) -> Result<Prediction, PredictionError> {
        do {
            return .success(try predictThrowing(spec, policy: policy, layout: layout,
                                                priceAlternative: priceAlternative))
        } catch {
            return .failure(error)
        }
    }

    /// `predict` with a typed throw (no `Result` to build and destroy on the plugin's path).
    static func predictThrowing(_ spec: RunSpec, policy: RequestPolicy, layout: TaskLayout = .singleRank,
                                priceAlternative: Bool) throws(PredictionError) -> Prediction {
        let config = try resolve(spec, policy: policy)
        var choice = spec.path ?? .auto
        if spec.cross == true {
            // QUBE runs a cross analysis on its traditional path (no computation basis), priced as
            // pixel-direct: there is no pick to make.
            guard choice != .harmonic else {
                throw .invalid(input: "path", value: "harmonic",
                               rule: "a cross run (cross=yes) takes QUBE's traditional path, priced as pixel_direct; leave path out or give pixel_direct")
            }
            choice = .pixelDirect
        }
        var picked = false
        let path: PipelinePath
        switch choice {
        case .harmonic: path = .harmonic
        case .pixelDirect: path = .pixelDirect
        case .auto:
            guard let nModes = config.nModes else {
                throw .missing(input: "n_modes", why: "path=auto compares both paths; give n_modes, or fields with lmax_signal (or nside), or choose path=pixel_direct")
            }
            let bins = spec.nBins ?? config.lmaxSignal.map { Int(Dimensions.defaultBins(ell: UInt64(max($0, 0)))) } ?? 1
            path = Dimensions.pickPath(nModes: UInt64(max(nModes, 0)), nPix: UInt64(max(config.nPix, 0)),
                                       nBins: UInt64(max(bins, 0)))
            picked = true
        }
        let priced = try price(config, path: path, policy: policy)
        var alternative: AlternativeCost? = nil
        if picked, priceAlternative {
            let other: PipelinePath = path == .harmonic ? .pixelDirect : .harmonic
            if let alt = try? price(config, path: other, policy: policy) {
                alternative = AlternativeCost(path: other, peakBytes: alt.peak, requestMiB: alt.request)
            }
        }
        let single = NodeBudget(
            ranks: 1, perCPU: false, cpusPerRank: 1, rankFloorBytes: policy.interpreterFloorBytes,
            rankZero: .init(setup: priced.total, broadcast: priced.total, run: priced.total),
            furtherRank: .init(setup: 0, broadcast: 0, run: 0),
            node: .init(setup: priced.total, broadcast: priced.total, run: priced.total),
            totalBytes: priced.total, requestMiB: priced.request)
        var prediction = Prediction(
            model: config.model, path: path, pathWasPicked: picked, config: config,
            reference: priced.reference, budget: priced.budget, peakBytes: priced.peak,
            baselineBytes: priced.baseline, totalBytes: priced.total, slack: policy.slack,
            requestMiB: priced.request, alternative: alternative, layout: layout, node: single)
        if layout != .singleRank {
            guard let node = NodeBudget.price(prediction, layout: layout, policy: policy) else {
                throw .overflow(input: "ntasks", value: String(layout.tasks ?? layout.tasksPerNode ?? 0))
            }
            prediction.node = node
        }
        return prediction
    }

    private struct Priced {
        var reference: Budget
        var budget: Budget
        var peak: UInt64
        var baseline: UInt64
        var total: UInt64
        var request: UInt64
    }

    private static func price(_ c: ResolvedConfig, path: PipelinePath, policy: RequestPolicy) throws(PredictionError) -> Priced {
        let reference: Budget
        switch path {
        case .harmonic:
            guard let nModes = c.nModes else {
                throw .missing(input: "n_modes", why: "the harmonic path needs n_modes, or fields with lmax_signal (or nside)")
            }
            guard let lmaxSignal = c.lmaxSignal else {
                throw .missing(input: "lmax_signal", why: "the harmonic path needs lmax_signal (or nside, for 4 × nside)")
            }
            reference = try ReferenceModel.harmonicBudget(
                HarmonicInputs(nPix: c.nPix, nModes: nModes, lmaxSignal: lmaxSignal, lmax: c.lmax,
                               releasePixelProjector: c.releasePixelProjector, workingDim: c.workingDim),
                model: c.model)
        case .pixelDirect:
            guard let nBins = c.nBins else {
                throw .missing(input: "n_bins", why: "the pixel-direct path needs n_bins, or lmax or lmax_signal for one bin per multipole")
            }
            guard let nParams = c.nParams else {
                throw .missing(input: "n_params", why: "the pixel-direct path needs n_params, or fields (n_params = n_bins × spectra)")
            }
            reference = try ReferenceModel.pixelDirectBudget(
                PixelDirectInputs(nPix: c.nPix, nBins: nBins, nParams: nParams, lmaxSignal: c.lmaxSignal,
                                  hasSwitch: c.model == .v1_0 ? c.hasSwitch : nil,
                                  cacheDerivatives: c.model == .v1_0 ? nil : c.cacheDerivatives,
                                  workingDim: c.workingDim),
                model: c.model)
        }
        let nPix = UInt64(max(c.nPix, 0))
        var budget = reference
        if policy.measuredTerms {
            var crossBytes: UInt64? = nil
            if c.cross, let nParams = c.nParams {
                guard let bytes = Checked.matrix(UInt64(max(c.nPix, 0)), UInt64(max(c.nPix, 0))).flatMap({
                    Checked.mul($0, UInt64(max(nParams, 0)))
                }) else { throw .overflow(input: "n_params", value: String(nParams)) }
                crossBytes = bytes
            }
            guard let extended = MeasuredTerms.extend(reference, nModes: c.nModes.map { UInt64(max($0, 0)) },
                                                      fullSkyCovarianceBytes: c.fullSkyCovarianceBytes,
                                                      crossDerivativeBytes: crossBytes)
            else {
                throw .overflow(input: "n_modes", value: c.nModes.map(String.init) ?? "?")
            }
            budget = extended
        }
        guard let covariance = Checked.matrix(nPix, nPix),
              let inputs = Checked.mul(covariance, c.inputCovariances),
              let baseline = Checked.add(policy.interpreterFloorBytes, inputs),
              let total = Checked.add(baseline, budget.lifetimePeakBytes),
              let request = policy.slack.scaledMiB(total)
        else { throw .overflow(input: "n_pix", value: String(c.nPix)) }
        return Priced(reference: reference, budget: budget, peak: budget.lifetimePeakBytes,
                      baseline: baseline, total: total, request: request)
    }

    /// Model 1.0's has_switch: as given; else whether the inference window is narrowed when both
    /// ℓ are known; else the reference's default, true.
    private static func impliedSwitch(_ s: RunSpec, _ lmaxSignal: Int?) -> Bool {
        if let given = s.hasSwitch { return given }
        if let lmax = s.lmax, let lmaxSignal { return lmax < lmaxSignal }
        return true
    }

    /// Applies QUBE's derivation rules (docs/facts.md §2) to fill in what the spec leaves out.
    static func resolve(_ s: RunSpec, policy: RequestPolicy) throws(PredictionError) -> ResolvedConfig {
        let model = s.model ?? policy.defaultModel
        if let nside = s.nside, nside <= 0 || nside > 1 << 29 || nside & (nside - 1) != 0 {
            throw .invalid(input: "nside", value: String(nside), rule: "must be a power of two from 1 to 2^29")
        }
        var nObs = s.nObs
        if nObs == nil, let nside = s.nside, let fsky = s.fskyMillionths {
            guard fsky > 0, fsky <= 1_000_000 else {
                throw .invalid(input: "fsky", value: QubeComment.formatMillionths(fsky), rule: "must be in (0, 1]")
            }
            guard let n = Dimensions.observedPixels(nside: UInt64(nside), fskyMillionths: UInt64(fsky)) else {
                throw .overflow(input: "nside", value: String(nside))
            }
            nObs = Int(n)
        }
        let nPix: Int
        if let given = s.nPix {
            nPix = given
        } else if let nObs {
            guard let fields = s.fields else {
                throw .missing(input: "fields", why: "n_pix is derived from fields and n_obs; give fields (T, QU, TQU) or n_pix")
            }
            guard nObs > 0 else { throw .invalid(input: "n_obs", value: String(nObs), rule: "must be positive") }
            guard let n = Dimensions.nPix(fields: fields, nObs: UInt64(nObs)), n <= UInt64(Int.max) else {
                throw .overflow(input: "n_obs", value: String(nObs))
            }
            nPix = Int(n)
        } else {
            throw .missing(input: "n_pix", why: "give n_pix, or fields with n_obs, or fields with nside and fsky")
        }
        let lmaxSignal = s.lmaxSignal ?? s.nside.map { $0 * 4 }
        if let lmax = s.lmax, lmax <= 0 {
            throw .invalid(input: "lmax", value: String(lmax), rule: "must be positive")
        }
        if let lmax = s.lmax, let lmaxSignal, lmax > lmaxSignal {
            throw .invalid(input: "lmax", value: String(lmax), rule: "must not exceed lmax_signal=\(lmaxSignal)")
        }
        var nModes = s.nModes
        if nModes == nil, let fields = s.fields, let lmaxSignal, lmaxSignal > 0 {
            let ell = min(s.lmax ?? lmaxSignal, lmaxSignal)
            guard ell >= 2 else {
                throw .invalid(input: "lmax", value: String(ell), rule: "must be at least 2 to derive n_modes (monopole and dipole are excluded)")
            }
            guard let n = Dimensions.nModes(fields: fields, ell: UInt64(ell)), n <= UInt64(Int.max) else {
                throw .overflow(input: "lmax_signal", value: String(lmaxSignal))
            }
            nModes = Int(n)
        }
        var nBins = s.nBins
        if nBins == nil, let ell = s.lmax ?? lmaxSignal, ell > 0 {
            nBins = Int(Dimensions.defaultBins(ell: UInt64(ell)))
        }
        var nParams = s.nParams
        if nParams == nil, let fields = s.fields, let nBins, nBins > 0 {
            guard let n = Checked.mul(UInt64(nBins), fields.spectra), n <= UInt64(Int.max) else {
                throw .overflow(input: "n_bins", value: String(nBins))
            }
            nParams = Int(n)
        }
        if model < .v1_3, s.workingDim != nil {
            throw .notInModel(input: "working_dim", model: model, validIn: "model 1.3")
        }
        if model == .v1_0, s.cacheDerivatives != nil {
            throw .notInModel(input: "cache_derivatives", model: model, validIn: "models 1.2 and 1.3")
        }
        if model != .v1_0, s.hasSwitch != nil {
            throw .notInModel(input: "switch (has_switch)", model: model, validIn: "model 1.0")
        }
        var fullSky: UInt64? = nil
        if s.covarianceRead == .full {
            guard let fields = s.fields, let nside = s.nside else {
                throw .missing(input: "nside", why: "cov_read=full prices the full-sky covariance, (maps × 12 nside²)² × 8 bytes; give fields and nside")
            }
            guard let bytes = MeasuredTerms.fullSkyCovarianceBytes(fields: fields, nside: UInt64(nside)) else {
                throw .overflow(input: "nside", value: String(nside))
            }
            fullSky = bytes
        }
        let (covariances, o) = policy.inputCovariances.addingReportingOverflow(s.cross == true ? 1 : 0)
        if o { throw .overflow(input: "input_covariances", value: String(policy.inputCovariances)) }
        return ResolvedConfig(
            model: model, fields: s.fields, nObs: nObs, nPix: nPix, nModes: nModes, lmaxSignal: lmaxSignal,
            lmax: s.lmax, workingDim: s.workingDim, nBins: nBins, nParams: nParams,
            releasePixelProjector: !(s.keepPixelProjector ?? false),
            cacheDerivatives: s.cacheDerivatives, hasSwitch: model == .v1_0 ? impliedSwitch(s, lmaxSignal) : nil,
            cross: s.cross == true, inputCovariances: covariances, fullSkyCovarianceBytes: fullSky)
    }
}
