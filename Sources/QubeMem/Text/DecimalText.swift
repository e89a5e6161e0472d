/// The one parser of unsigned decimal numbers in qubemem's input: job comments, qubemem.conf,
/// sacct rows, AdminComment records, database rows and /proc files all read their numbers here.
///
/// Digits only (no sign, no spaces, no `_`), at least one, and the value at most a limit the
/// caller gives (the type's range by default): every overflow is a refusal, never a wrap or a trap.
/// Generic over the byte collection and inlinable, so that the hot parsers (sacct rows, /proc)
/// get a loop specialised to their buffer type.
public enum DecimalText {
    /// The value of `bytes`, or nil when they are empty, hold anything but digits, or exceed `limit`.
    @inlinable @inline(__always)
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, limit: UInt64 = .max) -> UInt64? {
        guard let (value, end) = prefix(of: bytes, from: bytes.startIndex, limit: limit), end == bytes.endIndex
        else { return nil }
        return value
    }

    /// The digits at the start of `bytes[from...]`: their value and the index after the last one,
    /// or nil when there is no digit there or the value exceeds `limit`.
    @inlinable @inline(__always)
    public static func prefix<Bytes: Collection<UInt8>>(of bytes: Bytes, from start: Bytes.Index, limit: UInt64 = .max)
        -> (value: UInt64, end: Bytes.Index)?
    {
        var value: UInt64 = 0
        var i = start
        while i != bytes.endIndex {
            let digit = bytes[i] &- 0x30
            guard digit <= 9 else { break }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            if o1 || o2 || sum > limit { return nil }
            value = sum
            i = bytes.index(after: i)
        }
        return i == start ? nil : (value, i)
    }

    /// `parse` on a `String`.
    @inlinable
    public static func parse(_ text: String, limit: UInt64 = .max) -> UInt64? {
        parse(text.utf8, limit: limit)
    }

    /// A decimal with at most `places` digits after the point, as a whole number of its smallest
    /// unit (`fixedPoint("1.15", places: 4)` is 11 500): digits, then optionally `.` and 1 to
    /// `places` digits; the whole part may be left out before a fraction (`.5`). Nil for anything
    /// else, for more places, or for a value above `limit`. `places` is at most 18.
    @inlinable
    public static func fixedPoint<Bytes: Collection<UInt8>>(_ bytes: Bytes, places: Int, limit: UInt64 = .max)
        -> UInt64?
    {
        guard places >= 0, places <= 18 else { return nil }
        var i = bytes.startIndex
        var whole: UInt64 = 0
        if let (w, end) = prefix(of: bytes, from: i) {
            whole = w
            i = end
        } else if i == bytes.endIndex {
            return nil
        }
        var fraction: UInt64 = 0
        var digits = 0
        if i != bytes.endIndex {
            guard bytes[i] == UInt8(ascii: ".") else { return nil }
            let start = bytes.index(after: i)
            guard let (f, end) = prefix(of: bytes, from: start), end == bytes.endIndex else { return nil }
            digits = bytes.distance(from: start, to: end)
            guard digits <= places else { return nil }
            fraction = f  // fewer than 10^places: no overflow
        }
        var scale: UInt64 = 1
        for _ in 0..<places { scale &*= 10 }
        for _ in digits..<places { fraction &*= 10 }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: scale)
        let (total, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2, total <= limit else { return nil }
        return total
    }
}
