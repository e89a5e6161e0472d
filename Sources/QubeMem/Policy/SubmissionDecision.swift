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

    /// The user's request as written in records: MiB per node (`8000`), `0` for the whole node
    /// (SLURM's own --mem=0), or `none`.
    var recordText: String {
        guard let mib = perNodeMiB else { return "none" }
        return mib == UInt64.max ? "0" : String(mib)
    }

    /// How the user wrote it, for messages: `--mem=8000M` or `--mem-per-cpu=2000M (x4 CPUs)`.
    var flagText: String {
        switch self {
        case .none: return "no memory request"
        case .perNode(let mib): return "--mem=\(mib)M"
        case .perCPU(let mib, let cpus): return "--mem-per-cpu=\(mib)M (\(cpus) CPUs per node)"
        }
    }
}

/// What job_submit/qubemem does with one job, decided from its comment, the user's memory
/// request and the site configuration. Pure: no I/O, no global state, never traps.
public struct SubmissionDecision: Sendable, Equatable {
    /// What happens to the job.
    public enum Outcome: Sendable, Equatable {
        /// Leave the job exactly as submitted.
        case untouched
        /// Set the job's memory to this many MiB per node (clearing any per-CPU request).
        case setMemory(mib: UInt64)
        /// Refuse the job; `userMessage` says why.
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

    public var outcome: Outcome
    /// One line for the user's sbatch stderr, or nil.
    public var userMessage: String?
    /// The AdminComment record (`qubemem:v1 ...`) to append, or nil.
    public var adminRecord: String?
    /// One line for slurmctld's log (`key=value` fields), or nil when there is nothing to log.
    public var logLine: String?
    /// Whether the log line reports a problem (error level) rather than a decision (info).
    public var logIsError: Bool
    /// Whether the decision is routine (memory set as predicted): logged at verbose level, since
    /// the job's AdminComment already records it and a log write costs more than the decision.
    public var logIsRoutine: Bool

    public init(outcome: Outcome, userMessage: String? = nil, adminRecord: String? = nil,
                logLine: String? = nil, logIsError: Bool = false, logIsRoutine: Bool = false) {
        self.outcome = outcome
        self.userMessage = userMessage
        self.adminRecord = adminRecord
        self.logLine = logLine
        self.logIsError = logIsError
        self.logIsRoutine = logIsRoutine
    }

    /// Decides what to do with a job.
    /// - Parameters:
    ///   - comment: the job's comment, or nil when it has none.
    ///   - userMemory: the memory the user asked for.
    ///   - config: the site configuration.
    /// - Returns: the decision, with the user message, AdminComment record and log line.
    public static func decide(comment: String?, userMemory: UserMemory, config: SiteConfig)
        -> SubmissionDecision
    {
        guard config.enabled, let comment else { return SubmissionDecision(outcome: .untouched) }
        return decide(parsed: QubeComment.parse(comment), userMemory: userMemory, config: config)
    }

    /// Decides from a comment given as raw bytes (any encoding), as slurmctld hands it over.
    public static func decide(commentBytes: UnsafeBufferPointer<UInt8>, userMemory: UserMemory,
                              config: SiteConfig) -> SubmissionDecision
    {
        guard config.enabled else { return SubmissionDecision(outcome: .untouched) }
        return decide(parsed: QubeComment.parse(utf8: commentBytes), userMemory: userMemory,
                      config: config)
    }

