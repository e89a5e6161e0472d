/// What a QUBE YAML run configuration says about memory, after QUBE's own defaults, with the
/// unmasked pixels of its mask: the input of `QubeRunConfig.derive`.
///
/// The reader of the YAML file and of the FITS mask lives outside this library (QubeMemInputs);
/// this type holds plain values so that the derivation is pure and testable.
public struct QubeRunConfig: Sendable, Equatable {
    /// HEALPix resolution (`nside`; QUBE's default 16).
    public var nside: Int = 16
    /// One spin per field, 0 or 2 (`spins`; default [0, 2]).
    public var spins: [Int] = [0, 2]
    /// Labels after QUBE's expansion ("QU" → Q, U); one per map component (`labels`).
    public var labelCount: Int = 3
    /// Unmasked pixels of each field (mask value > 0.5), in field order.
    public var nObs: [Int] = []
    /// The lowest ℓ of the signal covariance (smallest entry of `lmin_signal`; default 2).
    public var lminSignal: Int = 2
    /// Inference window (`lmin`, `lmax`; defaults 2 and 64).
    public var lmin: Int = 2
    public var lmax: Int = 64
    /// Signal ceiling (`lmax_signal`; nil: 4 × nside).
    public var lmaxSignal: Int?
    /// Uniform bin width (`delta_ell`; default 1), used when the explicit bins are not both given.
    public var deltaEll: Int = 1
    /// Explicit bins (`bin_lmins`, `bin_lmaxs`).
    public var binLmins: [Int]?
    public var binLmaxs: [Int]?
    /// Cross run (`do_cross`): two noise covariances, and QUBE's traditional path.
    public var doCross: Bool = false
    /// Covariance files already reduced (`load_reduced`; default false: the full-sky read).
    public var loadReduced: Bool = false

    public init() {}
}

/// The dimensions QUBE derives for a YAML run, and the `RunSpec` that prices it.
public struct DerivedRun: Sendable, Equatable {
    /// The fields as qubemem spells them (`T`, `QU`, `TQU`, `0+0+0`, ...).
    public var fields: FieldSet
    public var nObs: [Int]
    public var nPix: Int
    /// Modes at the effective ℓ (lmax when the window is narrowed, else lmax_signal).
    public var nModes: Int
    public var lmaxSignal: Int
    /// lmax after QUBE's clamp to lmax_signal.
    public var lmax: Int
    /// The bins QUBE's CLI path pick sees: max(lmax_signal − 1, 1) (the bins are set later).
    public var pickBins: Int
    /// The bins the Fisher run uses (`bin_lmins`/`bin_lmaxs`, else `delta_ell` from lmin to lmax).
    public var nBins: Int
    /// n_bins × spectra.
    public var nParams: Int
    /// The path QUBE's CLI takes: the automatic pick, or nil for the traditional path (`do_cross`).
    public var path: PipelinePath?
    /// The path that is priced: `path`, or pixel_direct for the traditional path (dense
    /// pixel-space matrices; QUBE's model has no traditional path).
    public var pricedPath: PipelinePath
    /// Bytes of the full-sky covariance read, when `load_reduced` is false.
    public var fullSkyCovarianceBytes: UInt64?
    /// Noise covariances the run reads: 2 for a cross run, else 1.
    public var covariances: Int
    /// What prices the run (a `qube:` comment carries it).
    public var spec: RunSpec
}

extension QubeRunConfig {
    /// Derives the run's dimensions as QUBE 1.3's CLI does (`Fisher(config).run()`):
    /// `_validate_multipole_range` (lmax clamped to lmax_signal), `_problem_dimensions`,
    /// `_auto_pick_method` with n_bins = max(lmax_signal − 1, 1), then the run's own bins.
    /// - Parameter model: the model to name in the spec (nil: the site's default).
    /// - Returns: the derived run, or the first value QUBE would refuse (named, quoted).
    public func derive(model: ModelVersion? = nil) -> Result<DerivedRun, BudgetError> {
        do {
            return .success(try deriveThrowing(model: model))
        } catch {
            return .failure(error)
        }
    }

