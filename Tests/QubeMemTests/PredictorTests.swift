import Testing
@testable import QubeMem

@Suite struct PredictorTests {
    func spec(_ comment: String) throws -> RunSpec {
        try #require(QubeComment.parse(comment)).get()
    }

    @Test func dimensionsFollowQUBERules() throws {
        // QU, lmax 128: 2 × (129² − 4) = 33274 (docs/facts.md §2).
        let p = try Predictor.predict(spec("qube: fields=QU n_obs=29568 lmax=128 lmax_signal=256 path=harmonic"),
                                      policy: RequestPolicy()).get()
        #expect(p.config.nPix == 59136)
        #expect(p.config.nModes == 33274)
        #expect(p.config.nBins == 127)
        #expect(p.config.nParams == 381)
    }

    @Test func nsideAndFskyGiveObservedPixelsAndDefaultLmaxSignal() throws {
        let p = try Predictor.predict(spec("qube: fields=TQU nside=64 fsky=0.1 path=pixel_direct"),
                                      policy: RequestPolicy()).get()
        #expect(p.config.nObs == 4915)  // round(12 × 64² × 0.1)
        #expect(p.config.nPix == 3 * 4915)
        #expect(p.config.lmaxSignal == 256)
        #expect(p.config.nParams == 255 * 6)
    }

    @Test func harmonicMeasuredTermMatchesTheRealQUBERun() throws {
        // docs/facts.md §3: harmonic QU nside 32, n_obs 2496, lmax 64: 4.67 GiB measured peak RSS.
        let p = try Predictor.predict(spec("qube: fields=QU n_obs=2496 lmax=64 lmax_signal=128 path=harmonic"),
                                      policy: RequestPolicy()).get()
        let gib = Double(p.totalBytes) / Double(1 << 30)
        #expect(abs(gib - 4.67) / 4.67 < 0.01)
        #expect(Double(p.reference.lifetimePeakBytes + p.baselineBytes) / Double(1 << 30) < 2.9)
    }

    @Test func pixelDirectPredictionMatchesTheRealQUBERun() throws {
        // docs/facts.md §3: pixel-direct QU nside 16, n_obs 1504, lmax 32, unbinned: 6.77 GiB measured.
        let p = try Predictor.predict(spec("qube: fields=QU n_obs=1504 lmax=32 nside=16 path=pixel_direct"),
                                      policy: RequestPolicy()).get()
        #expect(p.config.nParams == 93)
        let gib = Double(p.totalBytes) / Double(1 << 30)
        #expect(abs(gib - 6.86) < 0.01)
    }

    @Test func requestIsCeilingOfTotalTimesSlackInMiB() throws {
        var policy = RequestPolicy()
        policy.slack = try #require(Slack.parse("1.5"))
        let p = try Predictor.predict(spec("qube: n_pix=1000 n_bins=1 n_params=1 path=pixel_direct"), policy: policy).get()
        let exact = (p.totalBytes * 15 + 10 * (1 << 20) - 1) / (10 * (1 << 20))
        #expect(p.requestMiB == exact)
    }

    @Test func autoPicksByQUBERuleAndReportsTheOtherPath() throws {
        let p = try Predictor.predict(spec("qube: fields=QU n_obs=2496 lmax=64 lmax_signal=128"), policy: RequestPolicy()).get()
        #expect(p.pathWasPicked)
        #expect(p.path == .harmonic)
        #expect(p.alternative?.path == .pixelDirect)
    }

    /// Garbage and overflow give the documented error, never a trap.
    @Test(arguments: [
        ("zero", "qube: n_pix=0 n_modes=5 lmax_signal=4 path=harmonic", "invalid n_pix '0': must be positive"),
        ("overflow", "qube: n_pix=1099511627776 n_bins=1 n_params=1 path=pixel_direct", "n_pix '1099511627776' is too large"),
        ("huge", "qube: n_pix=4611686018427 n_modes=4611686018427 lmax_signal=9 path=harmonic", "n_pix '4611686018427' is too large"),
        ("params-overflow", "qube: n_pix=1000000 n_bins=1 n_params=999999999999 path=pixel_direct", "n_params '999999999999' is too large"),
        ("wd-too-big", "qube: n_pix=10 working_dim=11 n_modes=3 lmax_signal=4 path=harmonic", "invalid working_dim '11'"),
        ("wd-old-model", "qube: model=1.0 n_pix=10 working_dim=5 n_modes=3 lmax_signal=4 path=harmonic", "working_dim is not an input of QUBE memory model 1.0"),
        ("lmax-above", "qube: n_pix=10 n_modes=3 lmax_signal=4 lmax=8 path=harmonic", "invalid lmax '8': must not exceed lmax_signal=4"),
        ("nside", "qube: fields=T nside=3 fsky=0.5", "invalid nside '3'"),
        ("missing", "qube: fields=QU path=harmonic", "missing n_pix"),
        ("cache-1.0", "qube: model=1.0 n_pix=5 n_bins=1 n_params=1 lmax_signal=4 cache=yes path=pixel_direct", "cache_derivatives is not an input"),
    ])
    func badInputIsAnErrorNamingTheInput(id: String, comment: String, message: String) throws {
        switch Predictor.predict(try spec(comment), policy: RequestPolicy()) {
        case .success: Issue.record("\(id): accepted")
        case let .failure(error): #expect(error.description.hasPrefix(message), "\(id): \(error)")
        }
    }

