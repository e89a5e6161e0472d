import Testing
@testable import QubeMem

/// The one decimal parser and the one yes/no rule every input format goes through.
@Suite struct TextParsingTests {
    @Test func decimalsAreDigitsOnlyAndOverflowIsARefusal() {
        #expect(DecimalText.parse("0") == 0)
        #expect(DecimalText.parse("18446744073709551615") == UInt64.max)
        for bad in ["", "18446744073709551616", "99999999999999999999", "-1", "+1", " 1", "1 ", "1_000", "0x10", "1.0"] {
            #expect(DecimalText.parse(bad) == nil, "\(bad)")
        }
        #expect(DecimalText.parse("4294967295", limit: UInt64(UInt32.max)) == 4_294_967_295)
        #expect(DecimalText.parse("4294967296", limit: UInt64(UInt32.max)) == nil)
        let text = Array("123_45".utf8)
        let first = DecimalText.prefix(of: text, from: 0)
        #expect(first?.value == 123 && first?.end == 3)
        #expect(DecimalText.prefix(of: text, from: 3) == nil)
    }

    @Test func fixedPointDecimalsAreExactToTheirPlaces() {
        #expect(DecimalText.fixedPoint("1.15".utf8, places: 4) == 11_500)
        #expect(DecimalText.fixedPoint("1.0500".utf8, places: 4) == 10_500)
        #expect(DecimalText.fixedPoint("7".utf8, places: 6) == 7_000_000)
        #expect(DecimalText.fixedPoint(".25".utf8, places: 2) == 25)
        #expect(DecimalText.fixedPoint("1844674407370955.1615".utf8, places: 4) == UInt64.max)
        for bad in ["", ".", "1.", "1.12345", "1..2", "1.2.3", "a", "1e3", "1844674407370955.1616"] {
            #expect(DecimalText.fixedPoint(bad.utf8, places: 4) == nil, "\(bad)")
        }
        #expect(DecimalText.fixedPoint("100.0001".utf8, places: 4, limit: 1_000_000) == nil)
    }

    @Test func yesAndNoReadTheSameInCommentsAndInTheConfig() {
        for word in ["yes", "YES", "Yes", "true", "TRUE", "on", "On", "1"] {
            #expect(ByteText.flag(word.utf8) == true, "\(word)")
            #expect(QubeComment.parseBool(word) == true && SiteConfig.parseBool(word) == true, "\(word)")
        }
        for word in ["no", "NO", "false", "False", "off", "OFF", "0"] {
            #expect(ByteText.flag(word.utf8) == false, "\(word)")
            #expect(QubeComment.parseBool(word) == false && SiteConfig.parseBool(word) == false, "\(word)")
        }
        for word in ["", "y", "n", "yess", "2", "enabled", "truee", "of", "nope!"] {
            #expect(ByteText.flag(word.utf8) == nil && QubeComment.parseBool(word) == nil && SiteConfig.parseBool(word) == nil,
                    "\(word)")
        }
    }

    @Test func aCommentFlagInCapitalsIsAccepted() throws {
        // keep_v=YES was refused in a comment while enabled = YES was accepted in qubemem.conf.
        let spec = try #require(QubeComment.parse("qube: n_pix=100 n_modes=10 lmax_signal=8 path=harmonic keep_v=YES")).get()
        #expect(spec.keepPixelProjector == true)
    }

    @Test func everyCommentKeyIsReadFromItsOneSpellingAndHasABitOfItsOwn() {
        var bits: UInt32 = 0
        for key in QubeComment.Key.allCases {
            var name = key.name
            let read = name.withUTF8 { QubeComment.Key(utf8: $0) }
            #expect(read == key, "\(key.name)")
            #expect(bits & key.bit == 0, "\(key.name)")
            bits |= key.bit
        }
        for other in ["", "n", "n_pi", "n_pixx", "N_PIX", "lmax_signa"] {
            var name = other
            #expect(name.withUTF8 { QubeComment.Key(utf8: $0) } == nil, "\(other)")
        }
    }
}
