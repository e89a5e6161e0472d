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
    public let persistentBytes: UInt64
    /// Sum of transient terms, bytes.
    public let transientBytes: UInt64
    /// Stage peak = persistent + transients, bytes.
    public let peakBytes: UInt64

    /// Builds a stage, summing its terms with overflow checks.
    /// - Returns: `nil` when a sum does not fit in 64 bits.
    init?(_ name: StageName, persistent: [Term], transient: [Term] = []) {
        guard let p = Checked.sum(persistent.map(\.bytes)),
              let t = Checked.sum(transient.map(\.bytes)),
              let peak = Checked.add(p, t)
        else { return nil }
        self.name = name
        self.persistent = persistent
        self.transient = transient
        self.persistentBytes = p
        self.transientBytes = t
        self.peakBytes = peak
    }
}

/// A whole-pipeline budget: the four stages and the lifetime peak, all above baseline RSS.
public struct Budget: Sendable, Equatable {
    public var model: ModelVersion
    public var path: PipelinePath
    public var stages: [StageBudget]
    /// The largest stage peak, bytes.
    public var lifetimePeakBytes: UInt64 {
        stages.reduce(0) { max($0, $1.peakBytes) }
    }

    /// The stage with this name, if present.
    public func stage(_ name: StageName) -> StageBudget? {
        stages.first { $0.name == name }
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

    static func sum(_ values: [UInt64]) -> UInt64? {
        var total: UInt64 = 0
        for v in values {
            guard let t = add(total, v) else { return nil }
            total = t
        }
        return total
    }

    /// `a × b × 8`: the bytes of a dense float64 matrix of `a` rows and `b` columns.
    static func matrix(_ a: UInt64, _ b: UInt64) -> UInt64? {
        guard let ab = mul(a, b) else { return nil }
        return mul(ab, 8)
    }
}
