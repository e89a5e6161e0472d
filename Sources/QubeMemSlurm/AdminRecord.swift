/// The plugin's decision record in a job's AdminComment (version 1, docs/design.md).
///
///     qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=… baseline_bytes=… slack=1.15 request_mib=3456 user_mib=none
///
/// The plugin appends one record per decision (after `; ` when the AdminComment already held text);
/// the audit reads the last one. Unknown fields are ignored, as the contract allows fields to be added.
public struct AdminRecord: Equatable, Sendable {
    public var action: String
    public var model: String
    public var path: String
    /// Lifetime peak above baseline, bytes.
    public var peakBytes: UInt64
    /// Interpreter floor plus input covariances, bytes.
    public var baselineBytes: UInt64
    /// The slack multiplier as written, in ten-thousandths (1.15 → 11500).
    public var slackTenThousandths: UInt64
    /// The memory per node the job was given, MiB.
    public var requestMiB: UInt64
    /// What the user asked for, MiB per node, or nil for `none`.
    public var userMiB: UInt64?

    /// Predicted total = peak + baseline, bytes (nil on overflow).
    public var predictedTotalBytes: UInt64? {
        let (sum, overflow) = peakBytes.addingReportingOverflow(baselineBytes)
        return overflow ? nil : sum
    }

    /// What an AdminComment holds as far as qubemem is concerned.
    public enum Found: Equatable, Sendable {
        /// No `qubemem:` record (empty, or text from other tools only).
        case none
        /// The last record, parsed.
        case record(AdminRecord)
        /// The last record is the plugin's `action=warn`: it saw a qube comment it could not read
        /// and left the job as submitted (docs/design.md), so there is no prediction.
        case warned
        /// The last record is not a valid version-1 record; the text says why.
        case invalid(String)
    }

    /// The token that starts a record.
    static let marker = Array("qubemem:".utf8)

    /// Finds and parses the last qubemem record in an AdminComment.
    public static func find(in adminComment: String) -> Found {
        var text = adminComment
        return text.withUTF8 { find(in: $0) }
    }

    /// Finds and parses the last qubemem record in an AdminComment's bytes. Byte-level and
    /// allocation-light: the audit calls it once per job.
    public static func find(in bytes: UnsafeBufferPointer<UInt8>) -> Found {
        let m = marker.count
        guard bytes.count >= m else { return .none }
        var i = bytes.count - m
        while true {
            if bytes[i] == UInt8(ascii: "q") && (i == 0 || isSeparator(bytes[i - 1]))
                && UnsafeBufferPointer(rebasing: bytes[i..<(i + m)]).elementsEqual(marker)
            {
                var end = i
                while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
                return parseRecord(UnsafeBufferPointer(rebasing: bytes[i..<end]))
            }
            if i == 0 { return .none }
            i -= 1
        }
    }

