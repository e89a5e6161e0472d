import Foundation
@testable import QubeMemInputs
import Testing

/// Masks written here byte by byte: a primary HDU and a BINTABLE of float32 map columns, as healpy
/// writes them (no healpy in the Swift suites).
@Suite struct HealpixMaskTests {
    /// A FITS file with one float32 column per map, `perRow` pixels a row (healpy: 1024 for big maps).
    /// - Parameters:
    ///   - rows: the NAXIS2 to write (nil: what the maps need). The data written is the maps'.
    ///   - tfields: the TFIELDS value to write (nil: the number of maps).
    ///   - tableCards: more cards (80 characters at most) for the table's header.
    static func maskFile(_ maps: [[Float]], perRow: Int = 1, rows: Int? = nil, tfields: String? = nil,
                         tableCards: [String] = []) -> Data {
        func header(_ cards: [String]) -> Data {
            var text = (cards + ["END"]).map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
            while text.utf8.count % 2880 != 0 { text += " " }
            return Data(text.utf8)
        }
        func card(_ key: String, _ value: String) -> String {
            key.padding(toLength: 8, withPad: " ", startingAt: 0) + "= " + String(repeating: " ", count: max(0, 20 - value.count)) + value
        }
        var file = header([card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0"), card("EXTEND", "T")])
        var cards = [card("XTENSION", "'BINTABLE'"), card("BITPIX", "8"), card("NAXIS", "2"),
                     card("NAXIS1", String(4 * perRow * maps.count)),
                     card("NAXIS2", String(rows ?? maps[0].count / perRow)), card("PCOUNT", "0"),
                     card("GCOUNT", "1"), card("TFIELDS", tfields ?? String(maps.count))]
        for i in maps.indices { cards.append(card("TFORM\(i + 1)", "'\(perRow)E'")) }
        cards += tableCards
        file.append(header(cards))
        var data = Data()
        for row in 0 ..< maps[0].count / perRow {
            for map in maps {
                for value in map[(row * perRow) ..< ((row + 1) * perRow)] {
                    withUnsafeBytes(of: value.bitPattern.bigEndian) { data.append(contentsOf: $0) }
                }
            }
        }
        while data.count % 2880 != 0 { data.append(0) }
        return file + data
    }

    static func write(_ data: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qubemem-mask-\(UUID()).fits").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func countsTheUnmaskedPixelsOfEachField() throws {
        let t = (0 ..< 12).map { Float($0 < 5 ? 1 : 0) }
        let p = (0 ..< 12).map { Float($0 < 3 ? 0.9 : 0.2) }
        // healpy's names, and the longest name FITS allows (68 characters, '' is one quote).
        let names = ["TTYPE1  = 'TEMPERATURE'        / a comment", "TTYPE2  = 'Q_POLARISATION'",
                     "TTYPE3  = '" + String(repeating: "U", count: 66) + "'''"]
        let path = try Self.write(Self.maskFile([t, p, p], tableCards: names))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try HealpixMask.unmaskedPixels(path: path, nside: 1, spins: [0, 2]) == [5, 3])
    }

    /// nside 128 is 196,608 pixels in rows of 1024: three read chunks, the last one partial.
    @Test func readsAMapLargerThanOneChunkWithManyPixelsARow() throws {
        let pixels = 12 * 128 * 128
        #expect(pixels > 2 * HealpixMask.readChunk)
        let map = (0 ..< pixels).map { Float($0 % 7 == 0 ? 1 : 0) }
        let path = try Self.write(Self.maskFile([map], perRow: 1024))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try HealpixMask.unmaskedPixels(path: path, nside: 128, spins: [0]) == [(pixels + 6) / 7])
    }

    /// Found by fuzzing (fuzz/corpus/fits/nside8192-truncated): the header's NAXIS2 sized one
    /// allocation, so a small file claiming an nside-8192 map took 6 GiB before CFITSIO could say
    /// that the file ends. Now the reader fails at the first chunk the file does not hold.
    @Test func refusesATruncatedMapWithoutAllocatingWhatItsHeaderClaims() throws {
        let claimed = 12 * 8192 * 8192
        let path = try Self.write(Self.maskFile([[Float](repeating: 1, count: 12)], rows: claimed))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try HealpixMask.unmaskedPixels(path: path, nside: 8192, spins: [0])
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("mask '\(path)': not a HEALPix FITS map: column 1: its header gives \(claimed) rows of 1 pixel(s), \(claimed) in all, but reading from pixel 1 failed")
        }
    }

    /// Found by fuzzing (fuzz/corpus/fits/ttype-unquoted-70): CFITSIO 4.2 strcpy's a TTYPEn value
    /// into a 70-byte field, and an unquoted 70-character one overflowed it (glibc aborted the
    /// process). The reader now refuses the card before CFITSIO parses the table's header.
    @Test(arguments: [
        "TTYPE1  = " + String(repeating: "x", count: 70),
        "TTYPE1  = 'unclosed",
        "HIERARCH TTYPE1 = " + String(repeating: "y", count: 62),
    ])
    func refusesAColumnNameCfitsioWouldOverflowOn(card: String) throws {
        let path = try Self.write(Self.maskFile([[Float](repeating: 1, count: 12)], tableCards: [card]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try HealpixMask.unmaskedPixels(path: path, nside: 1, spins: [0])
        } throws: { error in
            "\(error)" == "mask '\(path)': not a HEALPix FITS map: card 10 of its table's header gives a column name that is not a quoted string of at most 68 characters (CFITSIO would overflow on it): \"\(card)\""
        }
    }

    /// Found by fuzzing (fuzz/corpus/fits/tfields-111111111): CFITSIO callocs its column table
    /// from TFIELDS first, 17.8 GB for 111,111,111 columns. Refused before CFITSIO reads it.
    @Test(arguments: ["111111111", "1000", "-1", "x", "3.0"])
    func refusesAColumnCountFitsDoesNotAllow(tfields: String) throws {
        let path = try Self.write(Self.maskFile([[Float](repeating: 1, count: 12)], tfields: tfields))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try HealpixMask.unmaskedPixels(path: path, nside: 1, spins: [0])
        } throws: { error in
            "\(error)".hasPrefix("mask '\(path)': not a HEALPix FITS map: card 8 of its table's header gives a column count that is not a whole number from 0 to 999 (FITS's limit): \"TFIELDS = ")
                && "\(error)".contains(tfields)
        }
        let plus = try Self.write(Self.maskFile([[Float](repeating: 1, count: 12)], tfields: "+1"))
        defer { try? FileManager.default.removeItem(atPath: plus) }
        #expect(try HealpixMask.unmaskedPixels(path: plus, nside: 1, spins: [0]) == [12])
    }
}
