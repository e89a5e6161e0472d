import Testing
@testable import QubeMem

/// The calibration figures QUBE quotes (docs/facts.md §1) come out of the model.
@Suite struct CalibrationTests {
    let gib = Double(1 << 30)

    func gibibytes(_ bytes: UInt64?) -> Double { Double(bytes ?? 0) / gib }

    @Test func eclipseQUHarmonicBasisSetupMatchesQuotedFigures() throws {
        let budget = try ReferenceModel.harmonic(
            HarmonicInputs(nPix: 59136, nModes: 33274, lmaxSignal: 256, lmax: 128), model: .v1_0).get()
        let basis = try #require(budget.stage(.basisSetup))
        #expect((gibibytes(basis.persistentBytes) * 100).rounded() / 100 == 57.21)
        #expect((gibibytes(basis.peakBytes) * 10).rounded() / 10 == 112.6)
    }

    @Test func pixelDirectQU64BasisAboveCovarianceIs1_43GiB() throws {
        let budget = try ReferenceModel.pixelDirect(
            PixelDirectInputs(nPix: 9800, nBins: 6, nParams: 18, lmaxSignal: 256), model: .v1_0).get()
        let basis = try #require(budget.stage(.basisSetup))
        let cov = try #require(budget.stage(.covarianceSetup))
        #expect((gibibytes(basis.persistentBytes - cov.persistentBytes) * 100).rounded() / 100 == 1.43)
    }

    @Test(arguments: [ModelVersion.v1_2, .v1_3])
    func pixelDirectFisherPeaksMatchQuotedFigures(model: ModelVersion) throws {
        // QU nside 64 fsky 0.1: n_pix 9800; the quoted runs used 64 bins × 3 spectra... the
        // figures pin n_params: 15.74 GiB uncached and 28.62 GiB cached.
        let uncached = try ReferenceModel.pixelDirect(
            PixelDirectInputs(nPix: 9800, nBins: 6, nParams: 18), model: model).get()
        let cached = try ReferenceModel.pixelDirect(
            PixelDirectInputs(nPix: 9800, nBins: 6, nParams: 18, cacheDerivatives: true), model: model).get()
        #expect((gibibytes(uncached.stage(.fisherRun)?.peakBytes) * 100).rounded() / 100 == 15.74)
        #expect((gibibytes(cached.stage(.fisherRun)?.peakBytes) * 100).rounded() / 100 == 28.62)
    }
}
