import QubeMemSlurm

/// Where a job's prediction came from.
public enum PredictionSource: String, Sendable {
    /// The plugin's AdminComment record: the number that was actually requested, and why.
    case record
    /// No record, but a `qube:` comment: recomputed with the current model (marked in the report).
    case recomputed
    /// Neither: shown only with `--all`, as plain requested-vs-used.
    case none
}

/// A prediction recomputed from a job comment by the current model.
public struct RecomputedPrediction: Sendable, Equatable {
    public var model: String
    public var path: String
    /// Baseline + lifetime peak, bytes.
    public var totalBytes: UInt64
    public init(model: String, path: String, totalBytes: UInt64) {
        self.model = model
        self.path = path
        self.totalBytes = totalBytes
    }
}

/// Recomputes a prediction from a job comment: nil when the comment has no `qube:` section, otherwise
/// the prediction or a message saying why it could not be made.
public typealias Recompute = @Sendable (String) -> Result<RecomputedPrediction, RecomputeError>?

public struct RecomputeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Settings of one audit.
public struct AuditSettings: Sendable {
    /// Share of jobs the recommended slack must cover (0 < target < 1).
    public var target = 0.99
    /// A job whose peak reaches this share of its request is a near miss.
    public var nearMiss = 0.9
    /// Show jobs without any prediction too.
    public var includeAll = false
    /// The slack in force, ten-thousandths; nil = the most common slack in the records, else
    /// `fallbackSlack`.
    public var currentSlack: UInt64? = nil
    /// The slack assumed when neither `currentSlack` nor any record gives one (the site's, 1.15 by default).
    public var fallbackSlack: UInt64 = 11_500
    public init() {}
}
