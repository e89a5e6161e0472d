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
        /// The last record is not a valid version-1 record; the text says why.
        case invalid(String)
    }

    /// The token that starts a record.
    static let marker = Array("qubemem:".utf8)

    /// Finds and parses the last qubemem record in an AdminComment.
    public static func find(in adminComment: String) -> Found {
        let bytes = Array(adminComment.utf8)
        var start: Int? = nil
        var i = 0
        while i + marker.count <= bytes.count {
            if (i == 0 || isSeparator(bytes[i - 1])) && bytes[i..<(i + marker.count)].elementsEqual(marker) {
                start = i
            }
            i += 1
        }
        guard let recordStart = start else { return .none }
        var end = recordStart
        while end < bytes.count && bytes[end] != UInt8(ascii: ";") { end += 1 }
        let text = String(decoding: bytes[recordStart..<end], as: UTF8.self)
        return parseRecord(text)
    }

    private static func isSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ";") || b == UInt8(ascii: ",")
    }

    /// Parses one record starting at `qubemem:`.
    static func parseRecord(_ text: String) -> Found {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let head = tokens.first else { return .none }
        guard head == "qubemem:v1" else { return .invalid("unsupported record version '\(head)'") }
        var fields: [Substring: Substring] = [:]
        for token in tokens.dropFirst() {
            guard let eq = token.firstIndex(of: "=") else { return .invalid("field without '=': '\(token)'") }
            let key = token[..<eq]
            if fields[key] != nil { return .invalid("field '\(key)' given twice") }
            fields[key] = token[token.index(after: eq)...]
        }
        func required(_ key: Substring) -> Substring? { fields[key] }
        guard let action = required("action") else { return .invalid("missing field 'action'") }
        guard let model = required("model") else { return .invalid("missing field 'model'") }
        guard let path = required("path") else { return .invalid("missing field 'path'") }
        guard let peakText = required("peak_bytes"), let peak = UInt64(peakText) else {
            return .invalid("bad or missing peak_bytes '\(fields["peak_bytes"] ?? "")'")
        }
        guard let baseText = required("baseline_bytes"), let base = UInt64(baseText) else {
            return .invalid("bad or missing baseline_bytes '\(fields["baseline_bytes"] ?? "")'")
        }
        guard let slackText = required("slack"), let slack = parseDecimal4(slackText) else {
            return .invalid("bad or missing slack '\(fields["slack"] ?? "")'")
        }
        guard let requestText = required("request_mib"), let request = UInt64(requestText) else {
            return .invalid("bad or missing request_mib '\(fields["request_mib"] ?? "")'")
        }
        var user: UInt64? = nil
        if let userText = fields["user_mib"], userText != "none" {
            guard let value = UInt64(userText) else { return .invalid("bad user_mib '\(userText)'") }
            user = value
        }
        return .record(AdminRecord(
            action: String(action), model: String(model), path: String(path), peakBytes: peak,
            baselineBytes: base, slackTenThousandths: slack, requestMiB: request, userMiB: user))
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
