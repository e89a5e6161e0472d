public import QubeMem

/// Why a QUBE run's own input files cannot be used. Every message names the file.
public enum InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be opened or read.
    case unreadable(path: String, why: String)
    /// The config is not YAML, or not a mapping of keys to values.
    case notYAML(path: String, why: String)
    /// A key QUBE reads has a value of the wrong type.
    case wrongType(path: String, key: String, line: Int?, value: String, expected: String)
    /// The mask is not a FITS file with a binary-table HEALPix map.
    case maskNotFITS(path: String, why: String)
    /// The mask's pixel count is not 12 × nside² for the config's nside.
    case maskNside(path: String, pixels: Int, nside: Int)
    /// The mask has fewer map columns than the config's fields need.
    case maskColumns(path: String, columns: Int, needed: Int)
    /// A field of the mask has no unmasked pixel.
    case maskEmpty(path: String, column: Int)
    /// The Q and U columns of one spin-2 field mask different pixels (QUBE refuses it).
    case maskSpin2Differs(path: String, columns: (Int, Int))
    /// No CFITSIO library could be loaded to read the mask.
    case cfitsioMissing(why: String)
    /// The config's values are refused by QUBE's own rules.
    case derivation(path: String, error: BudgetError)

    public static func == (a: InputError, b: InputError) -> Bool { a.description == b.description }

    public var description: String {
        switch self {
        case let .unreadable(path, why):
            "'\(path)': cannot read it: \(why)"
        case let .notYAML(path, why):
            "'\(path)': not a QUBE YAML config: \(why)"
        case let .wrongType(path, key, line, value, expected):
            "'\(path)'\(line.map { ", line \($0)" } ?? ""): \(key) is '\(value)', expected \(expected)"
        case let .maskNotFITS(path, why):
            "mask '\(path)': not a HEALPix FITS map: \(why)"
        case let .maskNside(path, pixels, nside):
            "mask '\(path)': has \(pixels) pixels per map\(Self.nsideOf(pixels).map { " (nside \($0))" } ?? ""), but the config's nside \(nside) needs \(Self.pixelsOf(nside).map(String.init) ?? "more than fit in 64 bits")"
        case let .maskColumns(path, columns, needed):
            "mask '\(path)': has \(columns) map column(s), the config's fields need \(needed) (one per component: T, Q, U)"
        case let .maskEmpty(path, column):
            "mask '\(path)': column \(column + 1) has no unmasked pixel (none above 0.5); QUBE needs at least one per field"
        case let .maskSpin2Differs(path, columns):
            "mask '\(path)': columns \(columns.0 + 1) and \(columns.1 + 1) are the Q and U of one spin-2 field but mask different pixels; QUBE refuses such a mask"
        case let .cfitsioMissing(why):
            "reading a FITS mask needs CFITSIO (Debian: apt-get install libcfitsio-dev): \(why)"
        case let .derivation(path, error):
            "'\(path)': \(error)"
        }
    }

    /// 12 × nside², or nil when it does not fit.
    private static func pixelsOf(_ nside: Int) -> Int? {
        let (square, o1) = nside.multipliedReportingOverflow(by: nside)
        let (pixels, o2) = square.multipliedReportingOverflow(by: 12)
        return o1 || o2 ? nil : pixels
    }

    private static func nsideOf(_ pixels: Int) -> Int? {
        var n = 1
        while 12 * n * n < pixels, n < 1 << 29 { n *= 2 }
        return 12 * n * n == pixels ? n : nil
    }
}
