import QubeMem
import QubeMemSlurm

/// The fields of one sacct `--parsable2` row: where each ends, and in which column each audit
/// field is (from the header line, when sacct printed one).
///
/// Only offsets are kept; the merge reads the fields it needs straight from the row's bytes.
struct SacctRowFields: Sendable {
    /// End of each field of the current row (the offset of the `|` after it, or of the row's end).
    private(set) var ends: [Int] = []
    private(set) var count = 0

    /// Column of each field in a row.
    struct Layout: Sendable {
        var column: [Int]  // indexed by SacctField ordinal
        var count: Int
        /// Free-text fields are the last two columns, so extra `|` can be absorbed.
        var textLast: Bool

        static let standard = Layout(
            column: Array(0..<SacctField.allCases.count), count: SacctField.allCases.count, textLast: true)
    }

    /// Sets `ends` and `count` for a row. Writes into `ends` in place, 32 fields at a time.
    @inline(__always)
    mutating func split(_ line: UnsafeBufferPointer<UInt8>) {
        let n = line.count
        var count = 0
        var start = 0
        var done = false
        while !done {
            if ends.count < count + 32 { ends.append(contentsOf: repeatElement(0, count: count + 32 - ends.count)) }
            ends.withUnsafeMutableBufferPointer { e in
                for _ in 0..<32 {
                    let i = firstIndex(of: UInt8(ascii: "|"), in: line, from: start)
                    e[count] = i
                    count &+= 1
                    if i >= n {
                        done = true
                        return
                    }
                    start = i &+ 1
                }
            }
        }
        self.count = count
    }

    /// A header line (first field `JobID`) sets the column order; every audit field must be present.
    static func headerLayout(_ line: UnsafeBufferPointer<UInt8>) -> Result<Layout, HeaderError>? {
        let names = String(decoding: line, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false).map {
            String($0).lowercased()
        }
        guard names.first == "jobid" else { return nil }
        var column = [Int](repeating: -1, count: SacctField.allCases.count)
        for field in SacctField.allCases {
            guard let c = names.firstIndex(of: field.rawValue.lowercased()) else {
                return .failure(HeaderError(message: "the header line has no '\(field.rawValue)' column; "
                    + "the audit needs: \(SacctField.formatList)"))
            }
            column[field.ordinal] = c
        }
        let n = names.count
        let textLast = column[SacctField.comment.ordinal] == n - 2
            && column[SacctField.adminComment.ordinal] == n - 1
        return .success(Layout(column: column, count: n, textLast: textLast))
    }

    struct HeaderError: Error { var message: String }
}

extension SacctAccumulator {
    func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// A plain unsigned decimal; nil if empty or not a number.
    @inline(__always)
    func number(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? { DecimalText.parse(bytes) }

    /// The `mem=` figure of a TRES list (`cpu=…,mem=123456,…`) in bytes.
    /// - Returns: `.some(nil)` when there is no mem entry, nil when the entry is unreadable.
    func tresMemory(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64?? {
        var i = 0
        let n = bytes.count
        while i < n {
            var j = i
            while j < n && bytes[j] != UInt8(ascii: ",") { j += 1 }
            // entry is bytes[i..<j]
            if j - i > 4 && bytes[i] == UInt8(ascii: "m") && bytes[i + 1] == UInt8(ascii: "e")
                && bytes[i + 2] == UInt8(ascii: "m") && bytes[i + 3] == UInt8(ascii: "=")
            {
                switch MemorySize.parse(UnsafeBufferPointer(rebasing: bytes[(i + 4)..<j]), bareUnitShift: 0) {
                case .bytes(let b): return .some(b)
                case .empty: return .some(nil)
                case .invalid: return nil
                }
            }
            i = j + 1
        }
        return .some(nil)
    }
}

extension SacctField {
    var ordinal: Int {
        switch self {
        case .jobID: return 0
        case .jobName: return 1
        case .user: return 2
        case .account: return 3
        case .partition: return 4
        case .state: return 5
        case .elapsedRaw: return 6
        case .nNodes: return 7
        case .nTasks: return 8
        case .allocCPUs: return 9
        case .reqMem: return 10
        case .maxRSS: return 11
        case .tresUsageInTot: return 12
        case .comment: return 13
        case .adminComment: return 14
        }
    }
}