    private static func decide(parsed: Result<RunSpec, CommentError>?, userMemory: UserMemory,
                               config: SiteConfig) -> SubmissionDecision
    {
        guard let parsed else { return SubmissionDecision(outcome: .untouched) }
        let spec: RunSpec
        switch parsed {
        case .success(let value): spec = value
        case .failure(let error): return malformed("\(error)", userMemory: userMemory, config: config)
        }
        let prediction: Prediction
        switch Predictor.predict(spec, policy: config.policy) {
        case .success(let value): prediction = value
        case .failure(let error): return malformed("\(error)", userMemory: userMemory, config: config)
        }

        let request = max(prediction.requestMiB, config.minRequestMiB)
        let slack = prediction.slack.description
        let why = explanation(prediction, slack: slack)
        if request >= slurmLimitMiB {
            return SubmissionDecision(
                outcome: .reject(.overLimit),
                userMessage: "qubemem: this job needs \(request) MiB per node (\(why)), more than SLURM can request",
                logLine: "action=reject reason=too_large request_mib=\(request) user_mib=\(userMemory.recordText)"
            )
        }
        if let limit = config.maxRequestMiB, request > limit {
            return SubmissionDecision(
                outcome: .reject(.overLimit),
                userMessage: "qubemem: this job needs \(request) MiB per node (\(why)), above this site's limit of \(limit) MiB (max_request); reduce the problem or ask your administrators",
                logLine: "action=reject reason=max_request request_mib=\(request) max_request_mib=\(limit) user_mib=\(userMemory.recordText)"
            )
        }

        let action: Action
        let given: UInt64
        switch (config.userMemory, userMemory.perNodeMiB) {
        case (_, nil), (.override, _):
            action = .set
            given = request
        case (.user, .some(let user)):
            action = .keptUser
            given = user
        case (.larger, .some(let user)):
            if user >= request {
                action = .keptLarger
                given = user
            } else {
                action = .set
                given = request
            }
        }

        let fields = "action=\(action.rawValue) model=\(prediction.model.rawValue) path=\(prediction.path.rawValue) peak_bytes=\(prediction.peakBytes) baseline_bytes=\(prediction.baselineBytes) slack=\(slack) request_mib=\(given == UInt64.max ? "0" : String(given)) user_mib=\(userMemory.recordText)"
        let record = "qubemem:v1 " + fields
        let message: String
        let outcome: Outcome
        switch action {
        case .set:
            outcome = .setMemory(mib: request)
            let replaced = userMemory == .none ? "" : " instead of your \(userMemory.flagText)"
            message = "qubemem: memory set to \(request) MiB per node\(replaced) (\(why))"
        case .keptUser:
            outcome = .untouched
            message = "qubemem: kept your \(userMemory.flagText) as this site asks (user_memory=user); qubemem predicts \(request) MiB per node (\(why))"
        case .keptLarger, .warn:
            outcome = .untouched
            message = "qubemem: kept your \(userMemory.flagText), at least the \(request) MiB per node qubemem predicts (\(why))"
        }
        return SubmissionDecision(outcome: outcome, userMessage: message, adminRecord: record,
                                  logLine: fields, logIsRoutine: action == .set)
    }

    /// Requests at or above 2^62 MiB cannot be expressed in pn_min_memory (its top bits are flags).
    static let slurmLimitMiB: UInt64 = 1 << 62

    /// "model 1.3, path harmonic, peak 2.38 GiB + baseline 0.44 GiB, slack 1.15"
    static func explanation(_ prediction: Prediction, slack: String) -> String {
        "model \(prediction.model.rawValue), path \(prediction.path.rawValue), peak \(SizeText.gibibytes(prediction.peakBytes)) GiB + baseline \(SizeText.gibibytes(prediction.baselineBytes)) GiB, slack \(slack)"
    }

    /// A comment that does not parse or cannot be priced, handled per `on_malformed`.
    private static func malformed(_ reason: String, userMemory: UserMemory, config: SiteConfig)
        -> SubmissionDecision
    {
        let reason = oneLine(reason)
        switch config.onMalformed {
        case .reject:
            return SubmissionDecision(
                outcome: .reject(.malformedComment),
                userMessage: "qubemem: invalid qube comment: \(reason)",
                logLine: "action=reject reason=malformed user_mib=\(userMemory.recordText) error=\"\(quoted(reason))\""
            )
        case .warn:
            return SubmissionDecision(
                outcome: .untouched,
                userMessage: "qubemem: warning: qube comment ignored, memory left as submitted: \(reason)",
                adminRecord: "qubemem:v1 action=warn user_mib=\(userMemory.recordText)",
                logLine: "action=warn reason=malformed user_mib=\(userMemory.recordText) error=\"\(quoted(reason))\""
            )
        }
    }

    /// Text safe inside a double-quoted log field: quotes and backslashes become `'` and `/`.
    static func quoted(_ text: String) -> String {
        mapBytes(text) { $0 == UInt8(ascii: "\"") ? UInt8(ascii: "'") : $0 == UInt8(ascii: "\\") ? UInt8(ascii: "/") : $0 }
    }

    /// Replaces control characters (newlines, escapes) with `?` so a message stays one line.
    static func oneLine(_ text: String) -> String {
        mapBytes(text) { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }
    }

    /// Maps ASCII bytes one to one; multi-byte UTF-8 sequences pass unchanged (their bytes are
    /// all >= 0x80, so the result is valid UTF-8 again).
    private static func mapBytes(_ text: String, _ transform: (UInt8) -> UInt8) -> String {
        var text = text
        return text.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for index in bytes.indices { buffer[index] = bytes[index] < 0x80 ? transform(bytes[index]) : bytes[index] }
                return bytes.count
            }
        }
    }
}
