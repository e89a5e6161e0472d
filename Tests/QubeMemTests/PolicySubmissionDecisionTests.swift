import Testing

@testable import QubeMem

@Suite struct PolicySubmissionDecisionTests {
    static let harmonic = "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64"
    static let pixel = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"

    /// The prediction the decision must agree with, from the same library call `qubemem predict`
    /// makes.
    static func prediction(_ comment: String, _ config: SiteConfig = SiteConfig()) throws -> Prediction {
        let spec = try #require(QubeComment.parse(comment)).get()
        return try Predictor.predict(spec, policy: config.policy).get()
    }

    static func fields(_ record: String) -> [String: String] {
        var result: [String: String] = [:]
        for token in record.split(separator: " ").dropFirst() {
            let parts = token.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    @Test(arguments: [harmonic, pixel, "qube: path=auto fields=QU nside=16 fsky=0.2 lmax=32 model=1.0",
                      "qube: model=1.2 path=pixel_direct fields=T n_obs=2000 lmax=40 cache=yes"])
    func validCommentSetsThePredictedRequest(_ comment: String) throws {
        let expected = try Self.prediction(comment)
        let decision = SubmissionDecision.decide(comment: "run 7; " + comment, userMemory: .none,
                                                 config: SiteConfig())
        #expect(decision.outcome == .setMemory(mib: expected.requestMiB))
        let record = try #require(decision.adminRecord)
        #expect(record.hasPrefix("qubemem:v1 action=set "))
        let fields = Self.fields(record)
        #expect(fields["model"] == expected.model.rawValue)
        #expect(fields["path"] == expected.path.rawValue)
        #expect(fields["peak_bytes"] == String(expected.peakBytes))
        #expect(fields["baseline_bytes"] == String(expected.baselineBytes))
        #expect(fields["slack"] == "1.15")
        #expect(fields["request_mib"] == String(expected.requestMiB))
        #expect(fields["user_mib"] == "none")
        #expect(Array(fields.keys).count == 8)
        let message = try #require(decision.userMessage)
        #expect(message.contains("\(expected.requestMiB) MiB"))
        #expect(message.contains("model \(expected.model.rawValue)"))
        #expect(message.contains("path \(expected.path.rawValue)"))
        #expect(message.contains("slack 1.15"))
        #expect(!message.contains("\n"))
        #expect(decision.logLine?.contains("request_mib=\(expected.requestMiB)") == true)
    }

    @Test func recordFollowsDesignFieldOrder() throws {
        let record = try #require(SubmissionDecision.decide(comment: Self.harmonic, userMemory: .none,
                                                            config: SiteConfig()).adminRecord)
        let keys = record.split(separator: " ").dropFirst().map { $0.split(separator: "=")[0] }
        #expect(keys == ["action", "model", "path", "peak_bytes", "baseline_bytes", "slack", "request_mib", "user_mib"])
    }

    @Test(arguments: [nil, "", "no qube here", "subqube: n_pix=3", "QUBE: n_pix=3"])
    func commentsWithoutQubeAreUntouched(_ comment: String?) {
        let decision = SubmissionDecision.decide(comment: comment, userMemory: .perNode(mib: 100),
                                                 config: SiteConfig())
        #expect(decision == SubmissionDecision(outcome: .untouched))
    }

