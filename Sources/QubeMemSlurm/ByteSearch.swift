// The byte search every row parser of SLURM text uses (sacct rows, AdminComment records).

/// The index of the first `byte` in `buffer` at or after `from`, or `buffer.count`.
///
/// Reads 8 bytes at a time (SWAR: a word XOR the pattern has a zero byte where they match; the lowest
/// flagged byte is always a true match), then finishes byte by byte. Rows are scanned twice (for
/// newlines and for delimiters), so this is the parser's inner loop.
@inlinable @inline(__always)
public func firstIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
    let n = buffer.count
    var i = from
    if let base = buffer.baseAddress {
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let pattern = UInt64(byte) &* ones
        while i &+ 8 <= n {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            let found = (word &- ones) & ~word & highs
            if found != 0 { return i &+ (UInt64(littleEndian: found).trailingZeroBitCount >> 3) }
            i &+= 8
        }
    }
    while i < n {
        if buffer[i] == byte { return i }
        i &+= 1
    }
    return n
}
