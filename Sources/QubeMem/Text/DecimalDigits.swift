/// The decimal digits of an unsigned integer, written without a `String`: the one routine behind
/// every byte writer of the project (the plugin's texts, the audit's tables, the database rows).
public enum DecimalDigits {
    /// Calls `body` with the ASCII digits of `value`, held in a buffer on the stack.
    @inlinable
    public static func with<R>(_ value: UInt64, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        // From the last digit: one division by a constant per digit. 24 bytes hold UInt64.max's 20.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &digits) { raw in
            // A tuple's bytes always have an address; unsafelyUnwrapped skips a check that
            // could only trap (and costs a branch on every number the plugin writes).
            let base = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self)
            var rest = value
            var start = raw.count
            repeat {
                start -= 1
                base[start] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            } while rest > 0
            return try body(UnsafeBufferPointer(start: base + start, count: raw.count - start))
        }
    }

    /// Appends the digits of `value` to `out`.
    @inlinable
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        with(value) { out.append(contentsOf: $0) }
    }
}
