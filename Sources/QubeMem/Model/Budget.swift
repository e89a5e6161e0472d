/// The QUBE pipeline path whose memory is priced.
public enum PipelinePath: String, Sendable, CaseIterable {
    /// Tegmark-style V projection with the SMW kernel.
    case harmonic
    /// Direct pixel-space inverse covariance.
    case pixelDirect = "pixel_direct"
}

/// The four QUBE stages, in pipeline order.
public enum StageName: String, Sendable, CaseIterable {
    case covarianceSetup = "covariance_setup"
    case basisSetup = "basis_setup"
    case fisherRun = "fisher_run"
    case spectraRun = "spectra_run"
}

/// One named allocation in a stage.
public struct Term: Sendable, Equatable {
    /// The name QUBE's reference model gives the term (or qubemem's, for measured terms).
    public var name: String
    /// Size in bytes.
    public var bytes: UInt64

    public init(_ name: String, _ bytes: UInt64) {
        self.name = name
        self.bytes = bytes
    }
}

/// The memory of one stage: what is alive at its exit and what is alive only at its peak.
public struct StageBudget: Sendable, Equatable {
    public var name: StageName
    /// Allocations alive at stage exit, in the reference model's order.
    public var persistent: [Term]
    /// Allocations alive only at the stage peak, assumed simultaneous.
    public var transient: [Term]
    /// Sum of persistent terms, bytes.
    public var persistentBytes: UInt64
    /// Sum of transient terms, bytes.
    public var transientBytes: UInt64
    /// Stage peak = persistent + transients, bytes.
    public var peakBytes: UInt64 { persistentBytes &+ transientBytes }
}

/// A whole-pipeline budget: the four stages and the lifetime peak, all above baseline RSS.
///
/// The terms are held packed and inline (`PackedTerms`), so that computing a budget allocates
/// nothing; `stages` and `stage(_:)` build the per-stage view on demand. Every stage total
/// is checked to fit in 64 bits when the budget is built.
public struct Budget: Sendable, Equatable {
    public var model: ModelVersion
    public var path: PipelinePath
    /// Every term of every stage, in stage order; within a stage, persistent then transient.
    var entries: PackedTerms
    /// The largest stage peak, bytes.
    public private(set) var lifetimePeakBytes: UInt64

    /// One term. `bytes` comes first so that an entry takes 16 bytes, not 24.
    struct Entry: Sendable, Equatable {
        var bytes: UInt64
        var name: TermName
        var stage: StageName
        var transient: Bool

        init(name: TermName, bytes: UInt64, stage: StageName, transient: Bool) {
            self.bytes = bytes
            self.name = name
            self.stage = stage
            self.transient = transient
        }
    }

    /// Builds a budget whose stage totals the caller has already checked.
    init(model: ModelVersion, path: PipelinePath, entries: PackedTerms, lifetimePeakBytes: UInt64) {
        self.model = model
        self.path = path
        self.entries = entries
        self.lifetimePeakBytes = lifetimePeakBytes
    }

    /// The four stages, in pipeline order.
    public var stages: [StageBudget] {
        StageName.allCases.compactMap(stage)
    }

    /// The stage with this name, if the budget has it.
    public func stage(_ name: StageName) -> StageBudget? {
        var s = StageBudget(name: name, persistent: [], transient: [], persistentBytes: 0, transientBytes: 0)
        var found = false
        for e in entries.array where e.stage == name {
            found = true
            if e.transient {
                s.transient.append(Term(e.name.rawValue, e.bytes))
                s.transientBytes &+= e.bytes
            } else {
                s.persistent.append(Term(e.name.rawValue, e.bytes))
                s.persistentBytes &+= e.bytes
            }
        }
        return found ? s : nil
    }

    /// This budget with a transient term appended to a stage.
    /// - Returns: `nil` when the stage total no longer fits in 64 bits (or, which no model does,
    ///   when every slot is taken).
    func adding(transient name: TermName, _ bytes: UInt64, to stage: StageName) -> Budget? {
        let n = entries.count
        guard n < PackedTerms.capacity else { return nil }  // never: models leave room (tested)
        var end = n
        var stageTotal = bytes
        for i in 0..<n {
            guard let e = entries[i], e.stage == stage else { continue }
            end = i + 1
            guard let t = Checked.add(stageTotal, e.bytes) else { return nil }
            stageTotal = t
        }
        let added = Entry(name: name, bytes: bytes, stage: stage, transient: true)
        let packed = PackedTerms(capacity: n + 1) { out, capacity in
            var written = 0
            for i in 0...n where written < capacity {
                let e = i == end ? added : entries[i < end ? i : i - 1]
                guard let e else { continue }
                (out + written).initialize(to: e)
                written += 1
            }
            return written
        }
        return Budget(model: model, path: path, entries: packed,
                      lifetimePeakBytes: max(lifetimePeakBytes, stageTotal))
    }
}

/// Overflow-checked unsigned arithmetic; every result is `nil` instead of a trap.
enum Checked {
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    static func mul(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// `a × b × 8`: the bytes of a dense float64 matrix of `a` rows and `b` columns.
    static func matrix(_ a: UInt64, _ b: UInt64) -> UInt64? {
        guard let ab = mul(a, b) else { return nil }
        return mul(ab, 8)
    }
}
