/// QUBE's own memory model, `qube.memory_budget`, for every released version.
///
/// Term names, term order, formulas and input validation follow the reference of the chosen
/// version exactly; the oracle tests compare them byte for byte against the qube-qml wheels.
/// Every figure is above baseline RSS (interpreter, imports, the run's own inputs).
public enum ReferenceModel {
    /// The harmonic-path budget (QUBE's `predict_qube_budget`).
    /// - Returns: the four stages in bytes, or the first input the reference would reject.
    public static func harmonic(_ inputs: HarmonicInputs, model: ModelVersion) -> Result<Budget, BudgetError> {
        do { return .success(try harmonicBudget(inputs, model: model)) } catch { return .failure(error) }
    }

    /// The pixel-direct budget (QUBE's `predict_pixel_direct_budget`).
    /// - Returns: the four stages in bytes, or the first input the reference would reject.
    public static func pixelDirect(_ inputs: PixelDirectInputs, model: ModelVersion) -> Result<Budget, BudgetError> {
        do { return .success(try pixelDirectBudget(inputs, model: model)) } catch { return .failure(error) }
    }

    // MARK: - Harmonic

    static func harmonicBudget(_ c: HarmonicInputs, model: ModelVersion) throws(BudgetError) -> Budget {
        let totals = try harmonicTerms(c, model: model, into: nil, capacity: 0).totals
        return Budget(model: model, path: .harmonic, recipe: .harmonic(c), totals: totals)
    }

    /// The harmonic terms, written into `sink` (when given) as the reference orders them.
    private static func harmonicTerms(
        _ c: HarmonicInputs, model: ModelVersion, into sink: UnsafeMutablePointer<Budget.Entry>?, capacity: Int
    ) throws(BudgetError) -> (totals: Budget.Totals, count: Int) {
        let nPix = try positive("n_pix", c.nPix)
        let nModes = try positive("n_modes", c.nModes)
        _ = try positive("lmax_signal", c.lmaxSignal)
        if let lmax = c.lmax, lmax > c.lmaxSignal {
            throw .invalid(input: "lmax", value: String(lmax), rule: "must not exceed lmax_signal=\(c.lmaxSignal)")
        }
        let rank = try workingDim(c.workingDim, nPix: nPix, model: model)
        let filtered = rank < nPix
        let release = c.releasePixelProjector
        let switched = c.hasSwitch

        let pixSq = try bytes(nPix, nPix, "n_pix")
        let modeSq = try bytes(nModes, nModes, "n_modes")
        let modePix = try bytes(nModes, nPix, "n_modes")
        let workSq = try bytes(rank, rank, "working_dim")
        let modeWork = try bytes(nModes, rank, "n_modes")
        let pixWork = try bytes(rank, nPix, "working_dim")

        return try Builder.run(into: sink, capacity: capacity, blame: ("n_modes", nModes)) { b in
            b.persistent(.covT, workSq)
            b.transient(.covTCopy, pixSq)
            if filtered {
                b.transient(.nUnrestricted, pixSq)
                b.transient(.wTN, pixWork)
            }
            b.stage = .basisSetup
            b.persistent(.cholesky, workSq)
            b.persistent(.vNinv, modeWork)
            b.persistent(.mKernel, modeSq)
            if filtered { b.persistent(.filterBasis, pixWork) }
            if switched { b.persistent(.noiseBiasKernel, modeSq) }
            if !release { b.persistent(.pixelProjector, modeWork) }
            if release { b.transient(.vBeforeRelease, modeWork) }
            if filtered { b.transient(.vUnrestricted, modePix) }
            if switched {
                b.transient(.sFixedSwitch, pixSq)
                if filtered { b.transient(.sFixedRestricted, workSq) }
                b.transient(.corrIntermediate, modeWork)
            }
            b.stage = .fisherRun
            b.copyPersistent(from: .basisSetup)
            b.stage = .spectraRun
            b.copyPersistent(from: .basisSetup)
            b.persistent(.noiseCovT, modeSq)
        }
    }

    // MARK: - Pixel-direct

    static func pixelDirectBudget(_ c: PixelDirectInputs, model: ModelVersion) throws(BudgetError) -> Budget {
        let totals = try pixelDirectTerms(c, model: model, into: nil, capacity: 0).totals
        return Budget(model: model, path: .pixelDirect, recipe: .pixelDirect(c), totals: totals)
    }

