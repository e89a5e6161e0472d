import QubeMem

/// Memory sizes as sacct prints them.
///
/// sacct prints a size as a number followed by an optional binary suffix: `K`, `M`, `G`, `T`, `P`
/// (powers of 1024; `E` is accepted too). Converted figures may carry a decimal part (`1.50G`); with
/// `--noconvert` they are whole numbers in the field's own unit. A bare number is in the field's base
/// unit, which differs per field: bytes for MaxRSS and TRES usage, MiB for ReqMem. An empty field means
/// "no data" and is never read as zero.
public enum MemorySize {
    /// The outcome of reading one size field.
    public enum Parsed: Equatable, Sendable {
        /// The field was empty: sacct has no figure.
        case empty
        /// The size in bytes (rounded to the nearest byte when the text had a decimal part).
        case bytes(UInt64)
        /// The text is not a size.
        case invalid
    }
    /// `parse` on a raw buffer: a concrete entry point, so that callers in other modules (the
    /// audit's merge, once per row) run the specialised parser rather than the generic one
    /// through witness tables (13× slower on `bench/audit` when this was missing).
    public static func parse(_ text: UnsafeBufferPointer<UInt8>, bareUnitShift: Int) -> Parsed {
        read(text, bareUnitShift: bareUnitShift)
    }


    /// Reads a size field.
    /// - Parameters:
    ///   - text: the field's bytes, without delimiters.
    ///   - bareUnitShift: the unit of a number with no suffix, as a power of 1024 (0 = bytes, 2 = MiB).
    /// - Returns: the size in bytes, `.empty` or `.invalid`. Never traps; overflow is `.invalid`.
    public static func parse<Bytes: Collection<UInt8>>(_ text: Bytes, bareUnitShift: Int) -> Parsed {
        read(text, bareUnitShift: bareUnitShift)
    }

    @inline(__always)
    static func read<Bytes: Collection<UInt8>>(_ text: Bytes, bareUnitShift: Int) -> Parsed {
        if text.isEmpty { return .empty }
        guard let (whole, afterWhole) = DecimalText.prefix(of: text, from: text.startIndex) else { return .invalid }
        var i = afterWhole
        var fraction: UInt64 = 0
        var fractionScale: UInt64 = 1
        if i != text.endIndex, text[i] == UInt8(ascii: ".") {
            i = text.index(after: i)
            while i != text.endIndex, text[i] &- 0x30 <= 9 {
                // Keep at most 9 decimal places; further digits cannot change whole bytes much.
                if fractionScale < 1_000_000_000 {
                    fraction = fraction &* 10 &+ UInt64(text[i] &- 0x30)
                    fractionScale &*= 10
                }
                i = text.index(after: i)
            }
        }
        var suffixShift: Int? = nil
        if i != text.endIndex {
            guard let shift = unitShift(text[i]), text.index(after: i) == text.endIndex else { return .invalid }
            suffixShift = shift
        }
        let shift = suffixShift ?? bareUnitShift
        guard shift >= 0, shift <= 6 else { return .invalid }
        let multiplier: UInt64 = 1 << UInt64(10 * shift)
        let (wholeBytes, o1) = whole.multipliedReportingOverflow(by: multiplier)
        if o1 { return .invalid }
        if fraction == 0 { return .bytes(wholeBytes) }
        // fraction / fractionScale × multiplier, rounded half up, in 128-bit-safe steps.
        let (high, low) = fraction.multipliedFullWidth(by: multiplier)
        let (q, r) = fractionScale.dividingFullWidth((high: high, low: low))
        let rounded = r >= fractionScale - r ? q &+ 1 : q
        let (total, o3) = wholeBytes.addingReportingOverflow(rounded)
        return o3 ? .invalid : .bytes(total)
    }

    /// Reads a size field given as a string (convenience for tests and small inputs).
    public static func parse(_ text: String, bareUnitShift: Int) -> Parsed {
        parse(Array(text.utf8), bareUnitShift: bareUnitShift)
    }

    /// The power of 1024 of a unit letter (either case), or nil.
    static func unitShift(_ byte: UInt8) -> Int? {
        switch byte | 0x20 {
        case UInt8(ascii: "k"): return 1
        case UInt8(ascii: "m"): return 2
        case UInt8(ascii: "g"): return 3
        case UInt8(ascii: "t"): return 4
        case UInt8(ascii: "p"): return 5
        case UInt8(ascii: "e"): return 6
        default: return nil
        }
    }
}

/// The memory a job requested, as sacct's ReqMem prints it.
///
/// SLURM 21.08 and later print the job's total requested memory (per node × nodes, or per CPU × CPUs)
/// as a plain size in MiB; earlier releases appended `n` (per node) or `c` (per CPU).
public enum RequestedMemory: Equatable, Sendable {
    /// The whole job's memory (SLURM ≥ 21.08), bytes.
    case total(UInt64)
    /// Memory per node (legacy `n` suffix), bytes.
    case perNode(UInt64)
    /// Memory per CPU (legacy `c` suffix), bytes.
    case perCPU(UInt64)
    /// `parse` on a raw buffer: a concrete entry point, so that callers in other modules (the
    /// audit's merge, once per row) run the specialised parser rather than the generic one
    /// through witness tables (13× slower on `bench/audit` when this was missing).
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> RequestedMemory? {
        read(text)
    }


    /// Reads a ReqMem field; nil when empty or not a size.
    public static func parse(_ text: some BidirectionalCollection<UInt8>) -> RequestedMemory? { read(text) }

    @inline(__always)
    static func read(_ text: some BidirectionalCollection<UInt8>) -> RequestedMemory? {
        guard let last = text.last else { return nil }
        let body = text.dropLast()
        switch last {
        case UInt8(ascii: "n"), UInt8(ascii: "c"):
            guard case .bytes(let b) = MemorySize.parse(body, bareUnitShift: 2) else { return nil }
            return last == UInt8(ascii: "n") ? .perNode(b) : .perCPU(b)
        default:
            guard case .bytes(let b) = MemorySize.parse(text, bareUnitShift: 2) else { return nil }
            return .total(b)
        }
    }

    /// Memory per node in bytes for a job on `nodes` nodes with `cpus` CPUs in all.
    /// - Returns: nil when the node or CPU count needed is unknown (zero) or the product overflows.
    public func perNodeBytes(nodes: UInt32, cpus: UInt32) -> UInt64? {
        switch self {
        case .perNode(let b): return b
        case .total(let b):
            guard nodes > 0 else { return nil }
            return b / UInt64(nodes)
        case .perCPU(let b):
            guard nodes > 0, cpus > 0 else { return nil }
            let (all, o) = b.multipliedReportingOverflow(by: UInt64(cpus))
            return o ? nil : all / UInt64(nodes)
        }
    }
}
