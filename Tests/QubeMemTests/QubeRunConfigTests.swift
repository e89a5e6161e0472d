import Testing
@testable import QubeMem

@Suite struct QubeRunConfigTests {
    /// The wheel's QU_defaults.yaml (nside 8, lmax 32) on a cap of 240 pixels: QUBE's own pick,
    /// recorded by tests/config, is pixel-direct with n_pix 480, n_modes 2170, 31 pick bins.
    @Test func derivesQubesDimensionsAndPathForTheWheelsQUExample() throws {
        var c = QubeRunConfig()
        c.nside = 8
        c.spins = [2]
        c.labelCount = 2
        c.lmax = 32
        c.nObs = [240]
        let d = try c.derive().get()
        #expect(d.nPix == 480)
        #expect(d.nModes == 2 * (33 * 33 - 4))
        #expect(d.lmaxSignal == 32)
        #expect(d.pickBins == 31)
        #expect(d.nBins == 31)
        #expect(d.nParams == 93)
        #expect(d.path == .pixelDirect)
        #expect(d.fullSkyCovarianceBytes == UInt64(2 * 768) * UInt64(2 * 768) * 8)
        #expect(QubeComment.render(d.spec)
            == "qube: path=pixel_direct fields=QU n_obs=240 nside=8 lmax_signal=32 lmax=32 n_bins=31 cov_read=full")
    }

    @Test func lmaxIsClampedToTheCeilingAndTheModesFollowANarrowedWindow() throws {
        var c = QubeRunConfig()
        c.nside = 16
        c.spins = [2]
        c.labelCount = 2
        c.nObs = [2000]
        c.lmax = 100  // above 4 × nside = 64: QUBE clamps it
        #expect(try c.derive().get().lmax == 64)
        c.lmax = 20
        c.lmaxSignal = 24
        let d = try c.derive().get()
        #expect(d.nModes == 2 * (21 * 21 - 4))
        #expect(d.pickBins == 23)
        #expect(d.path == .harmonic)
    }

    @Test func fieldsWithDifferentMasksAreCarriedAsTheExactPixelTotal() throws {
        var c = QubeRunConfig()
        c.nside = 8
        c.spins = [0, 2]
        c.labelCount = 3
        c.lmax = 32
        c.nObs = [368, 240]
        let d = try c.derive().get()
        #expect(d.nPix == 368 + 2 * 240)
        #expect(d.spec.nObs == nil)
        #expect(d.spec.nPix == 848)
        #expect(d.nParams == 31 * 6)
    }

    @Test func binsFollowQubesRules() throws {
        var c = QubeRunConfig()
        c.nside = 8
        c.spins = [0]
        c.labelCount = 1
        c.nObs = [100]
        c.lmin = 4
        c.lmax = 30
        c.deltaEll = 5
        #expect(try c.derive().get().nBins == 5)  // (30 - 4 + 1) / 5
        c.binLmins = [0, 2, 10]
        c.binLmaxs = [1, 9, 20]
        #expect(try c.derive().get().nBins == 2)  // the bin below ℓ = 2 is dropped
    }

    @Test func aCrossRunIsTraditionalAndHoldsTwoCovariances() throws {
        var c = QubeRunConfig()
        c.nside = 8
        c.spins = [2]
        c.labelCount = 2
        c.nObs = [240]
        c.doCross = true
        c.loadReduced = true
        let d = try c.derive().get()
        #expect(d.path == nil)
        #expect(d.pricedPath == .pixelDirect)
        #expect(d.covariances == 2)
        #expect(d.fullSkyCovarianceBytes == nil)
        #expect(d.spec.cross == true)
        #expect(d.spec.covarianceRead == .reduced)
    }

    @Test(arguments: [
        ("nside", "invalid nside '12'"),
        ("spin", "invalid spins '[1]'"),
        ("labels", "invalid labels '1 label(s)'"),
        ("empty", "invalid maskfile '0 unmasked pixels in field 0'"),
        ("lmin", "invalid lmax '64'"),
        ("delta", "invalid delta_ell '0'"),
    ])
    func refusesWhatQubeRefuses(id: String, message: String) {
        var c = QubeRunConfig()
        c.nside = 8
        c.spins = [2]
        c.labelCount = 2
        c.nObs = [240]
        switch id {
        case "nside": c.nside = 12
        case "spin": c.spins = [1]
        case "labels": c.labelCount = 1
        case "empty": c.nObs = [0]
        case "lmin": c.lmin = 40
        default: c.deltaEll = 0
        }
        guard case let .failure(error) = c.derive() else {
            Issue.record("\(id): derived")
            return
        }
        #expect("\(error)".hasPrefix(message), "\(id): \(error)")
    }

    @Test func neverTrapsOnExtremeValues() {
        var c = QubeRunConfig()
        c.nside = 1 << 29
        c.spins = [2, 2, 2, 2]
        c.labelCount = 8
        c.nObs = [Int.max, Int.max, Int.max, Int.max]
        c.lmaxSignal = Int.max
        c.lmax = Int.max
        _ = c.derive()
        c.nObs = [1, 1, 1, 1]
        _ = c.derive()
        c.lmaxSignal = Int.min
        c.lmin = Int.min
        _ = c.derive()
    }
}