    @Test func slackParsesExactlyAndRejectsGarbage() {
        #expect(Slack.parse("1.15")?.tenThousandths == 11_500)
        #expect(Slack.parse("2")?.description == "2")
        for bad in ["", "0", "1.12345", "-1", "abc", "101", "1.", ".", "1.5x", " 1"] {
            #expect(Slack.parse(bad) == nil, "\(bad)")
        }
        // DecimalText's one rule for decimals: the whole part may be left out before a fraction.
        #expect(Slack.parse(".5")?.tenThousandths == 5_000)
        // 100 × (2^64 − 1) bytes is still a 64-bit count of MiB: ceil(100 × (2^64 − 1) / 2^20).
        #expect(Slack.maximum.scaledMiB(UInt64.max) == 1_759_218_604_441_600)
    }

    @Test func modelVersionAcceptsReleaseNumbers() {
        #expect(ModelVersion.parse("1.1.0") == .v1_0)
        #expect(ModelVersion.parse("1.2.0") == .v1_2)
        #expect(ModelVersion.parse("latest") == .v1_3)
        #expect(ModelVersion.parse("1.4.0") == nil)
    }
}

@Suite struct ModelVersionByteParsingTests {
    @Test func bytesNameTheSameModelsAsText() {
        func parsed(_ text: String) -> ModelVersion? {
            var text = text
            return text.withUTF8 { ModelVersion.parse(utf8: $0) }
        }
        for model in ModelVersion.allCases {
            #expect(parsed(model.rawValue) == model)
            for release in model.releases { #expect(parsed(release) == model, "\(release)") }
        }
        for text in ["latest", "", "1", "1.4", "1.3.1", "1.30", " 1.3", "LATEST"] {
            #expect(parsed(text) == ModelVersion.parse(text), "\(text)")
        }
    }
}

@Suite struct BudgetRecipeTests {
    /// Every combination of model, path and switches, with the measured terms on.
    static func predictions() throws -> [Prediction] {
        var out: [Prediction] = []
        for model in ModelVersion.allCases {
            for path in [PathChoice.harmonic, .pixelDirect] {
                for flag in [false, true] {
                    var spec = RunSpec()
                    spec.model = model
                    spec.path = path
                    spec.fields = FieldSet.parse("TQU")
                    spec.nObs = 500
                    spec.lmaxSignal = 24
                    spec.lmax = flag ? 20 : nil
                    spec.keepPixelProjector = flag
                    spec.hasSwitch = model == .v1_0 ? flag : nil
                    spec.cacheDerivatives = model == .v1_0 ? nil : flag
                    if model == .v1_3, flag { spec.workingDim = 700 }
                    out.append(try Predictor.predict(spec, policy: RequestPolicy()).get())
                }
            }
        }
        return out
    }

    @Test func termsWrittenAgainAddUpToTheTotalsKeptWhenTheBudgetWasBuilt() throws {
        for p in try Self.predictions() {
            for budget in [p.reference, p.budget] {
                var largest: UInt64 = 0
                for stage in StageName.allCases {
                    let peak = budget.stage(stage)?.peakBytes ?? 0
                    #expect(peak == budget.stagePeak(stage), "\(p.model) \(p.path) \(stage)")
                    largest = max(largest, peak)
                }
                #expect(largest == budget.lifetimePeakBytes, "\(p.model) \(p.path)")
                #expect(budget.entries.count < 40)
            }
        }
    }

    @Test func anAddedTermIsListedLastInItsStageAndComparesByValue() throws {
        let p = try #require(try Self.predictions().first { $0.path == .harmonic })
        let reference = p.reference
        let added = try #require(reference.adding(transient: .harmonicDerivativeCache, 1000, to: .fisherRun))
        #expect(added != reference)
        #expect(added == reference.adding(transient: .harmonicDerivativeCache, 1000, to: .fisherRun))
        #expect(added.entries.count == reference.entries.count + 1)
        let fisher = try #require(added.stage(.fisherRun))
        #expect(fisher.transient.last == Term(TermName.harmonicDerivativeCache.rawValue, 1000))
        #expect(added.stagePeak(.fisherRun) == reference.stagePeak(.fisherRun) + 1000)
        #expect(added.stage(.spectraRun) == reference.stage(.spectraRun))
        // Two added terms at most; a third is refused rather than dropped.
        let twice = try #require(added.adding(transient: .fullSkyCovarianceRead, 7, to: .covarianceSetup))
        #expect(twice.stage(.covarianceSetup)?.transient.last == Term(TermName.fullSkyCovarianceRead.rawValue, 7))
        #expect(twice.stage(.fisherRun)?.transient.last == Term(TermName.harmonicDerivativeCache.rawValue, 1000))
        #expect(twice.adding(transient: .harmonicDerivativeCache, 1, to: .spectraRun) == nil)
        #expect(reference.adding(transient: .harmonicDerivativeCache, UInt64.max, to: .fisherRun) == nil)
    }
}
