/// Memory sizes as written in qubemem.conf: a decimal number and an optional binary unit.
enum SizeText {
    enum Unit: UInt64 {
        case byte = 1, kibi = 1024, mebi = 1_048_576, gibi = 1_073_741_824, tebi = 1_099_511_627_776
    }

    /// Parses `256M`, `0.25G`, `1.5T`, `4096` (no suffix: `defaultUnit`) into bytes, rounding up.
    /// Units K, M, G, T are powers of 1024 (an optional trailing `B` or `iB` is accepted).
    /// Returns nil for anything else or on overflow.
    static func parseBytes(_ text: String, defaultUnit: Unit) -> UInt64? {
        var body = Substring(text)
        for suffix in ["iB", "ib", "B", "b"] where body.hasSuffix(suffix) && body.count > suffix.count {
            body = body.dropLast(suffix.count)
            break
        }
        var unit = defaultUnit
        if let last = body.last, !last.isNumber {
            switch last {
            case "K", "k": unit = .kibi
            case "M", "m": unit = .mebi
            case "G", "g": unit = .gibi
            case "T", "t": unit = .tebi
            default: return nil
            }
            body = body.dropLast()
        } else if body.count != text.count {
            return nil  // "12B" alone: ambiguous, refuse
        }
        guard let (numerator, denominator) = decimal(body) else { return nil }
        let (product, overflow) = numerator.multipliedReportingOverflow(by: unit.rawValue)
        guard !overflow else { return nil }
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: denominator)
        return remainder == 0 ? quotient : quotient.addingReportingOverflow(1).overflow ? nil : quotient + 1
    }

    /// Parses a size into whole MiB (no suffix means MiB), rounding up.
    static func parseMiB(_ text: String) -> UInt64? {
        guard let bytes = parseBytes(text, defaultUnit: .mebi) else { return nil }
        let (quotient, remainder) = bytes.quotientAndRemainder(dividingBy: Unit.mebi.rawValue)
        return remainder == 0 ? quotient : quotient + 1
    }

    /// `digits[.digits]` as numerator / 10^places; at most 6 places and 18 digits in all.
    private static func decimal(_ text: Substring) -> (UInt64, UInt64)? {
        guard !text.isEmpty else { return nil }
        var numerator: UInt64 = 0
        var denominator: UInt64 = 1
        var seenPoint = false
        var digits = 0
        for character in text.utf8 {
            if character == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
                continue
            }
            guard character >= UInt8(ascii: "0"), character <= UInt8(ascii: "9") else { return nil }
            digits += 1
            guard digits <= 18 else { return nil }
            numerator = numerator * 10 + UInt64(character - UInt8(ascii: "0"))
            if seenPoint {
                denominator *= 10
                guard denominator <= 1_000_000 else { return nil }
            }
        }
        guard digits > 0 else { return nil }
        return (numerator, denominator)
    }

    /// Renders bytes with the largest binary unit that divides them exactly (`256M`, `1G`, `1000`).
    static func render(bytes: UInt64) -> String {
        if bytes == 0 { return "0" }  // parses back (no suffix: the key's default unit)
        for (unit, name) in [(Unit.tebi, "T"), (.gibi, "G"), (.mebi, "M"), (.kibi, "K")]
        where bytes != 0 && bytes % unit.rawValue == 0 {
            return "\(bytes / unit.rawValue)\(name)"
        }
        return "\(bytes)B"
    }

    /// Renders MiB the same way (`0`, `512M`, `4G`).
    static func render(mib: UInt64) -> String {
        if mib == 0 { return "0" }
        let (bytes, overflow) = mib.multipliedReportingOverflow(by: Unit.mebi.rawValue)
        return overflow ? "\(mib)M" : render(bytes: bytes)
    }

    /// Bytes as GiB with two decimals, rounded half up (`2.38`), without floating point: the
    /// plugin's own writer (`TextSink.append(gibibytes:)`), as a String.
    static func gibibytes(_ bytes: UInt64) -> String {
        var sink = ByteArraySink()
        sink.append(gibibytes: bytes)
        return sink.text
    }
}