    private static func isSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ";") || b == UInt8(ascii: ",")
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    private static let versionTag = Array("qubemem:v1".utf8)

    private static let keys: [[UInt8]] = [
        "action", "model", "path", "peak_bytes", "baseline_bytes", "slack", "request_mib", "user_mib",
    ].map { Array($0.utf8) }

    /// Parses one record starting at `qubemem:` and ending before `;` or at the end.
    static func parseRecord(_ r: UnsafeBufferPointer<UInt8>) -> Found {
        func text(_ a: Int, _ b: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: r[a..<b]), as: UTF8.self) }
        var i = 0
        while i < r.count && !isSpace(r[i]) { i += 1 }
        let headEnd = i
        guard UnsafeBufferPointer(rebasing: r[0..<headEnd]).elementsEqual(versionTag) else {
            return .invalid("unsupported record version '\(text(0, headEnd))'")
        }
        var values: [Range<Int>?] = Array(repeating: nil, count: keys.count)
        while i < r.count {
            while i < r.count && isSpace(r[i]) { i += 1 }
            if i >= r.count { break }
            let tokenStart = i
            var eq = -1
            while i < r.count && !isSpace(r[i]) {
                if eq < 0 && r[i] == UInt8(ascii: "=") { eq = i }
                i += 1
            }
            guard eq >= 0 else { return .invalid("field without '=': '\(text(tokenStart, i))'") }
            let key = UnsafeBufferPointer(rebasing: r[tokenStart..<eq])
            guard let k = keys.firstIndex(where: { key.elementsEqual($0) }) else { continue }  // later fields
            if values[k] != nil { return .invalid("field '\(text(tokenStart, eq))' given twice") }
            values[k] = (eq + 1)..<i
        }
        func value(_ k: Int) -> UnsafeBufferPointer<UInt8>? {
            values[k].map { UnsafeBufferPointer(rebasing: r[$0]) }
        }
        func shown(_ k: Int) -> String { values[k].map { text($0.lowerBound, $0.upperBound) } ?? "" }
        guard let action = value(0) else { return .invalid("missing field 'action'") }
        if action.elementsEqual("warn".utf8) { return .warned }
        guard let model = value(1) else { return .invalid("missing field 'model'") }
        guard let path = value(2) else { return .invalid("missing field 'path'") }
        guard let peak = value(3).flatMap(parseUInt64) else { return .invalid("bad or missing peak_bytes '\(shown(3))'") }
        guard let base = value(4).flatMap(parseUInt64) else {
            return .invalid("bad or missing baseline_bytes '\(shown(4))'")
        }
        guard let slack = value(5).flatMap({ parseDecimal4(String(decoding: $0, as: UTF8.self)) }) else {
            return .invalid("bad or missing slack '\(shown(5))'")
        }
        guard let request = value(6).flatMap(parseUInt64) else {
            return .invalid("bad or missing request_mib '\(shown(6))'")
        }
        var user: UInt64? = nil
        if let u = value(7), !u.elementsEqual("none".utf8) {
            guard let v = parseUInt64(u) else { return .invalid("bad user_mib '\(shown(7))'") }
            user = v
        }
        return .record(AdminRecord(
            action: String(decoding: action, as: UTF8.self), model: String(decoding: model, as: UTF8.self),
            path: String(decoding: path, as: UTF8.self), peakBytes: peak, baselineBytes: base,
            slackTenThousandths: slack, requestMiB: request, userMiB: user))
    }

    private static func parseUInt64(_ b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        if b.isEmpty { return nil }
        var v: UInt64 = 0
        for c in b {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(c &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            v = s
        }
        return v
    }
}

/// Parses a non-negative decimal with at most 4 places into ten-thousandths ("1.15" → 11500).
public func parseDecimal4(_ text: some StringProtocol) -> UInt64? {
    var whole: UInt64 = 0
    var fraction: UInt64 = 0
    var places = 0
    var inFraction = false
    var digits = 0
    for ch in text.utf8 {
        if ch == UInt8(ascii: ".") {
            if inFraction || digits == 0 { return nil }
            inFraction = true
            continue
        }
        guard ch >= UInt8(ascii: "0"), ch <= UInt8(ascii: "9") else { return nil }
        let d = UInt64(ch &- UInt8(ascii: "0"))
        if inFraction {
            places += 1
            if places > 4 { return nil }
            fraction = fraction * 10 + d
        } else {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            whole = s
        }
        digits += 1
    }
    if digits == 0 || (inFraction && places == 0) { return nil }
    while places < 4 { fraction *= 10; places += 1 }
    let (w, o1) = whole.multipliedReportingOverflow(by: 10_000)
    let (t, o2) = w.addingReportingOverflow(fraction)
    return (o1 || o2) ? nil : t
}

/// Formats ten-thousandths as a short decimal ("11500" → "1.15", "10000" → "1.0").
public func formatDecimal4(_ value: UInt64) -> String {
    let whole = value / 10_000
    var fraction = value % 10_000
    if fraction == 0 { return "\(whole).0" }
    var places = 4
    while fraction % 10 == 0 { fraction /= 10; places -= 1 }
    var digits = String(fraction)
    while digits.count < places { digits = "0" + digits }
    return "\(whole).\(digits)"
}