@Suite struct CommentNewKeysTests {
    @Test func crossAndCovarianceReadRoundTrip() throws {
        var spec = RunSpec()
        spec.path = .pixelDirect
        spec.fields = FieldSet.parse("TQU")
        spec.nside = 8
        spec.nPix = 848
        spec.lmaxSignal = 32
        spec.lmax = 32
        spec.nBins = 31
        spec.cross = true
        spec.covarianceRead = .full
        let text = QubeComment.render(spec)
        #expect(text == "qube: path=pixel_direct fields=TQU nside=8 n_pix=848 lmax_signal=32 lmax=32 n_bins=31 cross=yes cov_read=full")
        #expect(try QubeComment.parse(text)?.get() == spec)
        #expect(QubeComment.parse("qube: n_pix=4 cov_read=partial").flatMap { try? $0.get() } == nil)
    }

    @Test func aCrossRunHoldsASecondCovarianceAndTheFullReadIsAMeasuredTerm() throws {
        let policy = RequestPolicy()
        let base = try #require(QubeComment.parse("qube: path=pixel_direct fields=QU nside=8 n_obs=240 lmax=32")).get()
        var cross = base
        cross.cross = true
        var full = base
        full.covarianceRead = .full
        let p0 = try Predictor.predict(base, policy: policy).get()
        let p1 = try Predictor.predict(cross, policy: policy).get()
        let p2 = try Predictor.predict(full, policy: policy).get()
        #expect(p1.baselineBytes == p0.baselineBytes + 480 * 480 * 8)
        let kept = try #require(p1.budget.stage(.fisherRun)?.transient.last)
        #expect(kept.name == MeasuredTerms.crossDerivativesName)
        #expect(kept.bytes == 31 * 3 * 480 * 480 * 8)
        // A cross run is never priced on the harmonic path.
        var harmonic = cross
        harmonic.path = .harmonic
        #expect(throws: BudgetError.self) { try Predictor.predict(harmonic, policy: policy).get() }
        let term = try #require(p2.budget.stage(.covarianceSetup)?.transient.last)
        #expect(term.name == MeasuredTerms.fullSkyCovarianceReadName)
        #expect(term.bytes == 1536 * 1536 * 8)
        // A reduced read, or no key at all (every v1 comment), prices as before.
        var reduced = base
        reduced.covarianceRead = .reduced
        #expect(try Predictor.predict(reduced, policy: policy).get().requestMiB == p0.requestMiB)
    }

    @Test func harmonicBudgetsCarryBothMeasuredTerms() throws {
        let spec = try #require(QubeComment.parse("qube: path=harmonic fields=QU nside=32 n_obs=2496 lmax=64 lmax_signal=128 cov_read=full")).get()
        let p = try Predictor.predict(spec, policy: RequestPolicy()).get()
        let names = p.budget.stages.flatMap(\.transient).map(\.name)
        #expect(names.contains(MeasuredTerms.fullSkyCovarianceReadName))
        #expect(names.contains(MeasuredTerms.harmonicDerivativeCacheName))
    }
}
