/// The memory a user asked for at submission, as SLURM encodes it in `pn_min_memory`.
public enum UserMemory: Sendable, Equatable {
    /// No --mem or --mem-per-cpu.
    case none
    /// --mem: MiB per node (0 means "all the memory of the node").
    case perNode(mib: UInt64)
    /// --mem-per-cpu: MiB per CPU, with the CPUs per node the job asked for.
    case perCPU(mib: UInt64, cpusPerNode: UInt64)

    /// The request per node in MiB, saturating at `UInt64.max`; nil when none was given.
    /// A per-node request of 0 (the whole node) counts as the largest possible request.
    public var perNodeMiB: UInt64? {
        switch self {
        case .none: return nil
        case .perNode(let mib): return mib == 0 ? UInt64.max : mib
        case .perCPU(let mib, let cpus):
            let (product, overflow) = mib.multipliedReportingOverflow(by: max(cpus, 1))
            return overflow || mib == 0 ? UInt64.max : product
        }
    }

    /// Writes the user's request as records hold it: MiB per node (`8000`), `0` for the whole
    /// node (SLURM's own --mem=0), or `none`.
    func writeRecord<S: TextSink>(to sink: inout S) {
        guard let mib = perNodeMiB else { return sink.append("none") }
        sink.append(decimal: mib == UInt64.max ? 0 : mib)
    }

