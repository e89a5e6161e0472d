/// A memory multiplier written as a decimal with at most four places (1.15), held exactly.
public struct Slack: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The multiplier in ten-thousandths: 1.15 is 11 500.
    public var tenThousandths: UInt64

    /// Largest slack accepted: 100×.
    public static let maximum = Slack(tenThousandths: 1_000_000)

    public init(tenThousandths: UInt64) {
        self.tenThousandths = tenThousandths
    }

    /// Reads `1`, `1.15`, `1.0500`; at most four decimals, from 0.0001 to 100.
    /// - Returns: `nil` for anything else.
    public static func parse(_ text: String) -> Slack? {
        guard let value = DecimalText.fixedPoint(text.utf8, places: 4, limit: maximum.tenThousandths), value > 0
        else { return nil }
        return Slack(tenThousandths: value)
    }

    /// The shortest decimal: 11 500 → "1.15".
    public var description: String {
        let whole = tenThousandths / 10_000
        var frac = String(tenThousandths % 10_000)
        while frac.count < 4 { frac = "0" + frac }
        while frac.hasSuffix("0") { frac.removeLast() }
        return frac.isEmpty ? "\(whole)" : "\(whole).\(frac)"
    }

    public static func < (lhs: Slack, rhs: Slack) -> Bool {
        lhs.tenThousandths < rhs.tenThousandths
    }

    /// ceil(bytes × slack / 2^20): a size in bytes scaled by the slack, as whole MiB.
    /// - Returns: `nil` when the result does not fit in 64 bits.
    public func scaledMiB(_ bytes: UInt64) -> UInt64? {
        // The usual case in 64 bits (bytes × slack below 2^64, any run under about 1.6 PB at the
        // default slack): no call to the 128-bit division routine, which the plugin would otherwise
        // fetch from a page of its own on every job.
        let (small, overflow) = bytes.multipliedReportingOverflow(by: tenThousandths)
        if !overflow {
            let divisor: UInt64 = 10_000 << 20
            let (q, r) = small.quotientAndRemainder(dividingBy: divisor)
            return r == 0 ? q : q + 1  // q < 2^64 / divisor: cannot overflow
        }
        let (product, o) = UInt128(bytes).multipliedReportingOverflow(by: UInt128(tenThousandths))
        guard !o else { return nil }
        let divisor = UInt128(10_000) << 20
        let (q, r) = product.quotientAndRemainder(dividingBy: divisor)
        let mib = r == 0 ? q : q + 1
        return mib <= UInt128(UInt64.max) ? UInt64(mib) : nil
    }
}
