/// Writes text into a fixed buffer the caller owns: never past its capacity, control characters
/// replaced by `?`, cut at a UTF-8 boundary with "..." when too long, NUL-terminated by `finish`.
///
/// This is how the plugin's texts reach slurmctld's buffers. It is a concrete type of this module
/// so that the decision's writers are compiled for it here (specialised and inlined) instead of
/// being called through `TextSink`'s witness table, one call per byte, from another module: inside
/// slurmctld, where the caches are cold, every extra function is another set of cache misses.
public struct FixedBufferSink: TextSink {
    private let base: UnsafeMutablePointer<UInt8>?
    /// Bytes of text that fit (capacity - 1, leaving room for the NUL), or -1 without a buffer.
    private let limit: Int
    /// Bytes written so far.
    public private(set) var count = 0
    /// Whether some text did not fit.
    public private(set) var truncated = false

    /// - Parameters:
    ///   - base: the buffer, or nil (then everything is dropped).
    ///   - capacity: its size in bytes, including the terminating NUL.
    public init(_ base: UnsafeMutablePointer<UInt8>?, capacity: Int) {
        self.base = capacity > 0 ? base : nil
        limit = capacity - 1
    }

    @inline(__always)
    private static func clean(_ byte: UInt8) -> UInt8 {
        (byte < 0x20 || byte == 0x7F) ? 0x3F : byte
    }

    public mutating func append(_ byte: UInt8) {
        guard let base, count < limit else {
            truncated = true
            return
        }
        base[count] = Self.clean(byte)
        count += 1
    }

    public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        copy(bytes, keepingControls: false)
    }

    /// Appends bytes unchanged, control characters included: for text that goes back to SLURM as
    /// it came (the user's own comment), where a newline is a separator the user chose.
    public mutating func append(verbatim bytes: UnsafeBufferPointer<UInt8>) {
        copy(bytes, keepingControls: true)
    }

    /// The one copy loop behind both appends: what fits, from the source's base address to this
    /// buffer's, each byte through one select. Written on pointers so that the loop carries no
    /// overflow check and the optimiser vectorises it; the texts a decision writes are about
    /// 1 KB, and this loop was 45% of a valid submission's instructions as a per-byte loop
    /// (callgrind, `plugin/tests/ir-per-call.sh`; see BENCHMARKS.md).
    @inline(__always)
    private mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>, keepingControls: Bool) {
        guard let base else {
            truncated = truncated || !bytes.isEmpty
            return
        }
        let n = min(limit - count, bytes.count)
        if n > 0, let source = bytes.baseAddress {
            let target = base + count
            if keepingControls {
                for index in 0..<n {
                    let byte = source[index]
                    target[index] = byte == 0 ? 0x3F : byte  // a NUL would end the C string early
                }
            } else {
                for index in 0..<n {
                    target[index] = Self.clean(source[index])
                }
            }
            count += n
        }
        if n < bytes.count { truncated = true }
    }

    /// The buffer's size in bytes, including the NUL (0 without a buffer).
    public var capacity: Int { base == nil ? 0 : limit + 1 }

    /// Appends what another sink of this kind holds (without its NUL).
    public mutating func append(contentsOf other: FixedBufferSink, from offset: Int) {
        guard let source = other.base, offset >= 0, offset <= other.count else { return }
        append(bytes: UnsafeBufferPointer(start: source + offset, count: other.count - offset))
    }

    /// NUL-terminates, marking a cut with "..." (never inside a multi-byte character). A buffer
    /// too small for the dots holds an empty text when the text did not fit.
    public mutating func finish() {
        guard let base else { return }
        if truncated, limit >= 3 {
            count = limit - 3
            while count > 0, base[count] & 0xC0 == 0x80 { count -= 1 }
            for _ in 0..<3 {
                base[count] = 0x2E
                count += 1
            }
        } else if truncated {
            count = 0
        }
        base[count] = 0
    }

    /// Empties the buffer.
    public mutating func clear() {
        count = 0
        truncated = false
        if let base { base[0] = 0 }
    }
}
