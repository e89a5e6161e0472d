// The comment's enumerated words (model versions, path choices), read from bytes.

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
