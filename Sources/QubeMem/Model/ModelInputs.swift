/// Inputs to the harmonic-path budget, as QUBE's `BudgetConfig` takes them.
public struct HarmonicInputs: Sendable, Equatable {
    /// Total pixel count (2 × observed for spin-2 fields, 1 × for spin-0, summed).
    public var nPix: Int
    /// Total harmonic mode count after the V projection.
    public var nModes: Int
    /// Signal-covariance ceiling ℓ (the largest ℓ in V).
    public var lmaxSignal: Int
    /// Inference-window upper ℓ; below `lmaxSignal` it turns on QUBE's switch optimisation.
    public var lmax: Int?
    /// `false` reproduces the legacy keep-V behaviour (`--keep-pixel-projector`).
    public var releasePixelProjector: Bool
    /// A filter's rank (model 1.3 only); `nil` means no filter.
    public var workingDim: Int?

    public init(nPix: Int, nModes: Int, lmaxSignal: Int, lmax: Int? = nil,
                releasePixelProjector: Bool = true, workingDim: Int? = nil) {
        self.nPix = nPix
        self.nModes = nModes
        self.lmaxSignal = lmaxSignal
        self.lmax = lmax
        self.releasePixelProjector = releasePixelProjector
        self.workingDim = workingDim
    }

    /// Whether the switch optimisation is active: `lmax` given and below `lmaxSignal`.
    public var hasSwitch: Bool {
        guard let lmax else { return false }
        return lmax < lmaxSignal
    }
}

/// Inputs to the pixel-direct budget, as QUBE's `PixelDirectBudgetConfig` takes them.
public struct PixelDirectInputs: Sendable, Equatable {
    /// Total pixel count (the pointing count, which still sizes kernel buffers under a filter).
    public var nPix: Int
    /// Number of bandpower bins.
    public var nBins: Int
    /// Number of derivative parameters (bins × spectra in practice).
    public var nParams: Int
    /// Signal ceiling ℓ: required by model 1.0, provenance only from 1.2 on.
    public var lmaxSignal: Int?
    /// Model 1.0 only: Core allocated S_fixed before finding the path (`nil` = the reference's default, true).
    public var hasSwitch: Bool?
    /// Model 1.2 and later: `Fisher(cache_derivatives=True)` (`nil` = false).
    public var cacheDerivatives: Bool?
    /// A filter's rank (model 1.3 only); `nil` means no filter.
    public var workingDim: Int?

    public init(nPix: Int, nBins: Int, nParams: Int, lmaxSignal: Int? = nil,
                hasSwitch: Bool? = nil, cacheDerivatives: Bool? = nil, workingDim: Int? = nil) {
        self.nPix = nPix
        self.nBins = nBins
        self.nParams = nParams
        self.lmaxSignal = lmaxSignal
        self.hasSwitch = hasSwitch
        self.cacheDerivatives = cacheDerivatives
        self.workingDim = workingDim
    }
}

/// Why a budget could not be computed. Each case names the input and quotes its value.
public enum BudgetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reference model rejects this value (same rule as QUBE's own validation).
    case invalid(input: String, value: String, rule: String)
    /// The input is not part of this model version.
    case notInModel(input: String, model: ModelVersion, validIn: String)
    /// A required input is missing.
    case missing(input: String, why: String)
    /// A size derived from this input does not fit in 64 bits.
    case overflow(input: String, value: String)

    public var description: String {
        switch self {
        case let .invalid(input, value, rule):
            "invalid \(input) '\(value)': \(rule)"
        case let .notInModel(input, model, validIn):
            "\(input) is not an input of QUBE memory model \(model.rawValue); it exists in \(validIn)"
        case let .missing(input, why):
            "missing \(input): \(why)"
        case let .overflow(input, value):
            "\(input) '\(value)' is too large: the bytes it implies do not fit in 64 bits"
        }
    }
}
