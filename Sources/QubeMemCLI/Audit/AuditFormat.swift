import QubeMem

/// Number formatting for per-job output, without Foundation's `String(format:)` (which costs
/// microseconds per call: an audit of 100 000 jobs prints about a million figures).
enum AuditFormat {
    /// `value` with exactly `places` decimals, rounded half away from zero ("0.89", "1536.00").
    static func fixed(_ value: Double, _ places: Int) -> String {
        var out: [UInt8] = []
        appendFixed(value, places, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `fixed`, appended to UTF-8 bytes (the job table's cells, without a String per figure).
    static func appendFixed(_ value: Double, _ places: Int, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: (value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf")).utf8)
            return
        }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e18 else {
            out.append(contentsOf: String(value).utf8)
            return
        }
        let n = UInt64(scaled)
        let p = UInt64(scale)
        if value < 0 && n != 0 { out.append(UInt8(ascii: "-")) }
        DecimalDigits.append(n / p, to: &out)
        if places > 0 {
            out.append(UInt8(ascii: "."))
            // The fraction's digits, with its leading zeros, written from the last.
            let start = out.count
            out.append(contentsOf: repeatElement(UInt8(0x30), count: places))
            var frac = n % p
            var i = start + places - 1
            while i >= start {
                out[i] = UInt8(truncatingIfNeeded: frac % 10) &+ 0x30
                frac /= 10
                i -= 1
            }
        }
    }

    /// A JSON/CSV number: the shortest text that reads back as the same Double.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