    private func deriveThrowing(model: ModelVersion?) throws(BudgetError) -> DerivedRun {
        guard nside > 0, nside <= 1 << 29, nside & (nside - 1) == 0 else {
            throw .invalid(input: "nside", value: String(nside), rule: "must be a power of two from 1 to 2^29")
        }
        guard !spins.isEmpty, spins.count <= FieldSet.maxFields, spins.allSatisfy({ $0 == 0 || $0 == 2 }) else {
            throw .invalid(input: "spins", value: "\(spins)", rule: "one spin per field, each 0 or 2, at most \(FieldSet.maxFields) fields")
        }
        guard let fields = FieldSet.parse(spins.map(String.init).joined(separator: "+")) else {
            throw .invalid(input: "spins", value: "\(spins)", rule: "each spin must be 0 or 2")
        }
        guard UInt64(labelCount) == fields.components else {
            throw .invalid(input: "labels", value: "\(labelCount) label(s)",
                           rule: "spins \(spins) describe \(fields.components) map component(s); give one label per component")
        }
        guard nObs.count == spins.count else {
            throw .invalid(input: "maskfile", value: "\(nObs.count) field(s)", rule: "one unmasked-pixel count per field is needed")
        }
        guard let pixelsPerMap = Dimensions.pixels(nside: UInt64(nside)) else {
            throw .overflow(input: "nside", value: String(nside))
        }
        for (i, n) in nObs.enumerated() where n <= 0 || UInt64(n) > pixelsPerMap {
            throw .invalid(input: "maskfile", value: "\(n) unmasked pixels in field \(i)",
                           rule: "a field needs at least one unmasked pixel (value > 0.5), at most \(pixelsPerMap)")
        }
        let signal = lmaxSignal ?? 4 * nside
        guard signal >= 2 else {
            throw .invalid(input: "lmax_signal", value: String(signal), rule: "must be at least 2")
        }
        guard lminSignal >= 0, lminSignal <= signal, spins.allSatisfy({ lminSignal >= $0 }) else {
            throw .invalid(input: "lmin_signal", value: String(lminSignal), rule: "must be at least each field's spin and at most lmax_signal")
        }
        guard lmin >= lminSignal else {
            throw .invalid(input: "lmin", value: String(lmin), rule: "must be at least lmin_signal=\(lminSignal)")
        }
        let window = min(lmax, signal)  // QUBE clamps lmax to lmax_signal
        guard window >= lmin else {
            throw .invalid(input: "lmax", value: String(lmax), rule: "must not be below lmin=\(lmin)")
        }
        var total: UInt64 = 0
        for (spin, n) in zip(spins, nObs) {
            guard let part = Checked.mul(UInt64(n), spin == 2 ? 2 : 1), let sum = Checked.add(total, part),
                  sum <= UInt64(Int.max)
            else { throw .overflow(input: "nside", value: String(nside)) }
            total = sum
        }
        let nPix = Int(total)
        // The effective ℓ of the mode count: lmax when the inference window is narrowed (lmin above
        // lmin_signal or lmax below lmax_signal), else lmax_signal; both are `window` here.
        let narrowed = lmin > lminSignal || window < signal
        let ell = narrowed ? window : signal
        guard ell >= 2 else {
            throw .invalid(input: "lmax", value: String(ell), rule: "must be at least 2 to count harmonic modes")
        }
        guard let modes = Dimensions.nModes(fields: fields, ell: UInt64(ell)), modes <= UInt64(Int.max) else {
            throw .overflow(input: "lmax_signal", value: String(signal))
        }
        let pickBins = max(signal - 1, 1)
        let path: PipelinePath? = doCross
            ? nil : Dimensions.pickPath(nModes: modes, nPix: UInt64(nPix), nBins: UInt64(pickBins))
        let bins = try binCount(window: window)
        guard let params = Checked.mul(UInt64(bins), fields.spectra), params <= UInt64(Int.max) else {
            throw .overflow(input: "bins", value: String(bins))
        }
        var fullSky: UInt64? = nil
        if !loadReduced {
            guard let bytes = MeasuredTerms.fullSkyCovarianceBytes(fields: fields, nside: UInt64(nside)) else {
                throw .overflow(input: "nside", value: String(nside))
            }
            fullSky = bytes
        }
        let priced = path ?? .pixelDirect
        var spec = RunSpec()
        spec.model = model
        spec.path = priced == .harmonic ? .harmonic : .pixelDirect
        spec.fields = fields
        if let first = nObs.first, nObs.allSatisfy({ $0 == first }) {
            spec.nObs = first
        } else {
            spec.nPix = nPix  // fields differ in their unmasked pixels: the total carries them exactly
        }
        spec.nside = nside
        spec.lmaxSignal = signal
        spec.lmax = window
        spec.nBins = bins
        if doCross { spec.cross = true }
        spec.covarianceRead = loadReduced ? .reduced : .full
        return DerivedRun(
            fields: fields, nObs: nObs, nPix: nPix, nModes: Int(modes), lmaxSignal: signal, lmax: window,
            pickBins: pickBins, nBins: bins, nParams: Int(params), path: path, pricedPath: priced,
            fullSkyCovarianceBytes: fullSky, covariances: doCross ? 2 : 1, spec: spec)
    }

    /// QUBE's bins: `Bins(bin_lmins, bin_lmaxs)` (bins below ℓ = 2 dropped) when both are
    /// given, else `Bins.fromdeltal(lmin, lmax, delta_ell)`.
    private func binCount(window: Int) throws(BudgetError) -> Int {
        if let lows = binLmins, let highs = binLmaxs {
            guard lows.count == highs.count else {
                throw .invalid(input: "bin_lmins", value: "\(lows.count) entries",
                               rule: "bin_lmins and bin_lmaxs must have the same length (bin_lmaxs has \(highs.count))")
            }
            var kept = 0
            for (lo, hi) in zip(lows, highs) {
                guard lo <= hi else {
                    throw .invalid(input: "bin_lmins", value: String(lo), rule: "a bin's lmin must not exceed its lmax (\(hi))")
                }
                if lo >= 2, hi >= 2 { kept += 1 }
            }
            guard kept > 0 else {
                throw .invalid(input: "bin_lmins", value: "\(lows)", rule: "no bin lies at ℓ ≥ 2")
            }
            return kept
        }
        guard deltaEll >= 1 else {
            throw .invalid(input: "delta_ell", value: String(deltaEll), rule: "must be a positive whole number")
        }
        let bins = (window - lmin + 1) / deltaEll
        guard bins >= 1 else {
            throw .invalid(input: "delta_ell", value: String(deltaEll),
                           rule: "gives no bin between lmin=\(lmin) and lmax=\(window)")
        }
        return bins
    }
}
