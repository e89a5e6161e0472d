/// Comparisons of raw bytes with literal text, without building a `String`.
///
/// The plugin parses job comments as bytes inside slurmctld; a `String` per token would cost an
/// allocation or a trip through the standard library's string comparison for each one.
enum ByteText {
    /// Whether `bytes` spell exactly `text`.
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let literal = text.utf8Start
        for index in 0..<bytes.count where bytes[index] != literal[index] { return false }
        return true
    }
}

extension ModelVersion {
    /// `parse` on bytes: a model version, `latest`, or a qube-qml release number.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> ModelVersion? {
        if ByteText.equal(bytes, "latest") { return .latest }
        if ByteText.equal(bytes, "1.3") || ByteText.equal(bytes, "1.3.0") { return .v1_3 }
        if ByteText.equal(bytes, "1.2") || ByteText.equal(bytes, "1.2.0") { return .v1_2 }
        if ByteText.equal(bytes, "1.0") || ByteText.equal(bytes, "1.0.0") || ByteText.equal(bytes, "1.0.1")
            || ByteText.equal(bytes, "1.1.0")
        {
            return .v1_0
        }
        return nil
    }
}

extension PathChoice {
    /// The choice these bytes spell (its raw value), or nil.
    init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        if ByteText.equal(bytes, "harmonic") {
            self = .harmonic
        } else if ByteText.equal(bytes, "pixel_direct") {
            self = .pixelDirect
        } else if ByteText.equal(bytes, "auto") {
            self = .auto
        } else {
            return nil
        }
    }
}