    /// The pixel-direct terms, written into `sink` (when given) as the reference orders them.
    private static func pixelDirectTerms(
        _ c: PixelDirectInputs, model: ModelVersion, into sink: UnsafeMutablePointer<Budget.Entry>?, capacity: Int
    ) throws(BudgetError) -> (totals: Budget.Totals, count: Int) {
        let nPix = try positive("n_pix", c.nPix)
        let rank = try workingDim(c.workingDim, nPix: nPix, model: model)
        if model == .v1_0 {
            guard let lmaxSignal = c.lmaxSignal else {
                throw .missing(input: "lmax_signal", why: "model 1.0 requires it on the pixel-direct path")
            }
            _ = try positive("lmax_signal", lmaxSignal)
        } else if let lmaxSignal = c.lmaxSignal {
            _ = try positive("lmax_signal", lmaxSignal)
        }
        let nBins = try positive("n_bins", c.nBins)
        let nParams = try positive("n_params", c.nParams)
        if model == .v1_0, c.cacheDerivatives != nil {
            throw .notInModel(input: "cache_derivatives", model: model, validIn: "models 1.2 and 1.3")
        }
        if model != .v1_0, c.hasSwitch != nil {
            throw .notInModel(input: "switch (has_switch)", model: model, validIn: "model 1.0")
        }
        let switched = model == .v1_0 && (c.hasSwitch ?? true)
        let cached = c.cacheDerivatives ?? false
        let filtered = rank < nPix

        let pixSq = try bytes(nPix, nPix, "n_pix")
        let workSq = try bytes(rank, rank, "working_dim")
        let pixWork = try bytes(rank, nPix, "working_dim")
        let paramsWork = try scaled(nParams, workSq, "n_params")
        let binsWork = try scaled(nBins, workSq, "n_bins")

        return try Builder.run(into: sink, capacity: capacity, blame: ("n_params", nParams)) { b in
            b.persistent(.covTRetained, workSq)
            b.transient(.covTCopy, pixSq)
            if filtered { b.transient(.nUnrestricted, pixSq) }
            b.stage = .basisSetup
            b.persistent(.covTCarried, workSq)
            b.persistent(.basisN, workSq)
            if filtered { b.persistent(.filterBasis, pixWork) }
            if switched { b.persistent(.sFixedPool, pixSq) }
            b.stage = .fisherRun
            b.copyPersistent(from: .basisSetup)
            b.persistent(.directPixBuffer, pixSq)
            if cached { b.persistent(.derivativeCacheRetained, paramsWork) }
            b.transient(.cInv, workSq)
            b.transient(.cinvTimesDcb, paramsWork)
            if filtered {
                b.transient(.kernelBeforeConjugation, pixSq)
                b.transient(.conjugation, pixWork)
            }
            b.stage = .spectraRun
            b.copyPersistent(from: .fisherRun)
            b.persistent(.noiseCovW, workSq)
            b.transient(.cInvPerPoint, workSq)
            b.transient(.perBinProducts, binsWork)
        }
    }

    // MARK: - Building

    /// The terms a budget's recipe writes, in the reference's order (empty if the recipe no longer
    /// prices, which cannot happen for a recipe taken from a budget).
    static func terms(_ recipe: Budget.Recipe, model: ModelVersion) -> [Budget.Entry] {
        Array(unsafeUninitializedCapacity: Builder.capacity) { buffer, count in
            count = 0
            guard let base = buffer.baseAddress else { return }
            let written: Int?
            switch recipe {
            case .harmonic(let c): written = try? harmonicTerms(c, model: model, into: base, capacity: buffer.count).count
            case .pixelDirect(let c): written = try? pixelDirectTerms(c, model: model, into: base, capacity: buffer.count).count
            }
            count = written ?? 0
        }
    }

    /// Adds up a budget's terms, and writes them when given somewhere to. Callers add a stage's
    /// persistent terms before its transient ones, as the reference's two dicts hold them. Running
    /// past the capacity or overflowing a stage total sets `failed` instead of trapping. With no
    /// storage, an earlier stage's persistent terms are carried as their total: the sums are the
    /// same either way.
    private struct Builder {
        /// More entries than any model writes (the largest budget has 21).
        static let capacity = 40
        private let buffer: UnsafeMutablePointer<Budget.Entry>?
        private let capacity: Int
        private(set) var count = 0
        private(set) var failed = false
        /// The current stage's running total, bytes.
        private var total: UInt64 = 0
        /// Persistent bytes per stage, in `StageName` order.
        private var persistentBytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        private(set) var totals = Budget.Totals()
        var stage: StageName = .covarianceSetup {
            didSet { close(oldValue) }
        }

