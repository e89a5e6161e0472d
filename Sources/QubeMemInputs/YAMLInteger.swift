import QubeMem

/// The value of a scalar that YAML 1.1 tags as an integer, read as PyYAML's `safe_load` reads it,
/// with every step overflow-checked.
///
/// Yams' own conversion (`Node.int`) multiplies without a check in its base-60 branch, so a config
/// such as `lmax: 922392233726854775:0` trapped the process (found by the yaml fuzz target). This
/// reader gives `nil` instead for any value outside `Int`, and the config reader turns that into an
/// error that quotes the value.
///
/// The forms, in PyYAML's order, after it drops every `_` and takes an optional sign:
/// `0b…` binary, `0x…` hexadecimal, `0…` octal, `a:b:c` base 60 ("sexagesimal",
/// `a·60² + b·60 + c`, each part decimal), otherwise decimal.
enum YAMLInteger {
    /// The value of `text`, or `nil` when it is not one of the forms above or falls outside `Int`.
    static func value(of text: String) -> Int? {
        var digits: [UInt8] = []
        digits.reserveCapacity(text.utf8.count)
        for byte in text.utf8 where byte != UInt8(ascii: "_") { digits.append(byte) }

        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits.removeFirst()
        }
        guard !digits.isEmpty else { return nil }

        let magnitude: UInt64?
        if digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "b") {
            magnitude = nonDecimal(digits.dropFirst(2), radix: 2)
        } else if digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] == UInt8(ascii: "x") {
            magnitude = nonDecimal(digits.dropFirst(2), radix: 16)
        } else if digits.count > 1, digits[0] == UInt8(ascii: "0") {
            magnitude = nonDecimal(digits.dropFirst(1), radix: 8)
        } else if digits.contains(UInt8(ascii: ":")) {
            magnitude = sexagesimal(digits)
        } else {
            magnitude = DecimalText.parse(digits)
        }
        guard let magnitude else { return nil }
        return signed(magnitude, negative: negative)
    }

    /// `a:b:c…` as `((a·60) + b)·60 + c…`: the same value as PyYAML's sum of parts times powers of
    /// 60, computed so that no intermediate exceeds the result.
    private static func sexagesimal(_ digits: [UInt8]) -> UInt64? {
        var total: UInt64 = 0
        for part in digits.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            guard let value = DecimalText.parse(part) else { return nil }
            let (shifted, overflowShift) = total.multipliedReportingOverflow(by: 60)
            let (sum, overflowSum) = shifted.addingReportingOverflow(value)
            guard !overflowShift, !overflowSum else { return nil }
            total = sum
        }
        return total
    }

    /// The digits in `radix` (2, 8 or 16; decimal is `DecimalText`'s), or `nil` if there are none,
    /// one is not a digit of that radix, or the value exceeds `UInt64`.
    private static func nonDecimal(_ digits: ArraySlice<UInt8>, radix: UInt64) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var total: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, overflowShift) = total.multipliedReportingOverflow(by: radix)
            let (sum, overflowSum) = shifted.addingReportingOverflow(digit)
            guard !overflowShift, !overflowSum else { return nil }
            total = sum
        }
        return total
    }

    /// `magnitude` with its sign, or `nil` outside `Int.min...Int.max`.
    private static func signed(_ magnitude: UInt64, negative: Bool) -> Int? {
        if negative {
            if magnitude == UInt64(Int.max) + 1 { return Int.min }
            guard magnitude <= UInt64(Int.max) else { return nil }
            return -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }
}
