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
/// A budget keeps the totals (each stage's peak, the lifetime peak) and its recipe: the reference
/// model's inputs, plus at most two terms added after it (qubemem's measured terms). The terms
/// themselves are written again from the recipe when asked for (`stages`, `stage(_:)`). Computing
/// a budget therefore allocates nothing and stays a small value, which is what the plugin inside
/// slurmctld and `qubemem predict` need; listing terms costs one more run of the formulas. Every
/// stage total is checked to fit in 64 bits when the budget is built.
public struct Budget: Sendable, Equatable {
    public var model: ModelVersion
    public var path: PipelinePath
    /// The reference model's inputs: how to write the terms again.
    let recipe: Recipe
    /// The terms added after the reference's, if any (first `extra`, then `extra2`).
    private var extra: Entry?
    private var extra2: Entry?
    /// Each stage's peak (persistent + transient), bytes, in `StageName` order.
    private var stagePeaks: (UInt64, UInt64, UInt64, UInt64)
    /// The largest stage peak, bytes.
    public private(set) var lifetimePeakBytes: UInt64
    /// What basis_setup leaves alive for the later stages (QUBE's basis manager, which MPI
    /// broadcasts to every rank), bytes.
    public let basisSetupPersistentBytes: UInt64

    /// The inputs of the reference model that made a budget.
    enum Recipe: Sendable, Equatable {
        case harmonic(HarmonicInputs)
        case pixelDirect(PixelDirectInputs)
    }

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

    /// What the reference model's builder found: each stage's peak and the largest.
    struct Totals: Sendable, Equatable {
        var stagePeaks: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var lifetimePeak: UInt64 = 0
        /// What basis_setup leaves alive (the basis manager), bytes.
        var basisSetupPersistent: UInt64 = 0

        static func == (a: Totals, b: Totals) -> Bool {
            a.stagePeaks == b.stagePeaks && a.lifetimePeak == b.lifetimePeak
                && a.basisSetupPersistent == b.basisSetupPersistent
        }
    }

    /// Builds a budget whose stage totals the caller has already checked.
    init(model: ModelVersion, path: PipelinePath, recipe: Recipe, totals: Totals) {
        self.model = model
        self.path = path
        self.recipe = recipe
        stagePeaks = totals.stagePeaks
        lifetimePeakBytes = totals.lifetimePeak
        basisSetupPersistentBytes = totals.basisSetupPersistent
    }

    public static func == (a: Budget, b: Budget) -> Bool {
        a.model == b.model && a.path == b.path && a.recipe == b.recipe && a.extra == b.extra && a.extra2 == b.extra2
            && a.lifetimePeakBytes == b.lifetimePeakBytes
    }

    /// The peak of a stage, bytes (0 for a stage without terms).
    public func stagePeak(_ stage: StageName) -> UInt64 {
        switch stage {
        case .covarianceSetup: stagePeaks.0
        case .basisSetup: stagePeaks.1
        case .fisherRun: stagePeaks.2
        case .spectraRun: stagePeaks.3
        }
    }

    /// Every term of every stage, in stage order; within a stage, persistent then transient, then
    /// the added terms. Written again from the recipe on each call.
    var entries: [Entry] {
        var out = ReferenceModel.terms(recipe, model: model)
        for added in [extra, extra2] {
            guard let added else { continue }
            let end = out.lastIndex { $0.stage == added.stage }.map { $0 + 1 } ?? out.count
            out.insert(added, at: end)
        }
        return out
    }

    /// The four stages, in pipeline order.
    public var stages: [StageBudget] {
        let all = entries
        return StageName.allCases.compactMap { Self.stage($0, of: all) }
    }

    /// The stage with this name, if the budget has it.
    public func stage(_ name: StageName) -> StageBudget? {
        Self.stage(name, of: entries)
    }

    private static func stage(_ name: StageName, of entries: [Entry]) -> StageBudget? {
        var s = StageBudget(name: name, persistent: [], transient: [], persistentBytes: 0, transientBytes: 0)
        var found = false
        for e in entries where e.stage == name {
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
    /// - Returns: `nil` when the stage total no longer fits in 64 bits, or (which no caller does:
    ///   qubemem adds at most two terms to one budget) when two terms were added already.
    func adding(transient name: TermName, _ bytes: UInt64, to stage: StageName) -> Budget? {
        guard extra2 == nil, let total = Checked.add(stagePeak(stage), bytes) else { return nil }
        var b = self
        let entry = Entry(name: name, bytes: bytes, stage: stage, transient: true)
        if extra == nil { b.extra = entry } else { b.extra2 = entry }
        switch stage {
        case .covarianceSetup: b.stagePeaks.0 = total
        case .basisSetup: b.stagePeaks.1 = total
        case .fisherRun: b.stagePeaks.2 = total
        case .spectraRun: b.stagePeaks.3 = total
        }
        b.lifetimePeakBytes = max(lifetimePeakBytes, total)
        return b
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
