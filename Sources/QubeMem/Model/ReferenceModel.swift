/// QUBE's own memory model, `qube.memory_budget`, for every released version.
///
/// Term names, term order, formulas and input validation follow the reference of the chosen
/// version exactly; the oracle tests compare them byte for byte against the qube-qml wheels.
/// Every figure is above baseline RSS (interpreter, imports, the run's own inputs).
public enum ReferenceModel {
    /// The harmonic-path budget (QUBE's `predict_qube_budget`).
    /// - Returns: the four stages in bytes, or the first input the reference would reject.
    public static func harmonic(_ inputs: HarmonicInputs, model: ModelVersion) -> Result<Budget, BudgetError> {
        Result { () throws(BudgetError) in try harmonicBudget(inputs, model: model) }
    }

    /// The pixel-direct budget (QUBE's `predict_pixel_direct_budget`).
    /// - Returns: the four stages in bytes, or the first input the reference would reject.
    public static func pixelDirect(_ inputs: PixelDirectInputs, model: ModelVersion) -> Result<Budget, BudgetError> {
        Result { () throws(BudgetError) in try pixelDirectBudget(inputs, model: model) }
    }

    // MARK: - Harmonic

    private static func harmonicBudget(_ c: HarmonicInputs, model: ModelVersion) throws(BudgetError) -> Budget {
        let nPix = try positive("n_pix", c.nPix)
        let nModes = try positive("n_modes", c.nModes)
        _ = try positive("lmax_signal", c.lmaxSignal)
        if let lmax = c.lmax, lmax > c.lmaxSignal {
            throw .invalid(input: "lmax", value: String(lmax),
                           rule: "must not exceed lmax_signal=\(c.lmaxSignal)")
        }
        let rank = try workingDim(c.workingDim, nPix: nPix, model: model)
        let filtered = rank < nPix

        let pixSq = try bytes(nPix, nPix, "n_pix")
        let modeSq = try bytes(nModes, nModes, "n_modes")
        let modePix = try bytes(nModes, nPix, "n_modes")
        let workSq = try bytes(rank, rank, "working_dim")
        let modeWork = try bytes(nModes, rank, "n_modes")
        let pixWork = try bytes(rank, nPix, "working_dim")

        var covTransient = [Term("Cov_T (asfortranarray copy on read)", pixSq)]
        if filtered {
            covTransient.append(Term("N (unrestricted, alive during restriction)", pixSq))
            covTransient.append(Term("W^T N intermediate", pixWork))
        }
        let covariance = try stage(.covarianceSetup, [Term("Cov_T", workSq)], covTransient, ("n_pix", nPix))

        var basisPersistent = [
            Term("L (Cholesky factor of N, in-place)", workSq),
            Term("V_N_inv", modeWork),
            Term("V_Ninv_VT (M kernel)", modeSq),
        ]
        if filtered { basisPersistent.append(Term("W (filter basis, held all run)", pixWork)) }
        if c.hasSwitch { basisPersistent.append(Term("T (noise-bias kernel, switch path)", modeSq)) }
        if !c.releasePixelProjector { basisPersistent.append(Term("V (pixel projector)", modeWork)) }

        var basisTransient: [Term] = []
        if c.releasePixelProjector { basisTransient.append(Term("V (transient before release)", modeWork)) }
        if filtered { basisTransient.append(Term("V (unrestricted, alive during V W Σ)", modePix)) }
        if c.hasSwitch {
            basisTransient.append(Term("S_fixed (switch optimisation)", pixSq))
            if filtered { basisTransient.append(Term("S_fixed (restricted copy)", workSq)) }
            basisTransient.append(Term("corr intermediate (V_N_inv @ S_fixed)", modeWork))
        }
        let basis = try stage(.basisSetup, basisPersistent, basisTransient, ("n_modes", nModes))
        let fisher = try stage(.fisherRun, basisPersistent, [], ("n_modes", nModes))
        let spectra = try stage(.spectraRun, basisPersistent + [Term("noise_cov_T (Spectra)", modeSq)], [], ("n_modes", nModes))
        return Budget(model: model, path: .harmonic, stages: [covariance, basis, fisher, spectra])
    }

    // MARK: - Pixel-direct

