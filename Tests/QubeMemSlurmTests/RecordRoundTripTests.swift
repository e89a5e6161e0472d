import Testing
import QubeMem
@testable import QubeMemSlurm

/// The plugin writes the AdminComment record (`SubmissionDecision`) and the audit reads it
/// (`AdminRecord`); both spell the keys from `RecordKey`. What one writes, the other must read back.
@Suite struct RecordRoundTripTests {
    static let harmonic = "qube: path=harmonic fields=QU n_obs=1200 lmax=48 lmax_signal=96"
    static let pixel = "qube: path=pixel_direct fields=QU n_obs=800 lmax=24 lmax_signal=32 n_bins=8"

    static func read(_ decision: SubmissionDecision) throws -> AdminRecord {
        let text = try #require(decision.adminRecord)
        guard case .record(let record) = AdminRecord.find(in: "other tool; " + text) else {
            Issue.record("the reader refused what the writer wrote: \(text) → \(AdminRecord.find(in: text))")
            throw CancellationError()
        }
        return record
    }

    @Test(arguments: [
        (harmonic, UserMemory.none, TaskLayout.singleRank),
        (pixel, UserMemory.perNode(mib: 1), TaskLayout.singleRank),
        (harmonic, UserMemory.perNode(mib: 1 << 30), TaskLayout.singleRank),
        (harmonic, UserMemory.none, TaskLayout(tasks: 8, nodes: 2)),
        (pixel, UserMemory.none, TaskLayout(tasks: 6, cpusPerTask: 2)),
    ])
    func everyDecidedJobsRecordReadsBackAsWritten(comment: String, user: UserMemory, layout: TaskLayout) throws {
        var config = SiteConfig()
        config.userMemory = .larger
        let decision = SubmissionDecision.decide(comment: comment, userMemory: user, config: config, layout: layout)
        let record = try Self.read(decision)
        let spec = try #require(QubeComment.parse(comment)).get()
        let p = try Predictor.predict(spec, policy: config.policy, layout: layout).get()
        #expect(record.model == p.model.rawValue && record.path == p.path.rawValue)
        #expect(record.peakBytes == p.peakBytes && record.baselineBytes == p.baselineBytes)
        #expect(record.slackTenThousandths == p.slack.tenThousandths)
        switch decision.outcome {
        case .setMemory(let mib), .setMemoryPerCPU(let mib): #expect(record.requestMiB == mib && record.action == "set")
        case .untouched: #expect(record.action == "kept_larger" || record.action == "kept_user")
        default: Issue.record("unexpected outcome \(decision.outcome)")
        }
        if case .perNode(let mib) = user { #expect(record.userMiB == mib) } else { #expect(record.userMiB == nil) }
        switch (record.ranks, p.node.ranks > 1, p.node.perCPU) {
        case (nil, false, false): break
        case (.perNode(let r, let bytes)?, true, false): #expect(r == p.node.ranks && bytes == p.node.totalBytes)
        case (.perCPU(let r, let c, let bytes)?, _, true):
            #expect(r == layout.tasks && c == p.node.cpusPerRank && bytes == p.node.totalBytes)
        default: Issue.record("ranks \(String(describing: record.ranks)) for layout \(layout)")
        }
    }

    @Test func theWriterUsesEveryKeyTheReaderKnows() throws {
        var written = ""
        for layout in [TaskLayout.singleRank, TaskLayout(tasks: 8, nodes: 2), TaskLayout(tasks: 6, cpusPerTask: 2)] {
            written += (SubmissionDecision.decide(comment: Self.harmonic, userMemory: .none, config: SiteConfig(),
                                                  layout: layout).adminRecord ?? "") + " "
        }
        for key in RecordKey.allCases {
            #expect(written.contains(" \(key.name)=") || written.contains("qubemem:v1 \(key.name)="), "\(key.name)")
        }
    }

    @Test func aMalformedCommentsWarningReadsBackAsAWarning() throws {
        var config = SiteConfig()
        config.onMalformed = .warn
        let decision = SubmissionDecision.decide(comment: "qube: n_pix=oops", userMemory: .none, config: config)
        let text = try #require(decision.adminRecord)
        #expect(AdminRecord.find(in: text) == .warned)
    }
}
