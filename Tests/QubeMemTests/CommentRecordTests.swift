import Testing

@testable import QubeMem

/// The record's copy in the job's Comment: where it starts, and when it is written.
struct CommentRecordTests {
    static func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var text = text
        return text.withUTF8(body)
    }

    static func userPart(_ comment: String) -> String {
        withBytes(comment) { String(decoding: CommentRecord.userPart(of: $0), as: UTF8.self) }
    }

    /// The new comment for `comment` and `record` with a buffer of `capacity` bytes, or nil.
    static func written(_ comment: String, _ record: String, capacity: Int = 1025) -> String? {
        var buffer = [UInt8](repeating: 0xAA, count: capacity)
        return buffer.withUnsafeMutableBufferPointer { out in
            var sink = FixedBufferSink(out.baseAddress, capacity: capacity)
            let ok = withBytes(comment) { c in withBytes(record) { r in CommentRecord.write(comment: c, record: r, to: &sink) } }
            guard ok else { return sink.count == 0 ? nil : "sink touched" }
            sink.finish()
            return String(decoding: UnsafeBufferPointer(rebasing: out[..<sink.count]), as: UTF8.self)
        }
    }

    @Test(arguments: [
        ("qube: n_pix=3 lmax=2", "qube: n_pix=3 lmax=2"),
        ("qube: n_pix=3 lmax=2; qubemem:v1 action=set model=1.3", "qube: n_pix=3 lmax=2"),
        ("note; qube: n_pix=3; qubemem:v1 a; qubemem:v1 b", "note; qube: n_pix=3"),
        ("qube: n_pix=3;qubemem:v1 action=set", "qube: n_pix=3;qubemem:v1 action=set"),  // not the separator
        ("; qubemem:v1 x", ""),
        ("; qubemem:v1", "; qubemem:v1"),  // no space after the marker: not a copy
        ("", ""),
    ])
    func theUserPartEndsAtTheFirstCopy(comment: String, user: String) {
        #expect(Self.userPart(comment) == user)
    }

    @Test func theRecordKeysCountIsTheNumberOfKeys() {
        #expect(RecordKey.count == RecordKey.allCases.count)
    }

    @Test func theCopyFollowsTheUsersTextVerbatim() {
        #expect(Self.written("qube: n_pix=3\nlmax=2", "qubemem:v1 action=set") == "qube: n_pix=3\nlmax=2; qubemem:v1 action=set")
        #expect(Self.written("qube: n_pix=3; qubemem:v1 old", "qubemem:v1 new") == "qube: n_pix=3; qubemem:v1 new")
        #expect(Self.written("qube: n_pix=3", "") == nil)
    }

    @Test func aCommentOverSlurmsLimitGetsNoCopy() {
        let record = "qubemem:v1 action=set"
        let fits = String(repeating: "x", count: CommentRecord.maxCommentBytes - 2 - record.utf8.count)
        #expect(Self.written(fits, record)?.utf8.count == CommentRecord.maxCommentBytes)
        #expect(Self.written(fits + "x", record) == nil)
        #expect(Self.written("qube: n_pix=3", record, capacity: 20) == nil)  // the buffer's limit too
    }
}
