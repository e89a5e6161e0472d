/// What job_submit/qubemem does with one job, decided from its comment, the user's memory
/// request and the site configuration. Pure: no I/O, no global state, never traps.
///
/// The decision holds facts; its three texts (the user's message, the AdminComment record, the
/// log line) are written on demand, into any ``TextSink`` or as `String`s.
public struct SubmissionDecision: Sendable, Equatable {
    /// What happens to the job.
    public enum Outcome: Sendable, Equatable {
        /// Leave the job exactly as submitted.
        case untouched
        /// Set the job's memory to this many MiB per node (clearing any per-CPU request).
        case setMemory(mib: UInt64)
        /// Set the job's memory to this many MiB per CPU (`--mem-per-cpu`): a multi-rank job whose
        /// ranks per node SLURM chooses, so that SLURM multiplies by what it places on each node.
        case setMemoryPerCPU(mib: UInt64)
        /// Refuse the job; the user message says why.
        case reject(RejectReason)
    }

    /// Why a job is refused.
    public enum RejectReason: Sendable, Equatable {
        /// The qube comment does not parse or cannot be priced (on_malformed = reject).
        case malformedComment
        /// The request is above max_request, or beyond what SLURM can express.
        case overLimit
    }

    /// The AdminComment `action` values of design.md's record version 1.
    public enum Action: String, Sendable {
        case set, keptUser = "kept_user", keptLarger = "kept_larger", warn
    }

    /// What was priced: the fields of the record.
    struct Priced: Sendable, Equatable {
        var model: ModelVersion
        var path: PipelinePath
        var peakBytes: UInt64
        var baselineBytes: UInt64
        var slack: Slack
        /// The request after min_request: MiB per node, or per CPU when `layout` is per CPU.
        var requestMiB: UInt64
        /// How the job's ranks sit on nodes (`.single` for one process: records and messages are
        /// then exactly those of a single-process run).
        var layout: RankLayout
    }

    /// The ranks behind a decision, as the message and the record state them.
    enum RankLayout: Sendable, Equatable {
        /// One process.
        case single
        /// `ranks` on the busiest node; `nodeBytes` its predicted peak (before slack);
        /// `furtherRankBytes` what each rank after rank 0 adds.
        case perNode(ranks: UInt64, nodeBytes: UInt64, furtherRankBytes: UInt64)
        /// `ranks` whose nodes SLURM chooses; each is given the largest rank's `rankBytes`
        /// (before slack), asked per CPU over `cpusPerRank` CPUs.
        case perCPU(ranks: UInt64, rankBytes: UInt64, cpusPerRank: UInt64)
    }

    enum Detail: Sendable, Equatable {
        /// Not a qube job (or the plugin is disabled): nothing to say.
        case silent
        /// Priced and kept: memory set, or the user's request kept.
        case decided(Action, Priced, givenMiB: UInt64)
        /// Priced, but above max_request (limit) or what SLURM can express (nil).
        case overLimit(Priced, limitMiB: UInt64?)
        /// The comment does not parse or cannot be priced.
        case malformed(reason: String, warn: Bool)
    }

    public var outcome: Outcome
    var detail: Detail
    var userMemory: UserMemory

    /// A decision with nothing to say (the job is not ours).
    public init(outcome: Outcome) {
        self.outcome = outcome
        detail = .silent
        userMemory = .none
    }

    init(outcome: Outcome, detail: Detail, userMemory: UserMemory) {
        self.outcome = outcome
        self.detail = detail
        self.userMemory = userMemory
    }

    /// Requests at or above 2^62 MiB cannot be expressed in pn_min_memory (its top bits are flags).
    static let slurmLimitMiB: UInt64 = 1 << 62

    /// Decides what to do with a job.
    /// - Parameters:
    ///   - comment: the job's comment, or nil when it has none.
    ///   - userMemory: the memory the user asked for.
    ///   - config: the site configuration.
    ///   - layout: the job's task layout (ranks per node); default one process.
    public static func decide(comment: String?, userMemory: UserMemory, config: SiteConfig,
                              layout: TaskLayout = .singleRank) -> SubmissionDecision
    {
        guard config.enabled, let comment else { return SubmissionDecision(outcome: .untouched) }
        return decide(parsed: QubeComment.parse(comment), userMemory: userMemory, config: config, layout: layout)
    }

