import QubeMem

/// The plugin's decision record in a job's AdminComment (version 1, docs/design.md).
///
///     qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=… baseline_bytes=… slack=1.15 request_mib=3456 user_mib=none
///
/// The plugin appends one record per decision (after `; ` when the AdminComment already held text);
/// the audit reads the last one. Unknown fields are ignored, as the contract allows fields to be added.
public struct AdminRecord: Equatable, Sendable {
    public var action: String
    public var model: String
    public var path: String
    /// Lifetime peak above baseline, bytes.
    public var peakBytes: UInt64
    /// Interpreter floor plus input covariances, bytes.
    public var baselineBytes: UInt64
    /// The slack multiplier as written, in ten-thousandths (1.15 → 11500).
    public var slackTenThousandths: UInt64
    /// The memory per node the job was given, MiB.
    public var requestMiB: UInt64
    /// What the user asked for, MiB per node, or nil for `none`.
    public var userMiB: UInt64?
    /// A multi-rank (MPI) job's layout, from the fields added at the end of v1 records; nil for
    /// a single-process job (records without them).
    public var ranks: Ranks?

    /// How a multi-rank job's memory was priced.
    public enum Ranks: Equatable, Sendable {
        /// `ranks_per_node=R node_bytes=N`: the busiest node's R ranks, predicted N bytes.
        case perNode(ranks: UInt64, nodeBytes: UInt64)
        /// `ranks=N mem_per_cpu=yes cpus_per_rank=C rank_bytes=B`: N ranks whose nodes SLURM chose,
        /// each given B bytes (before slack) over C CPUs; `request_mib` is then per CPU.
        case perCPU(ranks: UInt64, cpusPerRank: UInt64, rankBytes: UInt64)
    }

    public init(action: String, model: String, path: String, peakBytes: UInt64, baselineBytes: UInt64,
                slackTenThousandths: UInt64, requestMiB: UInt64, userMiB: UInt64?, ranks: Ranks? = nil) {
        self.action = action
        self.model = model
        self.path = path
        self.peakBytes = peakBytes
        self.baselineBytes = baselineBytes
        self.slackTenThousandths = slackTenThousandths
        self.requestMiB = requestMiB
        self.userMiB = userMiB
        self.ranks = ranks
    }

    /// Predicted total per node, bytes (nil on overflow): peak + baseline for one process; the
    /// recorded node figure for ranks on a known number of nodes. A per-CPU record's node depends
    /// on what SLURM placed there: see `predictedNodeBytes(cpusPerNode:)`.
    public var predictedTotalBytes: UInt64? {
        switch ranks {
        case .perNode(_, let nodeBytes): return nodeBytes
        case .perCPU(_, _, let rankBytes): return rankBytes
        case nil:
            let (sum, overflow) = peakBytes.addingReportingOverflow(baselineBytes)
            return overflow ? nil : sum
        }
    }

    /// The predicted total of a node that got `cpusPerNode` CPUs (sacct's AllocCPUS / NNodes):
    /// for a per-CPU record, the ranks that fit on them, each at the recorded rank figure.
    public func predictedNodeBytes(cpusPerNode: UInt64) -> UInt64? {
        guard case .perCPU(_, let cpusPerRank, let rankBytes) = ranks else { return predictedTotalBytes }
        let perRank = max(cpusPerRank, 1)
        let ranksHere = max(cpusPerNode / perRank + (cpusPerNode % perRank == 0 ? 0 : 1), 1)
        let (b, o) = rankBytes.multipliedReportingOverflow(by: ranksHere)
        return o ? nil : b
    }

    /// Ranks on the busiest node (per-CPU records: nil, SLURM chose), 1 for a single process.
    public var ranksPerNode: UInt64? {
        switch ranks {
        case nil: return 1
        case .perNode(let r, _): return r
        case .perCPU: return nil
        }
    }

    /// What an AdminComment holds as far as qubemem is concerned.
    public enum Found: Equatable, Sendable {
        /// No `qubemem:` record (empty, or text from other tools only).
        case none
        /// The last record, parsed.
        case record(AdminRecord)
        /// The last record is the plugin's `action=warn`: it saw a qube comment it could not read
        /// and left the job as submitted (docs/design.md), so there is no prediction.
        case warned
        /// The last record is not a valid version-1 record; the text says why.
        case invalid(String)
    }

    /// Finds and parses the last qubemem record in an AdminComment.
    public static func find(in adminComment: String) -> Found {
        var text = adminComment
        return text.withUTF8 { find(in: $0) }
    }

    /// `qubemem:` as a little-endian word, to match the marker with one load.
    private static let markerWord: UInt64 = 0x3A6D_656D_6562_7571

