/// The sky fields a QUBE run analyses, as a list of spins (0 for temperature, 2 for polarisation).
public struct FieldSet: Sendable, Equatable, CustomStringConvertible {
    /// One spin per field, each 0 or 2.
    public private(set) var spins: [Int]

    /// Reads `T`, `QU`, `TQU`, or spins joined by `+` (`0+2`, `2`, `2+2`).
    /// - Returns: `nil` for anything else.
    public static func parse(_ text: String) -> FieldSet? {
        switch text {
        case "T": return FieldSet(spins: [0])
        case "QU": return FieldSet(spins: [2])
        case "TQU": return FieldSet(spins: [0, 2])
        default: break
        }
        var spins: [Int] = []
        for part in text.split(separator: "+", omittingEmptySubsequences: false) {
            switch part {
            case "0": spins.append(0)
            case "2": spins.append(2)
            default: return nil
            }
            if spins.count > 16 { return nil }
        }
        return spins.isEmpty ? nil : FieldSet(spins: spins)
    }

    /// What `parse` accepts, for error messages.
    public static let validSpellings = "T, QU, TQU, or spins 0 and 2 joined by '+' (such as 0+2)"

    /// The canonical spelling: `T`, `QU`, `TQU`, or the spin list.
    public var description: String {
        switch spins {
        case [0]: "T"
        case [2]: "QU"
        case [0, 2]: "TQU"
        default: spins.map(String.init).joined(separator: "+")
        }
    }

    /// Map components per observed pixel: 1 for a spin-0 field, 2 for a spin-2 field (Q and U).
    public var components: UInt64 {
        spins.reduce(0) { $0 + ($1 == 2 ? 2 : 1) }
    }

    /// Auto- and cross-spectra between the harmonic components (T → 1; QU → EE, BB, EB; TQU → 6).
    public var spectra: UInt64 {
        components * (components + 1) / 2
    }
}
