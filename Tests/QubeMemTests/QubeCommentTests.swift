import Testing
@testable import QubeMem

@Suite struct QubeCommentTests {
    @Test func commentWithoutQubeSectionIsNotOurs() {
        #expect(QubeComment.parse("just a note") == nil)
        #expect(QubeComment.parse("") == nil)
        #expect(QubeComment.parse("notqube: n_pix=3") == nil)
    }

    @Test func sectionIsReadBetweenMarkerAndSemicolonAndOtherTextIsIgnored() throws {
        let spec = try #require(QubeComment.parse("run 7 qube: n_pix=9800,n_bins=6 n_params=18 path=pixel_direct; other=stuff")).get()
        #expect(spec.nPix == 9800)
        #expect(spec.nBins == 6)
        #expect(spec.nParams == 18)
        #expect(spec.path == .pixelDirect)
    }

    @Test func renderThenParseGivesTheSameSpec() throws {
        var spec = RunSpec()
        spec.model = .v1_2
        spec.path = .auto
        spec.fields = FieldSet.parse("TQU")
        spec.nside = 64
        spec.fskyMillionths = 100_000
        spec.lmax = 128
        spec.cacheDerivatives = true
        let text = QubeComment.render(spec)
        #expect(text == "qube: model=1.2 path=auto fields=TQU nside=64 fsky=0.1 lmax=128 cache=yes")
        #expect(try QubeComment.parse(text)?.get() == spec)
    }

    /// Each hostile comment gets an error that quotes the offending text.
    @Test(arguments: [
        ("unknown-key", "qube: n_pixels=3", "unknown key in 'n_pixels=3'"),
        ("duplicate", "qube: n_pix=3 n_pix=4", "key 'n_pix' is given more than once"),
        ("negative", "qube: n_pix=-5", "invalid value '-5' for n_pix"),
        ("not-a-pair", "qube: hello", "'hello' is not a key=value pair"),
        ("alone", "qube:", "'qube:' has no key=value pairs"),
        ("alone-semicolon", "qube: ; n_pix=3", "'qube:' has no key=value pairs"),
        ("format-specifiers", "qube: n_pix=%s%n%x", "invalid value '%s%n%x' for n_pix"),
        ("shell", "qube: fields=$(rm -rf /)", "invalid value '$(rm' for fields"),
        ("too-many-digits", "qube: n_pix=1234567890123456", "invalid value '1234567890123456' for n_pix"),
        ("bad-model", "qube: model=2.0", "invalid value '2.0' for model; valid: 1.0, 1.2, 1.3, latest"),
        ("bad-bool", "qube: cache=maybe", "invalid value 'maybe' for cache; valid: yes/no"),
        ("bad-fsky", "qube: fsky=1.5", "invalid value '1.5' for fsky"),
        ("empty-value", "qube: n_pix=", "invalid value '' for n_pix"),
    ])
    func hostileCommentIsRejectedWithQuotedToken(id: String, comment: String, message: String) throws {
        let result = try #require(QubeComment.parse(comment), "\(id)")
        guard case let .failure(error) = result else {
            Issue.record("\(id): accepted \(comment)")
            return
        }
        #expect(error.description.hasPrefix(message), "\(id): \(error)")
    }

    @Test func nonUTF8BytesAreQuotedAsHexEscapes() throws {
        let bytes: [UInt8] = Array("qube: fields=".utf8) + [0xFF, 0xC3, 0x28]
        let result = try #require(bytes.withUnsafeBufferPointer { QubeComment.parse(utf8: $0) })
        guard case let .failure(error) = result else { Issue.record("accepted"); return }
        #expect(error.description.contains("\\xff\\xc3("))
    }

    @Test func sixtyFourKiBOfTextIsHandled() throws {
        let long = "qube: n_pix=" + String(repeating: "9", count: 65536)
        guard case .failure(.tokenTooLong)? = QubeComment.parse(long) else {
            Issue.record("expected tokenTooLong")
            return
        }
        let noise = String(repeating: "x ", count: 32768) + "qube: n_pix=4"
        #expect(try QubeComment.parse(noise)?.get().nPix == 4)
        let pairs = "qube: " + String(repeating: "n_pix=1 ", count: 40)
        #expect(QubeComment.parse(pairs) != nil)
    }
}
