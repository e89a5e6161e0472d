/// One row read through the binary protocol (`MariaDBSession.boundRows`): integer columns as
/// numbers, text columns as their bytes. Valid during the call only.
struct BoundRow {
    private let integers: UnsafeMutablePointer<UInt64>
    private let lengths: UnsafeMutablePointer<UInt>
    private let nulls: UnsafeMutablePointer<CChar>
    private let texts: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    /// A row over these columns' storage, as the library fills it (tests make their own).
    init(integers: UnsafeMutablePointer<UInt64>, lengths: UnsafeMutablePointer<UInt>, nulls: UnsafeMutablePointer<CChar>,
         texts: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        self.integers = integers
        self.lengths = lengths
        self.nulls = nulls
        self.texts = texts
    }

    /// An integer column's value; 0 for NULL (as the text protocol's `NULL` reads).
    func integer(_ column: Int) -> UInt64 { nulls[column] != 0 ? 0 : integers[column] }

    /// True when the column is NULL.
    func isNull(_ column: Int) -> Bool { nulls[column] != 0 }

    /// A text column's bytes; empty for NULL.
    func text(_ column: Int) -> UnsafeBufferPointer<UInt8> {
        guard nulls[column] == 0, let base = texts[column] else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: Int(lengths[column]))
    }
}