    @Test func disabledConfigLeavesEveryJobUntouched() {
        var config = SiteConfig()
        config.enabled = false
        #expect(SubmissionDecision.decide(comment: Self.harmonic, userMemory: .none, config: config)
            == SubmissionDecision(outcome: .untouched))
        #expect(SubmissionDecision.decide(comment: "qube: n_pix=-1", userMemory: .none, config: config)
            == SubmissionDecision(outcome: .untouched))
    }

    @Test func siteCoefficientsReachTheRequest() throws {
        var config = SiteConfig()
        config.policy.slack = try #require(Slack.parse("1.5"))
        config.policy.interpreterFloorBytes = 1 << 30
        config.policy.inputCovariances = 3
        let expected = try Self.prediction(Self.pixel, config)
        let plain = try Self.prediction(Self.pixel)
        #expect(expected.requestMiB > plain.requestMiB)
        let decision = SubmissionDecision.decide(comment: Self.pixel, userMemory: .none, config: config)
        #expect(decision.outcome == .setMemory(mib: expected.requestMiB))
        #expect(Self.fields(decision.adminRecord ?? "")["slack"] == "1.5")
    }

    @Test func minimumRequestRaisesSmallPredictions() throws {
        let expected = try Self.prediction(Self.pixel)
        var config = SiteConfig()
        config.minRequestMiB = expected.requestMiB + 1000
        let decision = SubmissionDecision.decide(comment: Self.pixel, userMemory: .none, config: config)
        #expect(decision.outcome == .setMemory(mib: expected.requestMiB + 1000))
        #expect(Self.fields(decision.adminRecord ?? "")["request_mib"] == String(expected.requestMiB + 1000))
    }

    @Test func predictionAboveMaximumIsRejectedWithBothFigures() throws {
        let expected = try Self.prediction(Self.pixel)
        var config = SiteConfig()
        config.maxRequestMiB = expected.requestMiB - 1
        let decision = SubmissionDecision.decide(comment: Self.pixel, userMemory: .none, config: config)
        #expect(decision.outcome == .reject(.overLimit))
        let message = try #require(decision.userMessage)
        #expect(message.contains("\(expected.requestMiB) MiB"))
        #expect(message.contains("\(expected.requestMiB - 1) MiB"))
        #expect(message.contains("max_request"))
        #expect(decision.adminRecord == nil)
        config.maxRequestMiB = expected.requestMiB
        #expect(SubmissionDecision.decide(comment: Self.pixel, userMemory: .none, config: config).outcome
            == .setMemory(mib: expected.requestMiB))
    }

    struct UserCase: Sendable, CustomTestStringConvertible {
        var id: String
        var policy: UserMemoryPolicy
        var user: UserMemory
        /// Offset of the user's request from the prediction, MiB (per node).
        var expectAction: String
        var expectSet: Bool
        var testDescription: String { id }
    }

    /// user memory expressed relative to the prediction: small = 100 MiB, huge = 10^6 MiB.
    @Test(arguments: [
        UserCase(id: "override small mem", policy: .override, user: .perNode(mib: 100), expectAction: "set", expectSet: true),
        UserCase(id: "override huge mem", policy: .override, user: .perNode(mib: 1_000_000), expectAction: "set", expectSet: true),
        UserCase(id: "override per cpu", policy: .override, user: .perCPU(mib: 100, cpusPerNode: 4), expectAction: "set", expectSet: true),
        UserCase(id: "larger small mem", policy: .larger, user: .perNode(mib: 100), expectAction: "set", expectSet: true),
        UserCase(id: "larger huge mem", policy: .larger, user: .perNode(mib: 1_000_000), expectAction: "kept_larger", expectSet: false),
        UserCase(id: "larger huge per cpu", policy: .larger, user: .perCPU(mib: 250_000, cpusPerNode: 4), expectAction: "kept_larger", expectSet: false),
        UserCase(id: "larger small per cpu", policy: .larger, user: .perCPU(mib: 100, cpusPerNode: 4), expectAction: "set", expectSet: true),
        UserCase(id: "larger whole node", policy: .larger, user: .perNode(mib: 0), expectAction: "kept_larger", expectSet: false),
        UserCase(id: "user small mem", policy: .user, user: .perNode(mib: 100), expectAction: "kept_user", expectSet: false),
        UserCase(id: "user per cpu", policy: .user, user: .perCPU(mib: 100, cpusPerNode: 2), expectAction: "kept_user", expectSet: false),
        UserCase(id: "user none", policy: .user, user: .none, expectAction: "set", expectSet: true),
        UserCase(id: "larger per cpu overflow", policy: .larger, user: .perCPU(mib: UInt64.max >> 1, cpusPerNode: 1000), expectAction: "kept_larger", expectSet: false),
    ])
    func userMemoryFollowsThePolicy(_ c: UserCase) throws {
        let expected = try Self.prediction(Self.harmonic)
        var config = SiteConfig()
        config.userMemory = c.policy
        let decision = SubmissionDecision.decide(comment: Self.harmonic, userMemory: c.user, config: config)
        #expect(decision.outcome == (c.expectSet ? .setMemory(mib: expected.requestMiB) : .untouched))
        let fields = Self.fields(try #require(decision.adminRecord))
        #expect(fields["action"] == c.expectAction)
        let userText = c.user.perNodeMiB.map { $0 == UInt64.max ? "0" : String($0) } ?? "none"
        #expect(fields["user_mib"] == userText)
        #expect(fields["request_mib"] == (c.expectSet ? String(expected.requestMiB) : userText))
        #expect(decision.userMessage != nil)
    }

    struct BadComment: Sendable, CustomTestStringConvertible {
        var id: String
        var comment: String
        /// Text the message must quote (the bad token), if any.
        var quotes: String?
        var testDescription: String { id }
    }

    static let badComments: [BadComment] = [
        BadComment(id: "unknown key", comment: "qube: color=blue n_pix=3008", quotes: "color"),
        BadComment(id: "duplicate key", comment: "qube: n_pix=3008 n_pix=3008 lmax=32", quotes: "n_pix"),
        BadComment(id: "negative", comment: "qube: n_pix=-3 lmax=32", quotes: "-3"),
        BadComment(id: "zero", comment: "qube: path=pixel_direct n_pix=0 lmax=32 fields=QU", quotes: "0"),
        BadComment(id: "overflow n_pix 2^40", comment: "qube: path=pixel_direct n_pix=1099511627776 lmax=32 fields=QU", quotes: nil),
        BadComment(id: "64 KiB token", comment: "qube: n_pix=" + String(repeating: "9", count: 65_536), quotes: nil),
        BadComment(id: "64 KiB of pairs", comment: "qube: " + String(repeating: "n_pix=1 ", count: 8192), quotes: nil),
        BadComment(id: "printf specifiers", comment: "qube: %s%n%x lmax=%n", quotes: "%s%n%x"),
        BadComment(id: "shell metacharacters", comment: "qube: n_pix=$(reboot) lmax=`id`|&>", quotes: "$(reboot)"),
        BadComment(id: "qube alone", comment: "qube:", quotes: nil),
        BadComment(id: "control characters", comment: "qube: n_pix=3\u{1B}[2J\n lmax=4", quotes: nil),
    ]

    @Test(arguments: badComments)
    func badCommentsAreRejectedWithTheParsersMessage(_ bad: BadComment) throws {
        let decision = SubmissionDecision.decide(comment: bad.comment, userMemory: .none, config: SiteConfig())
        #expect(decision.outcome == .reject(.malformedComment))
        #expect(decision.adminRecord == nil)
        let message = try #require(decision.userMessage)
        #expect(message.hasPrefix("qubemem: invalid qube comment: "))
        if let quotes = bad.quotes { #expect(message.contains(quotes), "\(message)") }
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(decision.logLine?.contains("action=reject reason=malformed") == true)
    }

    @Test(arguments: badComments)
    func badCommentsOnlyWarnWhenTheSiteSaysSo(_ bad: BadComment) throws {
        var config = SiteConfig()
        config.onMalformed = .warn
        let decision = SubmissionDecision.decide(comment: bad.comment, userMemory: .perNode(mib: 2000), config: config)
        #expect(decision.outcome == .untouched)
        #expect(decision.adminRecord == "qubemem:v1 action=warn user_mib=2000")
        #expect(decision.userMessage?.hasPrefix("qubemem: warning: qube comment ignored") == true)
    }

    @Test func nonUTF8BytesAreRejectedNotTrapped() throws {
        var bytes = Array("qube: path=pixel_direct n_pix=30".utf8)
        bytes += [0xFF, 0xFE, 0xC3]
        bytes += Array(" lmax=32 fields=QU".utf8)
        let decision = bytes.withUnsafeBufferPointer {
            SubmissionDecision.decide(commentBytes: $0, userMemory: .none, config: SiteConfig())
        }
        #expect(decision.outcome == .reject(.malformedComment))
        let message = try #require(decision.userMessage)
        #expect(message.contains("n_pix"))
    }

    @Test func longTextAroundAValidSectionStillSetsMemory() throws {
        let expected = try Self.prediction(Self.pixel)
        let comment = String(repeating: "x", count: 65_536) + " " + Self.pixel + "; " + String(repeating: "y", count: 1000)
        let decision = SubmissionDecision.decide(comment: comment, userMemory: .none, config: SiteConfig())
        #expect(decision.outcome == .setMemory(mib: expected.requestMiB))
    }

    @Test func userMemoryDecodesPerNodeAndSaturates() {
        #expect(UserMemory.none.perNodeMiB == nil)
        #expect(UserMemory.perNode(mib: 4000).perNodeMiB == 4000)
        #expect(UserMemory.perNode(mib: 0).perNodeMiB == UInt64.max)
        #expect(UserMemory.perCPU(mib: 1000, cpusPerNode: 4).perNodeMiB == 4000)
        #expect(UserMemory.perCPU(mib: 1000, cpusPerNode: 0).perNodeMiB == 1000)
        #expect(UserMemory.perCPU(mib: UInt64.max / 2, cpusPerNode: 3).perNodeMiB == UInt64.max)
    }
}
