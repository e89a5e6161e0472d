// The keys of the `qube:` grammar: each one's spelling, bit and valid values.

extension QubeComment {
    /// The keys of the grammar, with what each accepts.
    public enum Key: Int, CaseIterable, Sendable {
        // The raw value is the key's bit in a set of seen keys; `staticName` is its one spelling.
        case model, path, fields
        case nObs, nside, fsky
        case nPix, nModes
        case lmaxSignal, lmax
        case workingDim, nBins, nParams
        case keepV, cache, `switch`
        case cross, covRead

        /// The key spelled by these bytes, matched without building a `String`.
        ///
        /// A loop over the raw values, each compared by length first: no table to keep in step
        /// with the cases, and no allocation (`allCases` would build an array per call).
        init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
            var raw = 0
            while let key = Key(rawValue: raw) {
                if ByteText.equal(bytes, key.staticName) { self = key; return }
                raw &+= 1
            }
            return nil
        }

        /// The key as written in a comment.
        public var name: String { staticName.description }

        /// The key as written in a comment, as a static string.
        var staticName: StaticString {
            switch self {
            case .model: "model"
            case .path: "path"
            case .fields: "fields"
            case .nObs: "n_obs"
            case .nside: "nside"
            case .fsky: "fsky"
            case .nPix: "n_pix"
            case .nModes: "n_modes"
            case .lmaxSignal: "lmax_signal"
            case .lmax: "lmax"
            case .workingDim: "working_dim"
            case .nBins: "n_bins"
            case .nParams: "n_params"
            case .keepV: "keep_v"
            case .cache: "cache"
            case .switch: "switch"
            case .cross: "cross"
            case .covRead: "cov_read"
            }
        }

        /// This key's bit in a set of seen keys. Always inlined: the reader asks once per pair, and
        /// the optimiser left it out of line once the keys had a file of their own.
        @inline(__always)
        var bit: UInt32 { 1 << UInt32(truncatingIfNeeded: rawValue) }

        /// A short statement of the valid values.
        public var valid: String {
            switch self {
            case .model: ModelVersion.validSpellings
            case .path: "harmonic, pixel_direct or auto"
            case .fields: FieldSet.validSpellings
            case .fsky: "a decimal in (0, 1] with at most 6 decimals, such as 0.1"
            case .keepV, .cache, .switch, .cross: "yes/no, true/false, on/off or 1/0"
            case .covRead: "full or reduced"
            default: "a whole number from 1 to \(maxCount)"
            }
        }
    }

    /// Largest count the grammar accepts; larger values are certain to overflow the model.
    public static let maxCount = 999_999_999_999_999
}