        init(_ buffer: UnsafeMutablePointer<Budget.Entry>?, capacity: Int) {
            self.buffer = buffer
            self.capacity = capacity
        }

        mutating func persistent(_ name: TermName, _ bytes: UInt64) {
            add(Budget.Entry(name: name, bytes: bytes, stage: stage, transient: false))
        }

        mutating func transient(_ name: TermName, _ bytes: UInt64) {
            add(Budget.Entry(name: name, bytes: bytes, stage: stage, transient: true))
        }

        /// Adds, to the current stage, the persistent terms of an earlier stage.
        mutating func copyPersistent(from source: StageName) {
            guard let buffer else {
                let carried = Self.get(persistentBytes, source)
                addToTotals(carried, persistent: true)
                return
            }
            let end = count
            var i = 0
            while i < end {
                var e = buffer[i]
                if e.stage == source, !e.transient {
                    e.stage = stage
                    add(e)
                }
                i += 1
            }
        }

        private mutating func add(_ e: Budget.Entry) {
            if let buffer {
                guard count < capacity else { failed = true; return }
                (buffer + count).initialize(to: e)
                count += 1
            }
            addToTotals(e.bytes, persistent: !e.transient)
        }

        private mutating func addToTotals(_ bytes: UInt64, persistent: Bool) {
            let (t, o) = total.addingReportingOverflow(bytes)
            total = t
            failed = failed || o
            if persistent {
                let (p, o2) = Self.get(persistentBytes, stage).addingReportingOverflow(bytes)
                Self.set(&persistentBytes, stage, p)
                failed = failed || o2
            }
        }

        /// Records a finished stage's peak.
        private mutating func close(_ finished: StageName) {
            Self.set(&totals.stagePeaks, finished, total)
            if finished == .basisSetup { totals.basisSetupPersistent = persistentBytes.1 }
            totals.lifetimePeak = max(totals.lifetimePeak, total)
            total = 0
        }

        private static func get(_ t: (UInt64, UInt64, UInt64, UInt64), _ s: StageName) -> UInt64 {
            switch s {
            case .covarianceSetup: t.0
            case .basisSetup: t.1
            case .fisherRun: t.2
            case .spectraRun: t.3
            }
        }

        private static func set(_ t: inout (UInt64, UInt64, UInt64, UInt64), _ s: StageName, _ v: UInt64) {
            switch s {
            case .covarianceSetup: t.0 = v
            case .basisSetup: t.1 = v
            case .fisherRun: t.2 = v
            case .spectraRun: t.3 = v
            }
        }

        /// Runs `fill` and returns the totals and the number of entries written.
        /// - Throws: an overflow naming `blame` when a stage total does not fit in 64 bits.
        static func run(into sink: UnsafeMutablePointer<Budget.Entry>?, capacity: Int, blame: (String, UInt64),
                        _ fill: (inout Builder) -> Void) throws(BudgetError) -> (totals: Budget.Totals, count: Int) {
            var b = Builder(sink, capacity: capacity)
            fill(&b)
            b.close(b.stage)
            guard !b.failed else { throw .overflow(input: blame.0, value: String(blame.1)) }
            return (b.totals, b.count)
        }
    }

    // MARK: - Checked helpers

    private static func positive(_ name: String, _ value: Int) throws(BudgetError) -> UInt64 {
        guard value > 0 else { throw .invalid(input: name, value: String(value), rule: "must be positive") }
        return UInt64(value)
    }

    /// The working dimension: the filter's rank, or `nPix` when there is no filter.
    private static func workingDim(_ value: Int?, nPix: UInt64, model: ModelVersion) throws(BudgetError) -> UInt64 {
        guard let value else { return nPix }
        guard model >= .v1_3 else { throw .notInModel(input: "working_dim", model: model, validIn: "model 1.3") }
        guard value > 0, UInt64(value) <= nPix else {
            throw .invalid(input: "working_dim", value: String(value), rule: "must be in 1...n_pix=\(nPix)")
        }
        return UInt64(value)
    }

    private static func bytes(_ a: UInt64, _ b: UInt64, _ driver: String) throws(BudgetError) -> UInt64 {
        guard let size = Checked.matrix(a, b) else { throw .overflow(input: driver, value: String(a)) }
        return size
    }

    private static func scaled(_ count: UInt64, _ size: UInt64, _ driver: String) throws(BudgetError) -> UInt64 {
        guard let total = Checked.mul(count, size) else { throw .overflow(input: driver, value: String(count)) }
        return total
    }
}
