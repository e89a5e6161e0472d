/// The sky fields a QUBE run analyses, as a list of spins (0 for temperature, 2 for polarisation).
///
/// Stored as a count and a bit per field (set for spin 2), not as an array: a `FieldSet` is part
/// of every parsed job comment, and a plain value keeps the plugin's parse free of allocations.
public struct FieldSet: Sendable, Equatable, CustomStringConvertible {
    /// Fields, at most `maxFields`.
    private var count: UInt8
    /// Bit i set: field i has spin 2.
    private var spin2: UInt16

    /// The most fields a set holds.
    public static let maxFields = 16

    /// One spin per field, each 0 or 2.
    public var spins: [Int] {
        (0..<Int(count)).map { spin2 & (1 << $0) != 0 ? 2 : 0 }
    }

    private init(count: Int, spin2: UInt16) {
        self.count = UInt8(truncatingIfNeeded: count)
        self.spin2 = spin2
    }

    /// Reads `T`, `QU`, `TQU`, or spins joined by `+` (`0+2`, `2`, `2+2`).
    /// - Returns: `nil` for anything else.
    public static func parse(_ text: String) -> FieldSet? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// `parse` on bytes.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> FieldSet? {
        let t = UInt8(ascii: "T"), q = UInt8(ascii: "Q"), u = UInt8(ascii: "U")
        switch bytes.count {
        case 1 where bytes[0] == t: return FieldSet(count: 1, spin2: 0)
        case 2 where bytes[0] == q && bytes[1] == u: return FieldSet(count: 1, spin2: 1)
        case 3 where bytes[0] == t && bytes[1] == q && bytes[2] == u: return FieldSet(count: 2, spin2: 2)
        default: break
        }
        // "0", "2", "0+2", ...: a digit at every even index, '+' at every odd one.
        guard bytes.count % 2 == 1, bytes.count <= 2 * maxFields - 1 else { return nil }
        var spin2: UInt16 = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if index % 2 == 1 {
                guard byte == UInt8(ascii: "+") else { return nil }
            } else if byte == UInt8(ascii: "2") {
                spin2 |= 1 << (index / 2)
            } else if byte != UInt8(ascii: "0") {
                return nil
            }
        }
        return FieldSet(count: (bytes.count + 1) / 2, spin2: spin2)
    }

    /// What `parse` accepts, for error messages.
    public static let validSpellings = "T, QU, TQU, or spins 0 and 2 joined by '+' (such as 0+2)"

    /// The canonical spelling: `T`, `QU`, `TQU`, or the spin list.
    public var description: String {
        switch (count, spin2) {
        case (1, 0): "T"
        case (1, 1): "QU"
        case (2, 2): "TQU"
        default: spins.map(String.init).joined(separator: "+")
        }
    }

    /// Map components per observed pixel: 1 for a spin-0 field, 2 for a spin-2 field (Q and U).
    public var components: UInt64 {
        UInt64(count) + UInt64(spin2.nonzeroBitCount)
    }

    /// Auto- and cross-spectra between the harmonic components (T → 1; QU → EE, BB, EB; TQU → 6).
    public var spectra: UInt64 {
        components * (components + 1) / 2
    }
}