    /// Finds and parses the last qubemem record in an AdminComment's bytes. The audit calls it once
    /// per job, so it makes no String except the three it keeps (action, model, path) and the
    /// message of an invalid record.
    ///
    /// A record starts at `qubemem:` at the start of the text or after a space, tab, `;` or `,`,
    /// and runs to the next `;` or the end; the one starting last counts.
    public static func find(in bytes: UnsafeBufferPointer<UInt8>) -> Found {
        let n = bytes.count
        guard n >= 8, let base = bytes.baseAddress else { return .none }
        let raw = UnsafeRawPointer(base)
        let lastStart = n &- 8
        var found = -1
        var i = 0
        while true {
            i = firstIndex(of: UInt8(ascii: "q"), in: bytes, from: i)
            if i > lastStart { break }
            if (i == 0 || isSeparator(base[i &- 1]))
                && UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) == markerWord
            {
                found = i
                i &+= 8  // no `q` inside the marker after its first byte
            } else {
                i &+= 1
            }
        }
        guard found >= 0 else { return .none }
        let end = firstIndex(of: UInt8(ascii: ";"), in: bytes, from: found)
        return parseRecord(UnsafeBufferPointer(rebasing: bytes[found..<end]))
    }

    @inline(__always)
    private static func isSeparator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ";") || b == UInt8(ascii: ",")
    }

    @inline(__always)
    private static func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    /// The offset of the first space or tab in `p[from..<n]`, or `n`; 8 bytes at a time, like
    /// `firstIndex(of:in:from:)` (the lowest flagged byte of either pattern is a true match).
    @inline(__always)
    private static func firstSpace(_ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int {
        var i = from
        let raw = UnsafeRawPointer(p)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i &+ 8 <= n {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let spaces = word ^ 0x2020_2020_2020_2020
            let tabs = word ^ 0x0909_0909_0909_0909
            let found = ((spaces &- ones) & ~spaces | (tabs &- ones) & ~tabs) & highs
            if found != 0 { return i &+ (UInt64(littleEndian: found).trailingZeroBitCount >> 3) }
            i &+= 8
        }
        while i < n && !isSpace(p[i]) { i &+= 1 }
        return i
    }

    /// The slot (`RecordKey.rawValue`) of a version-1 field name, or nil for a field this version
    /// does not read.
    ///
    /// The candidates of each length are named by case, their spelling is `RecordKey.name`'s
    /// (RecordRoundTripTests reads every key back). A switch rather than a loop over all keys or a
    /// table: this runs once per field of every job's record, and the loop cost the audit 5%.
    @inline(__always)
    private static func keySlot(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        let candidates: (RecordKey?, RecordKey?, RecordKey?)
        switch count {
        case 4: candidates = (.path, nil, nil)
        case 5: candidates = (.model, .slack, .ranks)
        case 6: candidates = (.action, nil, nil)
        case 8: candidates = (.userMiB, nil, nil)
        case 10: candidates = (.peakBytes, .nodeBytes, .rankBytes)
        case 11: candidates = (.requestMiB, .memPerCPU, nil)
        case 13: candidates = (.cpusPerRank, nil, nil)
        case 14: candidates = (.baselineBytes, .ranksPerNode, nil)
        default: return nil
        }
        @inline(__always) func matches(_ key: RecordKey?) -> Bool {
            guard let key else { return false }
            return ByteText.equal(p, count: count, key.name)
        }
        if matches(candidates.0) { return candidates.0?.rawValue }
        if matches(candidates.1) { return candidates.1?.rawValue }
        if matches(candidates.2) { return candidates.2?.rawValue }
        return nil
    }

    /// Parses one record starting at `qubemem:` and ending before `;` or at the end.
    static func parseRecord(_ r: UnsafeBufferPointer<UInt8>) -> Found {
        guard let p = r.baseAddress else { return .invalid("unsupported record version ''") }
        let n = r.count
        func text(_ a: Int, _ b: Int) -> String {
            String(decoding: UnsafeBufferPointer(start: p + a, count: b - a), as: UTF8.self)
        }
        var i = 0
        while i < n && !isSpace(p[i]) { i &+= 1 }
        // The head must be exactly `qubemem:v1`.
        guard i == 10, UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) == markerWord,
              p[8] == UInt8(ascii: "v"), p[9] == UInt8(ascii: "1")
        else {
            return .invalid("unsupported record version '\(text(0, i))'")
        }
        // Value of each field of `keyNames`: start and end offsets, start -1 when absent.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * RecordKey.count) { slots -> Found in
            for k in 0..<(2 * RecordKey.count) { slots.initializeElement(at: k, to: -1) }
            while i < n {
                while i < n && isSpace(p[i]) { i &+= 1 }
                if i >= n { break }
                let tokenStart = i
                i = firstSpace(p, from: i, n)
                let length = i &- tokenStart
                let eq = tokenStart &+ firstIndex(
                    of: UInt8(ascii: "="), in: UnsafeBufferPointer(start: p + tokenStart, count: length), from: 0)
                guard eq < i else { return .invalid("field without '=': '\(text(tokenStart, i))'") }
                guard let k = keySlot(p + tokenStart, eq &- tokenStart) else { continue }  // later fields
                if slots[2 &* k] >= 0 { return .invalid("field '\(RecordKey(rawValue: k)?.name.description ?? "")' given twice") }
                slots[2 &* k] = eq &+ 1
                slots[2 &* k &+ 1] = i
            }
            func has(_ key: RecordKey) -> Bool { slots[2 &* key.rawValue] >= 0 }
            func value(_ key: RecordKey) -> UnsafeBufferPointer<UInt8> {
                let k = key.rawValue
                return UnsafeBufferPointer(start: p + slots[2 &* k], count: slots[2 &* k &+ 1] &- slots[2 &* k])
            }
            func number(_ key: RecordKey) -> UInt64? { has(key) ? parseUInt64(value(key)) : nil }
            func shown(_ key: RecordKey) -> String { has(key) ? String(decoding: value(key), as: UTF8.self) : "" }
            func missing(_ key: RecordKey) -> Found { .invalid("missing field '\(key.name)'") }
            func bad(_ key: RecordKey) -> Found { .invalid("bad or missing \(key.name) '\(shown(key))'") }
            guard has(.action) else { return missing(.action) }
            let action = value(.action)
            if ByteText.equal(action, "warn") { return .warned }
            guard has(.model) else { return missing(.model) }
            guard has(.path) else { return missing(.path) }
            guard let peak = number(.peakBytes) else { return bad(.peakBytes) }
            guard let base = number(.baselineBytes) else { return bad(.baselineBytes) }
            guard has(.slack), let slack = parseDecimal4Bytes(value(.slack)) else {
                return bad(.slack)
            }
            guard let request = number(.requestMiB) else { return bad(.requestMiB) }
            var user: UInt64? = nil
            if has(.userMiB) {
                let u = value(.userMiB)
                if !ByteText.equal(u, "none") {
                    guard let v = parseUInt64(u) else { return .invalid("bad user_mib '\(shown(.userMiB))'") }
                    user = v
                }
            }
            var ranks: Ranks? = nil
            if has(.ranksPerNode) || has(.nodeBytes) {
                guard let r = number(.ranksPerNode), r > 0 else { return bad(.ranksPerNode) }
                guard let nodeBytes = number(.nodeBytes) else { return bad(.nodeBytes) }
                ranks = .perNode(ranks: r, nodeBytes: nodeBytes)
            } else if has(.memPerCPU) {
                guard ByteText.equal(value(.memPerCPU), "yes") else { return .invalid("bad mem_per_cpu '\(shown(.memPerCPU))' (only yes is written)") }
                guard let r = number(.ranks), r > 0 else { return bad(.ranks) }
                guard let c = number(.cpusPerRank), c > 0 else { return bad(.cpusPerRank) }
                guard let b = number(.rankBytes) else { return bad(.rankBytes) }
                ranks = .perCPU(ranks: r, cpusPerRank: c, rankBytes: b)
            }
            return .record(AdminRecord(
                action: String(decoding: action, as: UTF8.self), model: String(decoding: value(.model), as: UTF8.self),
                path: String(decoding: value(.path), as: UTF8.self), peakBytes: peak, baselineBytes: base,
                slackTenThousandths: slack, requestMiB: request, userMiB: user, ranks: ranks))
        }
    }

    @inline(__always)
    private static func parseUInt64(_ b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        DecimalText.parse(b)
    }
}

/// Parses a non-negative decimal with at most 4 places into ten-thousandths ("1.15" → 11500).
public func parseDecimal4(_ text: some StringProtocol) -> UInt64? {
    parseDecimal4Bytes(text.utf8)
}

/// `parseDecimal4` on the text's UTF-8 bytes.
func parseDecimal4Bytes(_ bytes: some Collection<UInt8>) -> UInt64? {
    DecimalText.fixedPoint(bytes, places: 4)
}

/// Formats ten-thousandths as a short decimal ("11500" → "1.15", "10000" → "1.0").
public func formatDecimal4(_ value: UInt64) -> String {
    let whole = value / 10_000
    var fraction = value % 10_000
    if fraction == 0 { return "\(whole).0" }
    var places = 4
    while fraction % 10 == 0 { fraction /= 10; places -= 1 }
    var digits = String(fraction)
    while digits.count < places { digits = "0" + digits }
    return "\(whole).\(digits)"
}
