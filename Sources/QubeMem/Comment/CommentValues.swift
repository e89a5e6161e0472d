// The values of the comment's keys that are numbers or yes/no, read from bytes (and from text,
// for the CLI and the tests).

extension QubeComment {
    /// A whole number of at most 15 digits (zero is let through to the model's own check).
    static func parseCount(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { parseCount(utf8: $0) }
    }

    /// `parseCount` on bytes. Always inlined into the plugin's `assign`, as it was before the value
    /// readers had a file of their own: the optimiser then called it out of line (it appeared in
    /// `make -C plugin hot-order`'s trace), one more function on the plugin's cold-cache path.
    @inline(__always)
    static func parseCount(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        DecimalText.parse(bytes, limit: 999_999_999_999_999).map { Int($0) }
    }

    /// A decimal with at most 6 fractional digits and 6 whole ones, in millionths.
    public static func parseMillionths(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { parseMillionths(utf8: $0) }
    }

    /// `parseMillionths` on bytes (inlined, as `parseCount(utf8:)`).
    @inline(__always)
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
    @inline(__always)
    static func parseBool(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool? { ByteText.flag(bytes) }
}
