/// Which QUBE path to price: one of the two, or QUBE's own picker.
public enum PathChoice: String, Sendable, CaseIterable {
    case harmonic
    case pixelDirect = "pixel_direct"
    case auto
}

/// What a user says about a QUBE run: a `qube:` job comment or `qubemem predict`'s flags.
///
/// Every field is optional; `Predictor` derives what is missing by QUBE's own rules and reports
/// what it still needs. Counts are plain integers so that a bad value reaches validation and is
/// quoted back, rather than being lost in a conversion.
public struct RunSpec: Sendable, Equatable {
    public var model: ModelVersion?
    public var path: PathChoice?
    public var fields: FieldSet?
    /// Unmasked pixels per field.
    public var nObs: Int?
    public var nside: Int?
    /// Observed sky fraction in millionths (100 000 = 0.1).
    public var fskyMillionths: Int?
    public var nPix: Int?
    public var nModes: Int?
    public var lmaxSignal: Int?
    public var lmax: Int?
    public var workingDim: Int?
    public var nBins: Int?
    public var nParams: Int?
    /// Harmonic: keep the pixel projector V (legacy behaviour).
    public var keepPixelProjector: Bool?
    /// Pixel-direct, model 1.2+: `Fisher(cache_derivatives=True)`.
    public var cacheDerivatives: Bool?
    /// Pixel-direct, model 1.0: Core allocated S_fixed.
    public var hasSwitch: Bool?
    /// A cross run (QUBE's `do_cross`): a second noise covariance of n_pix² held all run.
    public var cross: Bool?
    /// How the noise covariance file is read: `full` prices QUBE's read of the full-sky
    /// covariance before reduction (`load_reduced: false`, the default of QUBE's YAML runs).
    /// Absent: not priced, as in comments written before this key existed.
    public var covarianceRead: CovarianceRead?

    public init() {}
}

/// How QUBE reads a noise covariance file (its `load_reduced` setting).
public enum CovarianceRead: String, Sendable, CaseIterable {
    /// `load_reduced: false`: the whole full-sky matrix, (maps × 12 nside²)² × 8 bytes, is read
    /// before the unmasked block is copied out (cosmocore's `read_covmat`).
    case full
    /// `load_reduced: true`: the file holds the reduced matrix already.
    case reduced
}
