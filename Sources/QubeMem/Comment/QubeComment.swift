/// The `qube:` job-comment grammar, version 1 (docs/design.md): the one reader and writer of it.
///
/// The section starts at the first `qube:` that opens the comment or follows whitespace, and
/// ends at the next `;` or the end of the comment. Inside it, `key=value` pairs are separated by
/// spaces, tabs, newlines or commas. Text outside the section is never read.
public enum QubeComment {
    /// The marker that opens a qube section.
    public static let marker = "qube:"
    /// Pairs in one section, at most.
    public static let maxPairs = 32
    /// Bytes in one `key=value` token, at most.
    public static let maxTokenBytes = 96

    /// Parses a job comment.
    /// - Returns: `nil` when the comment has no `qube:` section (it is not ours); otherwise the
    ///   spec, or the first error, which quotes the offending token.
    public static func parse(_ comment: String) -> Result<RunSpec, CommentError>? {
        var text = comment
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// Parses a job comment given as raw bytes (any bytes, not necessarily UTF-8).
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<RunSpec, CommentError>? {
        do {
            guard let spec = try parseSpec(utf8: bytes) else { return nil }
            return .success(spec)
        } catch {
            return .failure(error)
        }
    }

    /// `parse(utf8:)` with a typed throw: `nil` when the comment has no `qube:` section. The
    /// plugin's path: no `Result` of a non-trivial error is built (or destroyed) when all is well.
    static func parseSpec(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(CommentError) -> RunSpec? {
        guard let start = findSection(bytes) else { return nil }
        var spec = RunSpec()
        var seen: UInt32 = 0  // one bit per Key, by its position in allCases
        var pairs = 0
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ";") { break }
            if isSeparator(b) { i += 1; continue }
            var end = i
            while end < bytes.count, !isSeparator(bytes[end]), bytes[end] != UInt8(ascii: ";") { end += 1 }
            let token = UnsafeBufferPointer(rebasing: bytes[i..<end])
            i = end
            pairs += 1
            if pairs > maxPairs { throw .tooManyPairs(limit: maxPairs) }
            if token.count > maxTokenBytes { throw .tokenTooLong(token: quote(token), limit: maxTokenBytes) }
            guard let eq = token.firstIndex(of: UInt8(ascii: "=")) else {
                throw .notAPair(token: quote(token))
            }
            let keyBytes = UnsafeBufferPointer(rebasing: token[..<eq])
            let valueBytes = UnsafeBufferPointer(rebasing: token[(eq + 1)...])
            guard let k = Key(utf8: keyBytes) else { throw .unknownKey(token: quote(token)) }
            guard seen & k.bit == 0 else { throw .duplicateKey(key: k.name) }
            seen |= k.bit
            guard !valueBytes.isEmpty, valueBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .badValue(key: k.name, value: quote(valueBytes), valid: k.valid)
            }
            guard assign(k, valueBytes, to: &spec) else {
                throw .badValue(key: k.name, value: String(decoding: valueBytes, as: UTF8.self), valid: k.valid)
            }
        }
        if pairs == 0 { throw .emptySection }
        return spec
    }

    /// The comment that carries `spec`: `qube:` followed by its pairs in canonical order.
    public static func render(_ spec: RunSpec) -> String {
        var parts = [marker]
        func add(_ key: Key, _ value: String?) { if let value { parts.append("\(key.name)=\(value)") } }
        func flag(_ v: Bool?) -> String? { v.map { $0 ? "yes" : "no" } }
        add(.model, spec.model?.rawValue)
        add(.path, spec.path?.rawValue)
        add(.fields, spec.fields?.description)
        add(.nObs, spec.nObs.map(String.init))
        add(.nside, spec.nside.map(String.init))
        add(.fsky, spec.fskyMillionths.map(formatMillionths))
        add(.nPix, spec.nPix.map(String.init))
        add(.nModes, spec.nModes.map(String.init))
        add(.lmaxSignal, spec.lmaxSignal.map(String.init))
        add(.lmax, spec.lmax.map(String.init))
        add(.workingDim, spec.workingDim.map(String.init))
        add(.nBins, spec.nBins.map(String.init))
        add(.nParams, spec.nParams.map(String.init))
        add(.keepV, flag(spec.keepPixelProjector))
        add(.cache, flag(spec.cacheDerivatives))
        add(.switch, flag(spec.hasSwitch))
        add(.cross, flag(spec.cross))
        add(.covRead, spec.covarianceRead?.rawValue)
        return parts.joined(separator: " ")
    }

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

        /// This key's bit in a set of seen keys.
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

    // MARK: - Internals

    private static func findSection(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let q = UInt8(ascii: "q")
        var i = 0
        while i + 5 <= bytes.count {
            if bytes[i] == q, i == 0 || isWhitespace(bytes[i - 1]),
               bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == UInt8(ascii: "b"),
               bytes[i + 3] == UInt8(ascii: "e"), bytes[i + 4] == UInt8(ascii: ":")
            {
                return i + 5  // the length of `marker`
            }
            i += 1
        }
        return nil
    }

    private static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    private static func isSeparator(_ b: UInt8) -> Bool {
        isWhitespace(b) || b == UInt8(ascii: ",")
    }

    /// Stores one value. - Returns: false when the value is not valid for the key.
    private static func assign(_ k: Key, _ value: UnsafeBufferPointer<UInt8>, to spec: inout RunSpec) -> Bool {
        switch k {
        case .model:
            guard let m = ModelVersion.parse(utf8: value) else { return false }
            spec.model = m
        case .path:
            guard let p = PathChoice(utf8: value) else { return false }
            spec.path = p
        case .fields:
            guard let f = FieldSet.parse(utf8: value) else { return false }
            spec.fields = f
        case .fsky:
            guard let f = parseMillionths(utf8: value), f > 0, f <= 1_000_000 else { return false }
            spec.fskyMillionths = f
        case .keepV, .cache, .switch, .cross:
            guard let b = parseBool(utf8: value) else { return false }
            switch k {
            case .keepV: spec.keepPixelProjector = b
            case .cache: spec.cacheDerivatives = b
            case .cross: spec.cross = b
            default: spec.hasSwitch = b
            }
        case .covRead:
            if ByteText.equal(value, "full") {
                spec.covarianceRead = .full
            } else if ByteText.equal(value, "reduced") {
                spec.covarianceRead = .reduced
            } else {
                return false
            }
        case .nObs, .nside, .nPix, .nModes, .lmaxSignal, .lmax, .workingDim, .nBins, .nParams:
            guard let n = parseCount(utf8: value) else { return false }
            switch k {
            case .nObs: spec.nObs = n
            case .nside: spec.nside = n
            case .nPix: spec.nPix = n
            case .nModes: spec.nModes = n
            case .lmaxSignal: spec.lmaxSignal = n
            case .lmax: spec.lmax = n
            case .workingDim: spec.workingDim = n
            case .nBins: spec.nBins = n
            default: spec.nParams = n
            }
        }
        return true
    }

    /// A whole number of at most 15 digits (zero is let through to the model's own check).
    static func parseCount(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { parseCount(utf8: $0) }
    }

    /// `parseCount` on bytes.
    static func parseCount(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        DecimalText.parse(bytes, limit: 999_999_999_999_999).map { Int($0) }
    }

    /// A decimal with at most 6 fractional digits and 6 whole ones, in millionths.
    public static func parseMillionths(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { parseMillionths(utf8: $0) }
    }

    /// `parseMillionths` on bytes.
    static func parseMillionths(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        DecimalText.fixedPoint(bytes, places: 6, limit: 999_999_999_999).map { Int($0) }
    }

    /// Millionths as the shortest decimal (100000 → "0.1").
    public static func formatMillionths(_ m: Int) -> String {
        let whole = m / 1_000_000
        var frac = String(m % 1_000_000)
        while frac.count < 6 { frac = "0" + frac }
        while frac.hasSuffix("0") { frac.removeLast() }
        return frac.isEmpty ? String(whole) : "\(whole).\(frac)"
    }

    static func parseBool(_ text: String) -> Bool? {
        var text = text
        return text.withUTF8 { parseBool(utf8: $0) }
    }

    /// A yes/no value (`ByteText.flag`: the rule qubemem.conf uses too).
    static func parseBool(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool? { ByteText.flag(bytes) }

    /// Quotes untrusted bytes for a message: printable ASCII as is, anything else as `\xNN`,
    /// cut at 64 bytes.
    static func quote(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out = ""
        let hex: [Character] = Array("0123456789abcdef")
        for (n, b) in bytes.enumerated() {
            if n == 64 { out += "…"; break }
            if b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                out += "\\x"
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}

/// Why a `qube:` section could not be read. Every message quotes the offending text.
public enum CommentError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptySection
    case notAPair(token: String)
    case unknownKey(token: String)
    case duplicateKey(key: String)
    case badValue(key: String, value: String, valid: String)
    case tooManyPairs(limit: Int)
    case tokenTooLong(token: String, limit: Int)

    public var description: String {
        let keys = QubeComment.Key.allCases.map(\.name).joined(separator: ", ")
        return switch self {
        case .emptySection:
            "'qube:' has no key=value pairs after it; write for example 'qube: fields=QU n_obs=4900 lmax=128'"
        case let .notAPair(token):
            "'\(token)' is not a key=value pair; the qube: section takes key=value pairs separated by spaces"
        case let .unknownKey(token):
            "unknown key in '\(token)'; valid keys are \(keys)"
        case let .duplicateKey(key):
            "key '\(key)' is given more than once; give each key at most once"
        case let .badValue(key, value, valid):
            "invalid value '\(value)' for \(key); valid: \(valid)"
        case let .tooManyPairs(limit):
            "the qube: section has more than \(limit) pairs"
        case let .tokenTooLong(token, limit):
            "'\(token)' is longer than \(limit) bytes"
        }
    }
}
