internal import CCFITSIO
import Foundation
import QubeMem

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
        let fits = try CFITSIO.load()
        let ffdkopn = fits.open, ffclos = fits.close, ffmahd = fits.moveToHDU, ffgnrw = fits.rows
        let ffgncl = fits.columns, ffgtcl = fits.columnType, ffgcvd = fits.readDoubles, ffghadll = fits.hduAddresses
        func message(_ status: Int32) -> String { fits.message(status) }
        var status: Int32 = 0
        var file: UnsafeMutablePointer<fitsfile>? = nil
        // ffdkopn: the name is a plain path (no CFITSIO extended-filename syntax). CFITSIO calls
        // return their status, also left in `status`, which is what is checked.
        _ = ffdkopn(&file, path, READONLY, &status)
        guard status == 0, let file else { throw .maskNotFITS(path: path, why: message(status)) }
        defer {
            var closeStatus: Int32 = 0
            _ = ffclos(file, &closeStatus)
        }
        // Where the primary HDU ends is where the table's header starts; it is checked before
        // CFITSIO parses it (see checkTableHeader).
        var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        _ = ffghadll(file, &headStart, &dataStart, &dataEnd, &status)
        guard status == 0 else { throw .maskNotFITS(path: path, why: message(status)) }
        try checkTableHeader(path: path, at: dataEnd)
        var hduType: Int32 = 0
        _ = ffmahd(file, 2, &hduType, &status)
        guard status == 0 else {
            throw .maskNotFITS(path: path, why: "no table extension after the primary header (\(message(status)))")
        }
        guard hduType == BINARY_TBL else {
            throw .maskNotFITS(path: path, why: "its first extension is not a binary table")
        }
        var rows: Int = 0
        var available: Int32 = 0
        _ = ffgnrw(file, &rows, &status)
        _ = ffgncl(file, &available, &status)
        guard status == 0 else { throw .maskNotFITS(path: path, why: message(status)) }
        guard Int(available) >= count else {
            throw .maskColumns(path: path, columns: Int(available), needed: count)
        }
        var out: [[Bool]] = []
        for column in stride(from: 1, through: count, by: 1) {
            var typeCode: Int32 = 0
            var repeatCount: Int = 0
            var width: Int = 0
            _ = ffgtcl(file, Int32(column), &typeCode, &repeatCount, &width, &status)
            guard status == 0 else { throw .maskNotFITS(path: path, why: message(status)) }
            let (pixels, overflow) = rows.multipliedReportingOverflow(by: max(repeatCount, 1))
            guard !overflow else { throw .maskNotFITS(path: path, why: "its table size overflows") }
            guard nside > 0, nside <= 1 << 13, pixels == 12 * nside * nside else {
                throw .maskNside(path: path, pixels: pixels, nside: nside)
            }
            // Read in chunks, the flags growing with what was read: the header's size is a claim
            // until the file's bytes back it (a truncated nside-8192 mask says 6 GiB of doubles).
            let perRow = max(repeatCount, 1)
            var active: [Bool] = []
            active.reserveCapacity(min(pixels, readChunk))
            var values = [Double](repeating: 0, count: min(pixels, readChunk))
            var anyNull: Int32 = 0
            var done = 0
            while done < pixels {
                let n = min(readChunk, pixels - done)
                values.withUnsafeMutableBufferPointer { buffer in
                    _ = ffgcvd(file, Int32(column), Int64(done / perRow + 1), Int64(done % perRow + 1), Int64(n), 0,
                               buffer.baseAddress, &anyNull, &status)
                }
                guard status == 0 else {
                    throw .maskNotFITS(path: path, why: "column \(column): its header gives \(rows) rows of \(perRow) pixel(s), \(pixels) in all, but reading from pixel \(done + 1) failed: \(message(status))")
                }
                active.append(contentsOf: values.prefix(n).lazy.map { $0 > activeThreshold })
                done += n
            }
            out.append(active)
        }
        return out
    }

    /// Pixels read from CFITSIO at a time (512 KiB of doubles).
    static let readChunk = 1 << 16

    /// Refuses a table header that CFITSIO would overflow on while parsing it: a TTYPEn (column
    /// name) whose value is not a quoted string of at most 68 characters. CFITSIO (4.2, Debian 12)
    /// copies the value into a 70-byte field with strcpy, and an unquoted 70-character value is 71
    /// bytes with its NUL: glibc's fortified strcpy then aborts the process (found by fuzzing:
    /// fuzz/corpus/fits/ttype-unquoted-70). FITS itself requires TTYPEn to be a quoted string.
    /// Stops at the header's END card; a file that ends first is left to CFITSIO to report.
    /// - Parameters:
    ///   - path: the FITS file.
    ///   - offset: where the first extension's header starts (bytes).
    /// - Throws: `InputError.maskNotFITS` quoting the card.
    static func checkTableHeader(path: String, at offset: Int64) throws(InputError) {
        guard offset >= 0, let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(offset))) != nil else { return }
        var number = 0
        while let block = try? handle.read(upToCount: 2880), block.count == 2880 {
            for start in stride(from: block.startIndex, to: block.endIndex, by: 80) {
                let card = block[start ..< start + 80]
                number += 1
                if card.starts(with: Array("END     ".utf8)) { return }
                var keyword = card[...]
                if keyword.starts(with: Array("HIERARCH ".utf8)) {
                    keyword = keyword.dropFirst(9).drop { $0 == UInt8(ascii: " ") }
                }
                if keyword.starts(with: Array("TFIELDS =".utf8)) {
                    try checkColumnCount(card, number: number, path: path)
                    continue
                }
                guard keyword.starts(with: Array("TTYPE".utf8)),
                      let equals = card.firstIndex(of: UInt8(ascii: "="))
                else { continue }
                let value = card[(equals + 1)...].drop { $0 == UInt8(ascii: " ") }
                if quotedLength(value).map({ $0 <= 68 }) != true {
                    let shown = String(decoding: card, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    throw .maskNotFITS(path: path, why: "card \(number) of its table's header gives a column name that is not a quoted string of at most 68 characters (CFITSIO would overflow on it): \"\(shown)\"")
                }
            }
        }
    }

    /// Refuses a TFIELDS card whose value is not a whole number of columns FITS allows (0 to 999).
    /// Found by fuzzing (fuzz/corpus/fits/tfields-111111111): CFITSIO callocs a column table from
    /// TFIELDS before it reads any column, 17.8 GB for 111,111,111 columns.
    private static func checkColumnCount(_ card: Data, number: Int, path: String) throws(InputError) {
        let value = card.dropFirst(9).drop { $0 == UInt8(ascii: " ") }
            .prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "/") }
        let digits = value.first == UInt8(ascii: "+") ? value.dropFirst() : value
        guard digits.count <= 3, DecimalText.parse(digits) != nil else {
            let shown = String(decoding: card, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            throw .maskNotFITS(path: path, why: "card \(number) of its table's header gives a column count that is not a whole number from 0 to 999 (FITS's limit): \"\(shown)\"")
        }
    }

    /// The length of a FITS string value's text between its quotes ('' counts as two), or nil
    /// when it does not start with a quote or has no closing one.
    private static func quotedLength(_ value: Data) -> Int? {
        let quote = UInt8(ascii: "'")
        guard value.first == quote else { return nil }
        var i = value.index(after: value.startIndex)
        while i < value.endIndex {
            if value[i] == quote {
                let next = value.index(after: i)
                guard next < value.endIndex, value[next] == quote else { return i - value.startIndex - 1 }
                i = value.index(after: next)
            } else {
                i = value.index(after: i)
            }
        }
        return nil
    }
}

