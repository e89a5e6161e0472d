import QubeMem

// Line and number readers shared by the /proc parsers.

/// Calls `body(key, value)` with the bytes of every `Key:<ws>value` line.
func forEachLineBytes(_ all: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
    var start = all.startIndex
    let n = all.endIndex
    while start < n {
        var end = start
        var colon = -1
        while end < n && all[end] != 10 {
            if colon < 0 && all[end] == UInt8(ascii: ":") { colon = end }
            end += 1
        }
        if colon > start { body(all[start..<colon], all[(colon + 1)..<end]) }
        start = end + 1
    }
}

/// Calls `body(key, value)` for every `Key:<ws>value` line.
func forEachLine(_ bytes: some Collection<UInt8>, _ body: (String, ArraySlice<UInt8>) -> Void) {
    let all = Array(bytes)
    for line in all.split(separator: 10, omittingEmptySubsequences: true) {
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let key = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            body(key, line[(colon + 1)...])
        } else if let space = line.firstIndex(of: 32) {
            // smaps_rollup's first line: "start-end ---p ... [rollup]".
            body(String(decoding: line[line.startIndex..<space], as: UTF8.self), line[(space + 1)...])
        }
    }
}

/// A non-negative decimal integer, surrounding blanks and tabs allowed. nil on anything else or
/// on overflow.
func parseDecimal<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> UInt64? {
    let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
    guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) })
    else { return nil }
    return DecimalText.parse(bytes[first...last])
}

/// `   1234 kB` → 1234 × 1024 bytes. nil unless the unit is kB.
func parseKiB(_ bytes: ArraySlice<UInt8>) -> UInt64? {
    bytes.withUnsafeBufferPointer { parseKiB($0) }
}

/// `parseKiB` over a raw buffer.
func parseKiB(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
    var i = bytes.startIndex
    let end = bytes.endIndex
    while i < end, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
    guard let (value, afterDigits) = DecimalText.prefix(of: bytes, from: i) else { return nil }
    i = afterDigits
    while i < end, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
    guard end - i >= 2, bytes[i] == UInt8(ascii: "k"), bytes[i + 1] == UInt8(ascii: "B") else { return nil }
    i += 2
    while i < end, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 { i += 1 }
    guard i == end else { return nil }
    let (b, o) = value.multipliedReportingOverflow(by: 1024)
    return o ? nil : b
}
