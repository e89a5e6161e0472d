/// A destination for UTF-8 bytes: how the plugin's messages are written.
///
/// The job_submit plugin writes its messages straight into buffers slurmctld's shim owns; going
/// through `String` interpolation there cost more than the whole decision once the caches are
/// cold (as they are inside slurmctld). Callers that want a `String` use ``ByteArraySink``.
public protocol TextSink {
    /// Appends one byte.
    mutating func append(_ byte: UInt8)
    /// Appends a run of bytes (one call per literal rather than one per byte; the default
    /// appends them one by one).
    mutating func append(bytes: UnsafeBufferPointer<UInt8>)
}

/// Collects bytes into an array (for the `String` forms of the messages).
public struct ByteArraySink: TextSink {
    public var bytes: [UInt8] = []
    public init() { bytes.reserveCapacity(256) }
    public mutating func append(_ byte: UInt8) { bytes.append(byte) }
    /// The bytes as text (invalid UTF-8 replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension TextSink {
    @inlinable
    public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes { append(byte) }
    }

    /// Appends literal ASCII/UTF-8 text.
    @inlinable
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append(bytes: $0) }
    }

    /// Appends an unsigned integer in decimal.
    @inlinable
    public mutating func append(decimal value: UInt64) {
        DecimalDigits.with(value) { append(bytes: $0) }
    }

    /// Appends text given at run time. Control characters become `?`; with `quoting`, double
    /// quotes become `'` and backslashes `/` (for a double-quoted log field).
    @inlinable
    public mutating func append(text: String, quoting: Bool = false) {
        for byte in text.utf8 {
            switch byte {
            case 0..<0x20, 0x7F: append(0x3F)
            case 0x22 where quoting: append(0x27)
            case 0x5C where quoting: append(0x2F)
            default: append(byte)
            }
        }
    }

    /// Appends a slack as written in qubemem.conf: `1.15`, `2`, `1.0001`.
    mutating func append(slack: Slack) {
        let value = slack.tenThousandths
        append(decimal: value / 10_000)
        var fraction = value % 10_000
        guard fraction != 0 else { return }
        append(0x2E)
        var digits = 4
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        var divisor: UInt64 = 1
        for _ in 1..<digits { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: (fraction / divisor) % 10) &+ 0x30)
            divisor /= 10
        }
    }

    /// Appends bytes as GiB with two decimals, rounded half up (`2.38`), without floating point.
    mutating func append(gibibytes bytes: UInt64) {
        let gib: UInt64 = 1 << 30
        var whole = bytes / gib
        var hundredths = ((bytes % gib) * 100 + gib / 2) / gib  // < 2^37: no overflow
        if hundredths >= 100 {
            hundredths -= 100
            whole &+= 1
        }
        append(decimal: whole)
        append(0x2E)
        append(UInt8(truncatingIfNeeded: hundredths / 10) &+ 0x30)
        append(UInt8(truncatingIfNeeded: hundredths % 10) &+ 0x30)
    }

    mutating func append(model: ModelVersion) {
        switch model {
        case .v1_0: append("1.0")
        case .v1_2: append("1.2")
        case .v1_3: append("1.3")
        }
    }

    mutating func append(path: PipelinePath) {
        switch path {
        case .harmonic: append("harmonic")
        case .pixelDirect: append("pixel_direct")
        }
    }
}