/// The CFITSIO functions the mask reader calls, from libcfitsio loaded at first use.
struct CFITSIO: @unchecked Sendable {
    typealias File = UnsafeMutablePointer<fitsfile>
    var open: @convention(c) (UnsafeMutablePointer<File?>?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Int32>?) -> Int32
    var close: @convention(c) (File?, UnsafeMutablePointer<Int32>?) -> Int32
    var moveToHDU: @convention(c) (File?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    var rows: @convention(c) (File?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?) -> Int32
    var columns: @convention(c) (File?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    var columnType: @convention(c) (File?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int>?,
                                    UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?) -> Int32
    var readDoubles: @convention(c) (File?, Int32, Int64, Int64, Int64, Double, UnsafeMutablePointer<Double>?,
                                     UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    var errorText: @convention(c) (Int32, UnsafeMutablePointer<CChar>?) -> Void
    var hduAddresses: @convention(c) (File?, UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<Int64>?,
                                      UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<Int32>?) -> Int32

    /// Sonames tried in order: the -dev package's link, then the runtime libraries of Debian 12/13.
    static let libraries = ["libcfitsio.so", "libcfitsio.so.10", "libcfitsio.so.9"]

    private static let loaded: Result<CFITSIO, InputError> = {
        var reasons: [String] = []
        for name in libraries {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                reasons.append(String(cString: dlerror()))
                continue
            }
            func symbol<T>(_ name: String, as type: T.Type) -> T? {
                dlsym(handle, name).map { unsafeBitCast($0, to: type) }
            }
            if let open = symbol("ffdkopn", as: type(of: CFITSIO.placeholder.open)),
               let close = symbol("ffclos", as: type(of: CFITSIO.placeholder.close)),
               let move = symbol("ffmahd", as: type(of: CFITSIO.placeholder.moveToHDU)),
               let rows = symbol("ffgnrw", as: type(of: CFITSIO.placeholder.rows)),
               let columns = symbol("ffgncl", as: type(of: CFITSIO.placeholder.columns)),
               let columnType = symbol("ffgtcl", as: type(of: CFITSIO.placeholder.columnType)),
               let read = symbol("ffgcvd", as: type(of: CFITSIO.placeholder.readDoubles)),
               let errorText = symbol("ffgerr", as: type(of: CFITSIO.placeholder.errorText)),
               let hduAddresses = symbol("ffghadll", as: type(of: CFITSIO.placeholder.hduAddresses))
            {
                return .success(CFITSIO(open: open, close: close, moveToHDU: move, rows: rows, columns: columns,
                                        columnType: columnType, readDoubles: read, errorText: errorText,
                                        hduAddresses: hduAddresses))
            }
            reasons.append("\(name) lacks a CFITSIO function")
        }
        return .failure(.cfitsioMissing(why: reasons.joined(separator: "; ")))
    }()

    /// Function types only; never called.
    private static let placeholder = CFITSIO(
        open: { _, _, _, _ in 0 }, close: { _, _ in 0 }, moveToHDU: { _, _, _, _ in 0 }, rows: { _, _, _ in 0 },
        columns: { _, _, _ in 0 }, columnType: { _, _, _, _, _, _ in 0 }, readDoubles: { _, _, _, _, _, _, _, _, _ in 0 },
        errorText: { _, _ in }, hduAddresses: { _, _, _, _, _ in 0 })

    /// The library, loaded once.
    /// - Throws: `InputError.cfitsioMissing` when no CFITSIO library can be loaded.
    static func load() throws(InputError) -> CFITSIO {
        try loaded.get()
    }

    /// CFITSIO's text for a status code.
    func message(_ status: Int32) -> String {
        var text = [CChar](repeating: 0, count: 32)
        errorText(status, &text)
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self) + " (CFITSIO status \(status))"
    }
}
