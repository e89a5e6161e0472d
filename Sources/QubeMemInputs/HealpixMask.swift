internal import CCFITSIO

/// A HEALPix mask read from a FITS file with CFITSIO: the unmasked pixels of each map column.
///
/// healpy's `write_map` stores the maps as columns of the first binary-table extension (T, Q, U
/// for a polarised mask), possibly several pixels per row; QUBE reads the first `nfields` columns
/// with `hp.read_map(field=range(nfields))` and counts a pixel as unmasked when its value is
/// above 0.5 (cosmocore's ACTIVE_THRESHOLD).
public enum HealpixMask {
    /// QUBE's threshold for an unmasked pixel.
    public static let activeThreshold = 0.5

    /// The unmasked pixels of each field, as QUBE counts them.
    /// - Parameters:
    ///   - path: the FITS file.
    ///   - nside: the config's nside; the map must have 12 × nside² pixels.
    ///   - spins: one spin per field; a spin-2 field takes two columns (Q, U) that must agree.
    /// - Returns: one count per field.
    /// - Throws: `InputError` naming the file: not FITS, no table, too few columns, another
    ///   nside, an empty field, or Q and U that differ.
    public static func unmaskedPixels(path: String, nside: Int, spins: [Int]) throws(InputError) -> [Int] {
        let columns = try readColumns(path: path, nside: nside, count: spins.reduce(0) { $0 + ($1 == 2 ? 2 : 1) })
        var counts: [Int] = []
        var column = 0
        for spin in spins {
            let active = columns[column + (spin == 2 ? 1 : 0)]
            if spin == 2, active != columns[column] {
                throw .maskSpin2Differs(path: path, columns: (column, column + 1))
            }
            let n = active.reduce(0) { $0 + ($1 ? 1 : 0) }
            if n == 0 { throw .maskEmpty(path: path, column: column) }
            counts.append(n)
            column += spin == 2 ? 2 : 1
        }
        return counts
    }

    /// The first `count` columns of the mask as active-pixel flags.
    static func readColumns(path: String, nside: Int, count: Int) throws(InputError) -> [[Bool]] {
        var status: Int32 = 0
        var file: UnsafeMutablePointer<fitsfile>? = nil
        // ffdkopn: the name is a plain path (no CFITSIO extended-filename syntax).
        ffdkopn(&file, path, READONLY, &status)
        guard status == 0, let file else { throw .maskNotFITS(path: path, why: message(status)) }
        defer {
            var closeStatus: Int32 = 0
            ffclos(file, &closeStatus)
        }
        var hduType: Int32 = 0
        ffmahd(file, 2, &hduType, &status)
        guard status == 0 else {
            throw .maskNotFITS(path: path, why: "no table extension after the primary header (\(message(status)))")
        }
        guard hduType == BINARY_TBL else {
            throw .maskNotFITS(path: path, why: "its first extension is not a binary table")
        }
        var rows: Int = 0
        var available: Int32 = 0
        ffgnrw(file, &rows, &status)
        ffgncl(file, &available, &status)
        guard status == 0 else { throw .maskNotFITS(path: path, why: message(status)) }
        guard Int(available) >= count else {
            throw .maskColumns(path: path, columns: Int(available), needed: count)
        }
        var out: [[Bool]] = []
        for column in stride(from: 1, through: count, by: 1) {
            var typeCode: Int32 = 0
            var repeatCount: Int = 0
            var width: Int = 0
            ffgtcl(file, Int32(column), &typeCode, &repeatCount, &width, &status)
            guard status == 0 else { throw .maskNotFITS(path: path, why: message(status)) }
            let (pixels, overflow) = rows.multipliedReportingOverflow(by: max(repeatCount, 1))
            guard !overflow else { throw .maskNotFITS(path: path, why: "its table size overflows") }
            guard nside > 0, nside <= 1 << 13, pixels == 12 * nside * nside else {
                throw .maskNside(path: path, pixels: pixels, nside: nside)
            }
            var values = [Double](repeating: 0, count: pixels)
            var anyNull: Int32 = 0
            values.withUnsafeMutableBufferPointer { buffer in
                _ = ffgcvd(file, Int32(column), 1, 1, Int64(pixels), 0, buffer.baseAddress, &anyNull, &status)
            }
            guard status == 0 else {
                throw .maskNotFITS(path: path, why: "column \(column): \(message(status))")
            }
            out.append(values.map { $0 > activeThreshold })
        }
        return out
    }

    /// CFITSIO's text for a status code.
    private static func message(_ status: Int32) -> String {
        var text = [CChar](repeating: 0, count: 32)
        ffgerr(status, &text)
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self) + " (CFITSIO status \(status))"
    }
}