    private static func pixelDirectBudget(_ c: PixelDirectInputs, model: ModelVersion) throws(BudgetError) -> Budget {
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
        let hasSwitch = model == .v1_0 && (c.hasSwitch ?? true)
        let cached = c.cacheDerivatives ?? false
        let filtered = rank < nPix

        let pixSq = try bytes(nPix, nPix, "n_pix")
        let workSq = try bytes(rank, rank, "working_dim")
        let pixWork = try bytes(rank, nPix, "working_dim")
        let paramsWork = try scaled(nParams, workSq, "n_params")
        let binsWork = try scaled(nBins, workSq, "n_bins")

        var covTransient = [Term("Cov_T (asfortranarray copy on read)", pixSq)]
        if filtered { covTransient.append(Term("N (unrestricted, alive during restriction)", pixSq)) }
        let covariance = try stage(
            .covarianceSetup, [Term("Cov_T (Core retains; not nullified for pixel-direct)", workSq)],
            covTransient, ("n_pix", nPix))

        var basisPersistent = [
            Term("Cov_T (carried from covariance_setup)", workSq),
            Term("basis._N (asfortranarray F-order copy)", workSq),
        ]
        if filtered { basisPersistent.append(Term("W (filter basis, held all run)", pixWork)) }
        if hasSwitch { basisPersistent.append(Term("S_fixed (allocator pool retained)", pixSq)) }
        let basis = try stage(.basisSetup, basisPersistent, [], ("n_pix", nPix))

        var fisherPersistent = basisPersistent
        fisherPersistent.append(Term("_direct_pix_buffer (lazy on first derivative)", pixSq))
        if cached {
            fisherPersistent.append(Term("binned derivative cache (retained for Spectra)", paramsWork))
        }
        var fisherTransient = [
            Term("C_inv (basis_manager.get_projected_inverse)", workSq),
            Term("cinv_times_dcb (n_params dense pixel matrices)", paramsWork),
        ]
        if filtered {
            fisherTransient.append(Term("binned kernel output (before conjugation)", pixSq))
            fisherTransient.append(Term("conjugation intermediate (W^T dC)", pixWork))
        }
        let fisher = try stage(.fisherRun, fisherPersistent, fisherTransient, ("n_params", nParams))

        let spectra = try stage(
            .spectraRun, fisherPersistent + [Term("noise_cov_w (Spectra)", workSq)],
            [Term("C_inv per parameter point", workSq), Term("per-bin C^{-1} dC products", binsWork)],
            ("n_bins", nBins))
        return Budget(model: model, path: .pixelDirect, stages: [covariance, basis, fisher, spectra])
    }

    // MARK: - Checked helpers

    private static func positive(_ name: String, _ value: Int) throws(BudgetError) -> UInt64 {
        guard value > 0 else {
            throw .invalid(input: name, value: String(value), rule: "must be positive")
        }
        return UInt64(value)
    }

    /// The working dimension: the filter's rank, or `nPix` when there is no filter.
    private static func workingDim(_ value: Int?, nPix: UInt64, model: ModelVersion) throws(BudgetError) -> UInt64 {
        guard let value else { return nPix }
        guard model >= .v1_3 else {
            throw .notInModel(input: "working_dim", model: model, validIn: "model 1.3")
        }
        guard value > 0, UInt64(value) <= nPix else {
            throw .invalid(input: "working_dim", value: String(value), rule: "must be in 1...n_pix=\(nPix)")
        }
        return UInt64(value)
    }

    private static func bytes(_ a: UInt64, _ b: UInt64, _ driver: String) throws(BudgetError) -> UInt64 {
        guard let size = Checked.matrix(a, b) else {
            throw .overflow(input: driver, value: String(a))
        }
        return size
    }

    private static func scaled(_ count: UInt64, _ size: UInt64, _ driver: String) throws(BudgetError) -> UInt64 {
        guard let total = Checked.mul(count, size) else { throw .overflow(input: driver, value: String(count)) }
        return total
    }

    private static func stage(_ name: StageName, _ persistent: [Term], _ transient: [Term],
                              _ driver: (String, UInt64)) throws(BudgetError) -> StageBudget {
        guard let s = StageBudget(name, persistent: persistent, transient: transient) else {
            throw .overflow(input: driver.0, value: String(driver.1))
        }
        return s
    }
}