    /// Decides from a comment given as raw bytes (any encoding), as slurmctld hands it over.
    ///
    /// The plugin's path: parsing and pricing throw their typed errors rather than return
    /// `Result`s, so a valid comment builds no error value and destroys none.
    public static func decide(commentBytes: UnsafeBufferPointer<UInt8>, userMemory: UserMemory,
                              config: SiteConfig, layout: TaskLayout = .singleRank) -> SubmissionDecision
    {
        guard config.enabled else { return SubmissionDecision(outcome: .untouched) }
        let spec: RunSpec
        do {
            guard let parsed = try QubeComment.parseSpec(utf8: commentBytes) else {
                return SubmissionDecision(outcome: .untouched)
            }
            spec = parsed
        } catch {
            return malformed("\(error)", userMemory: userMemory, config: config)
        }
        let prediction: Prediction
        do {
            prediction = try Predictor.predictThrowing(spec, policy: config.policy, layout: layout,
                                                       priceAlternative: false)
        } catch {
            return malformed("\(error)", userMemory: userMemory, config: config)
        }
        return decide(prediction, userMemory: userMemory, config: config)
    }

    private static func decide(parsed: Result<RunSpec, CommentError>?, userMemory: UserMemory,
                               config: SiteConfig, layout: TaskLayout) -> SubmissionDecision
    {
        guard let parsed else { return SubmissionDecision(outcome: .untouched) }
        let spec: RunSpec
        switch parsed {
        case .success(let value): spec = value
        case .failure(let error): return malformed("\(error)", userMemory: userMemory, config: config)
        }
        switch Predictor.predict(spec, policy: config.policy, layout: layout, priceAlternative: false) {
        case .success(let prediction): return decide(prediction, userMemory: userMemory, config: config)
        case .failure(let error): return malformed("\(error)", userMemory: userMemory, config: config)
        }
    }

    /// The decision for a priced run.
    private static func decide(_ prediction: Prediction, userMemory: UserMemory, config: SiteConfig)
        -> SubmissionDecision
    {
        let node = prediction.node
        let ranks: RankLayout
        if !prediction.layout.isMultiRank {
            ranks = .single
        } else if node.perCPU {
            ranks = .perCPU(ranks: prediction.layout.tasks ?? 1, rankBytes: node.totalBytes,
                            cpusPerRank: node.cpusPerRank)
        } else {
            ranks = .perNode(ranks: node.ranks, nodeBytes: node.totalBytes,
                             furtherRankBytes: node.perFurtherRankBytes)
        }
        // min_request is per node; a per-CPU request is held to it for one rank's CPUs.
        let minimum = node.perCPU ? config.minRequestMiB / node.cpusPerRank : config.minRequestMiB
        let request = max(node.requestMiB, minimum)
        let priced = Priced(model: prediction.model, path: prediction.path, peakBytes: prediction.peakBytes,
                            baselineBytes: prediction.baselineBytes, slack: prediction.slack,
                            requestMiB: request, layout: ranks)
        if request >= slurmLimitMiB {
            return SubmissionDecision(outcome: .reject(.overLimit), detail: .overLimit(priced, limitMiB: nil),
                                      userMemory: userMemory)
        }
        if let limit = config.maxRequestMiB, request > limit {
            return SubmissionDecision(outcome: .reject(.overLimit), detail: .overLimit(priced, limitMiB: limit),
                                      userMemory: userMemory)
        }
        let action: Action
        let given: UInt64
        // A per-CPU prediction is compared with a per-CPU request; a per-node --mem says nothing
        // about a node whose ranks are not known, so `larger` replaces it.
        let comparable: UInt64?
        if node.perCPU, case .perCPU(let mib, _) = userMemory { comparable = mib == 0 ? UInt64.max : mib }
        else if node.perCPU { comparable = userMemory.perNodeMiB.map { _ in 0 } }
        else { comparable = userMemory.perNodeMiB }
        switch (config.userMemory, comparable) {
        case (_, nil), (.override, _):
            action = .set
            given = request
        case (.user, .some):
            action = .keptUser
            given = userMemory.perNodeMiB ?? 0
        case (.larger, .some(let user)):
            (action, given) = user >= request ? (.keptLarger, userMemory.perNodeMiB ?? 0) : (.set, request)
        }
        let outcome: Outcome = action != .set ? .untouched
            : node.perCPU ? .setMemoryPerCPU(mib: request) : .setMemory(mib: request)
        return SubmissionDecision(outcome: outcome, detail: .decided(action, priced, givenMiB: given),
                                  userMemory: userMemory)
    }

    /// A comment that does not parse or cannot be priced, handled per `on_malformed`.
    private static func malformed(_ reason: String, userMemory: UserMemory, config: SiteConfig)
        -> SubmissionDecision
    {
        let warn = config.onMalformed == .warn
        return SubmissionDecision(outcome: warn ? .untouched : .reject(.malformedComment),
                                  detail: .malformed(reason: reason, warn: warn), userMemory: userMemory)
    }
}