    /// Writes it the way the user wrote it: `--mem=8000M` or `--mem-per-cpu=2000M (4 CPUs per node)`.
    func writeFlag<S: TextSink>(to sink: inout S) {
        switch self {
        case .none:
            sink.append("no memory request")
        case .perNode(let mib):
            sink.append("--mem=")
            sink.append(decimal: mib)
            sink.append("M")
        case .perCPU(let mib, let cpus):
            sink.append("--mem-per-cpu=")
            sink.append(decimal: mib)
            sink.append("M (")
            sink.append(decimal: cpus)
            sink.append(" CPUs per node)")
        }
    }
}

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

    // MARK: - The texts

    /// Whether the decision is routine (memory set as predicted): logged at verbose level, since
    /// the job's AdminComment already records it and a log write costs more than the decision.
    public var logIsRoutine: Bool {
        if case .decided(.set, _, _) = detail { return true }
        return false
    }

    /// Writes the one line for the user's sbatch stderr.
    /// - Returns: false (and writes nothing) when there is nothing to tell the user.
    @discardableResult
    public func writeUserMessage<S: TextSink>(to sink: inout S) -> Bool {
        switch detail {
        case .silent:
            return false
        case .decided(let action, let priced, _):
            switch action {
            case .set:
                sink.append("qubemem: memory set to ")
                sink.append(decimal: priced.requestMiB)
                Self.writeUnit(priced.layout, to: &sink)
                if userMemory != .none {
                    sink.append(" instead of your ")
                    userMemory.writeFlag(to: &sink)
                }
            case .keptUser:
                sink.append("qubemem: kept your ")
                userMemory.writeFlag(to: &sink)
                sink.append(" as this site asks (user_memory=user); qubemem predicts ")
                sink.append(decimal: priced.requestMiB)
                Self.writeUnit(priced.layout, to: &sink)
            case .keptLarger, .warn:
                sink.append("qubemem: kept your ")
                userMemory.writeFlag(to: &sink)
                sink.append(", at least the ")
                sink.append(decimal: priced.requestMiB)
                Self.writeUnit(priced.layout, to: &sink)
                sink.append(" qubemem predicts")
            }
            Self.writeExplanation(priced, to: &sink)
        case .overLimit(let priced, let limit):
            sink.append("qubemem: this job needs ")
            sink.append(decimal: priced.requestMiB)
            Self.writeUnit(priced.layout, to: &sink)
            Self.writeExplanation(priced, to: &sink)
            if let limit {
                sink.append(", above this site's limit of ")
                sink.append(decimal: limit)
                sink.append(" MiB (max_request); reduce the problem or ask your administrators")
            } else {
                sink.append(", more than SLURM can request")
            }
        case .malformed(let reason, let warn):
            sink.append(warn ? "qubemem: warning: qube comment ignored, memory left as submitted: "
                        : "qubemem: invalid qube comment: ")
            sink.append(text: reason)
        }
        return true
    }

    /// Writes the AdminComment record (`qubemem:v1 ...`, docs/design.md).
    /// - Returns: false (and writes nothing) when nothing is recorded (refusals, other jobs).
    @discardableResult
    public func writeAdminRecord<S: TextSink>(to sink: inout S) -> Bool {
        switch detail {
        case .decided(let action, let priced, let given):
            sink.append(RecordKey.marker)
            writeFields(action, priced, given, to: &sink)
            return true
        case .malformed(_, true):
            sink.append(RecordKey.marker)
            sink.append(key: .action)
            sink.append("warn")
            sink.append(key: .userMiB)
            userMemory.writeRecord(to: &sink)
            return true
        case .silent, .overLimit, .malformed:
            return false
        }
    }

    /// Writes the log line's `key=value` fields (the caller prefixes function and uid).
    /// - Returns: false (and writes nothing) when there is nothing to log.
    @discardableResult
    public func writeLogLine<S: TextSink>(to sink: inout S) -> Bool {
        switch detail {
        case .silent:
            return false
        case .decided(let action, let priced, let given):
            writeFields(action, priced, given, to: &sink)
        case .overLimit(let priced, let limit):
            sink.append(limit == nil ? "action=reject reason=too_large request_mib=" : "action=reject reason=max_request request_mib=")
            sink.append(decimal: priced.requestMiB)
            if let limit {
                sink.append(" max_request_mib=")
                sink.append(decimal: limit)
            }
            sink.append(" user_mib=")
            userMemory.writeRecord(to: &sink)
        case .malformed(let reason, let warn):
            sink.append(warn ? "action=warn reason=malformed user_mib=" : "action=reject reason=malformed user_mib=")
            userMemory.writeRecord(to: &sink)
            sink.append(" error=\"")
            sink.append(text: reason, quoting: true)
            sink.append("\"")
        }
        return true
    }

    /// One line for the user's sbatch stderr, or nil.
    public var userMessage: String? { text(writeUserMessage) }
    /// The AdminComment record (`qubemem:v1 ...`) to append, or nil.
    public var adminRecord: String? { text(writeAdminRecord) }
    /// The log line's `key=value` fields, or nil when there is nothing to log.
    public var logLine: String? { text(writeLogLine) }

    private func text(_ write: (inout ByteArraySink) -> Bool) -> String? {
        var sink = ByteArraySink()
        return write(&sink) ? sink.text : nil
    }

    private func writeFields<S: TextSink>(_ action: Action, _ priced: Priced, _ given: UInt64, to sink: inout S) {
        sink.append(key: .action)
        switch action {
        case .set: sink.append("set")
        case .keptUser: sink.append("kept_user")
        case .keptLarger: sink.append("kept_larger")
        case .warn: sink.append("warn")
        }
        sink.append(key: .model)
        sink.append(model: priced.model)
        sink.append(key: .path)
        sink.append(path: priced.path)
        sink.append(key: .peakBytes)
        sink.append(decimal: priced.peakBytes)
        sink.append(key: .baselineBytes)
        sink.append(decimal: priced.baselineBytes)
        sink.append(key: .slack)
        sink.append(slack: priced.slack)
        sink.append(key: .requestMiB)
        sink.append(decimal: given == UInt64.max ? 0 : given)
        sink.append(key: .userMiB)
        userMemory.writeRecord(to: &sink)
        switch priced.layout {
        case .single:
            break
        case .perNode(let ranks, let nodeBytes, _):
            sink.append(key: .ranksPerNode)
            sink.append(decimal: ranks)
            sink.append(key: .nodeBytes)
            sink.append(decimal: nodeBytes)
        case .perCPU(let ranks, let rankBytes, let cpus):
            sink.append(key: .ranks)
            sink.append(decimal: ranks)
            sink.append(key: .memPerCPU)
            sink.append("yes")
            sink.append(key: .cpusPerRank)
            sink.append(decimal: cpus)
            sink.append(key: .rankBytes)
            sink.append(decimal: rankBytes)
        }
    }

    /// " MiB per node", " MiB per node for 4 ranks per node", " MiB per CPU for 8 ranks ...".
    private static func writeUnit<S: TextSink>(_ layout: RankLayout, to sink: inout S) {
        switch layout {
        case .single:
            sink.append(" MiB per node")
        case .perNode(let ranks, _, _):
            sink.append(" MiB per node for ")
            sink.append(decimal: ranks)
            sink.append(ranks == 1 ? " rank per node" : " ranks per node")
        case .perCPU(let ranks, _, _):
            sink.append(" MiB per CPU for ")
            sink.append(decimal: ranks)
            sink.append(" ranks on nodes SLURM chooses (each rank given rank 0's share; --ntasks-per-node or --nodes gives a per-node request)")
        }
    }

    /// " (model 1.3, path harmonic, peak 2.38 GiB + baseline 0.44 GiB, slack 1.15)"
    private static func writeExplanation<S: TextSink>(_ priced: Priced, to sink: inout S) {
        sink.append(" (model ")
        sink.append(model: priced.model)
        sink.append(", path ")
        sink.append(path: priced.path)
        sink.append(", peak ")
        sink.append(gibibytes: priced.peakBytes)
        sink.append(" GiB + baseline ")
        sink.append(gibibytes: priced.baselineBytes)
        if case .perNode(let ranks, let nodeBytes, let further) = priced.layout, ranks > 1 {
            sink.append(" GiB for rank 0, + ")
            sink.append(decimal: ranks - 1)
            sink.append(ranks == 2 ? " further rank × " : " further ranks × ")
            sink.append(gibibytes: further)
            sink.append(" GiB = node ")
            sink.append(gibibytes: nodeBytes)
        }
        sink.append(" GiB, slack ")
        sink.append(slack: priced.slack)
        sink.append(")")
    }
}

extension SubmissionDecision {
    /// Writes the three texts into the plugin's fixed buffers: the user's message, the
    /// AdminComment record and the log line's fields (appended to whatever `log` already holds).
    ///
    /// The same as calling the three generic writers, but compiled here for `FixedBufferSink`;
    /// and a decided job's log fields, which repeat its record's, are copied, not written twice.
    /// - Returns: whether there is a log line (when false, `log` is left as it was).
    public func writeTexts(message: inout FixedBufferSink, record: inout FixedBufferSink,
                           log: inout FixedBufferSink) -> Bool
    {
        writeUserMessage(to: &message)
        let start = record.count
        let recorded = writeAdminRecord(to: &record)
        if case .decided = detail, recorded, !record.truncated {
            log.append(contentsOf: record, from: start + RecordKey.marker.utf8CodeUnitCount)
            return true
        }
        return writeLogLine(to: &log)
    }
}
