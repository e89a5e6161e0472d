/// The `qube:` job-comment grammar, version 1 (docs/design.md): the one reader and writer of it.
/// This file reads; beside it are the keys (`QubeCommentKey.swift`), their values
/// (`CommentValues.swift`, `CommentWords.swift`), the writer (`QubeCommentRender.swift`) and the
/// errors (`CommentError.swift`).
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
}
