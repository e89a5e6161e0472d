/// Comparisons of raw bytes with literal text, without building a `String`.
///
/// The plugin parses job comments as bytes inside slurmctld, and the audit reads a record's field
/// names once per job; a `String` per token would cost an allocation or a trip through the
/// standard library's string comparison for each one. Public and inlinable, on concrete buffers:
/// the other modules' parsers (AdminComment records, sacct job ids, /proc files) compare with the
/// same loop, compiled into their own.
public enum ByteText {
    /// Whether `bytes` spell exactly `text`.
    @inlinable @inline(__always)
    public static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let literal = text.utf8Start
        for index in 0..<bytes.count where bytes[index] != literal[index] { return false }
        return true
    }

    /// Whether the `count` bytes at `start` spell exactly `text`.
    @inlinable @inline(__always)
    public static func equal(_ start: UnsafePointer<UInt8>, count: Int, _ text: StaticString) -> Bool {
        equal(UnsafeBufferPointer(start: start, count: count), text)
    }
}

extension ByteText {
    /// The one rule for yes/no values, in job comments and in qubemem.conf alike: `yes`, `true`,
    /// `on`, `1` or `no`, `false`, `off`, `0`, in any mix of upper and lower case (as SLURM's own
    /// configuration reads its yes/no values). Anything else is nil.
    static func flag<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool? {
        guard !bytes.isEmpty, bytes.count <= 5 else { return nil }
        // Up to 5 bytes, lower-cased (ASCII letters only), packed into one word and compared
        // with the packed words: no buffer, no String.
        var word: UInt64 = 0
        for b in bytes { word = word << 8 | UInt64(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
        if word == packed("yes") || word == packed("true") || word == packed("on") || word == packed("1") { return true }
        if word == packed("no") || word == packed("false") || word == packed("off") || word == packed("0") { return false }
        return nil
    }

    /// The bytes of a short literal packed as `flag` packs its input.
    @inline(__always)
    private static func packed(_ text: StaticString) -> UInt64 {
        var word: UInt64 = 0
        for i in 0..<text.utf8CodeUnitCount { word = word << 8 | UInt64(text.utf8Start[i]) }
        return word
    }
}
