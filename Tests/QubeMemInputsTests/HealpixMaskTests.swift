import Foundation
@testable import QubeMemInputs
import Testing

/// Masks written here byte by byte: a primary HDU and a BINTABLE of float32 map columns, as healpy
/// writes them (no healpy in the Swift suites).
@Suite struct HealpixMaskTests {
    /// A FITS file with one float32 column per map, `perRow` pixels a row (healpy: 1024 for big maps).
    /// - Parameter rows: the NAXIS2 to write (nil: what the maps need). The data written is the maps'.
    static func maskFile(_ maps: [[Float]], perRow: Int = 1, rows: Int? = nil) -> Data {
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
                     card("GCOUNT", "1"), card("TFIELDS", String(maps.count))]
        for i in maps.indices { cards.append(card("TFORM\(i + 1)", "'\(perRow)E'")) }
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
        let path = try Self.write(Self.maskFile([t, p, p]))
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
}
