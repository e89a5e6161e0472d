/// What the plugin does when the user also asked for memory (`--mem` or `--mem-per-cpu`).
public enum UserMemoryPolicy: String, Sendable, CaseIterable {
    /// Replace the user's request with the prediction.
    case override
    /// Keep whichever is larger, the user's request (per node) or the prediction.
    case larger
    /// Keep the user's request; the prediction is only recorded.
    case user
}

/// What the plugin does with a `qube:` comment that does not parse or cannot be priced.
public enum MalformedPolicy: String, Sendable, CaseIterable {
    /// Refuse the job with the parser's message.
    case reject
    /// Accept the job untouched and tell the user why the comment was ignored.
    case warn
}

/// The site's qubemem settings, read from `qubemem.conf` (see qubemem.conf(5)).
///
/// Every field has a documented default, so an empty file (or no file) is a valid configuration.
public struct SiteConfig: Sendable, Equatable {
    /// `enabled`: when false the plugin leaves every job untouched. Default true.
    public var enabled: Bool
    /// `slack`, `interpreter_floor`, `input_covariances`, `default_model`: the request formula.
    public var policy: RequestPolicy
    /// `min_request`: the smallest memory the plugin sets, MiB per node. Default 0 (no minimum).
    public var minRequestMiB: UInt64
    /// `max_request`: a prediction above this is rejected, MiB per node. Default nil (no limit).
    public var maxRequestMiB: UInt64?
    /// `user_memory`: what to do when the user also passed --mem or --mem-per-cpu. Default `larger`.
    public var userMemory: UserMemoryPolicy
    /// `on_malformed`: what to do with a malformed qube comment. Default `reject`.
    public var onMalformed: MalformedPolicy
    /// `comment_record`: also append the AdminComment record to the job's Comment, after the
    /// user's text, where an epilog that replaces AdminComment (jobstats) does not reach it.
    /// Default true. See `CommentRecord`.
    public var commentRecord: Bool

    /// The documented defaults.
    public init() {
        enabled = true
        policy = RequestPolicy()
        minRequestMiB = 0
        maxRequestMiB = nil
        userMemory = .larger
        onMalformed = .reject
        commentRecord = true
    }

    /// The keys qubemem.conf accepts, in the order `render` writes them.
    public static let keys: [String] = [
        "enabled", "slack", "interpreter_floor", "input_covariances", "mpi_rank_overhead", "min_request", "max_request",
        "default_model", "measured_terms", "user_memory", "on_malformed", "comment_record",
    ]

    /// Parses the text of a qubemem.conf file.
    ///
    /// The format is one `key = value` per line; `#` starts a comment that runs to the end of the
    /// line; blank lines are ignored; each key may appear at most once.
    /// - Parameter text: the whole file.
    /// - Returns: the configuration, or the first error with its 1-based line number.
    public static func parse(_ text: String) -> Result<SiteConfig, SiteConfigError> {
        var config = SiteConfig()
        var seen: [String: Int] = [:]
        var lineNumber = 0
        // isNewline: "\n", "\r\n" (one Character in Swift) and "\r" each end a line.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let content = trimmed(line)
            if content.isEmpty { continue }
            guard let equals = content.firstIndex(of: "=") else {
                return .failure(.init(line: lineNumber, key: nil, kind: .missingEquals(String(content))))
            }
            let key = String(trimmed(content[..<equals]))
            let value = String(trimmed(content[content.index(after: equals)...]))
            guard !key.isEmpty else {
                return .failure(.init(line: lineNumber, key: nil, kind: .missingKey))
            }
            guard keys.contains(key) else {
                return .failure(.init(line: lineNumber, key: key, kind: .unknownKey))
            }
            if let first = seen[key] {
                return .failure(.init(line: lineNumber, key: key, kind: .duplicateKey(firstLine: first)))
            }
            seen[key] = lineNumber
            if let kind = config.set(key, value) {
                return .failure(.init(line: lineNumber, key: key, kind: kind))
            }
        }
        if let max = config.maxRequestMiB, max < config.minRequestMiB {
            let line = seen["max_request"] ?? lineNumber
            return .failure(.init(line: line, key: "max_request",
                                  kind: .invalidValue(String(max), expected: "at least min_request (\(config.minRequestMiB) MiB)")))
        }
        return .success(config)
    }

    /// Writes the configuration back as qubemem.conf text with every key (for logs and docs).
    public func render() -> String {
        keyValues.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
    }

    /// The effective settings as `key=value` pairs separated by spaces (one log line).
    public var summary: String {
        keyValues.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    private var keyValues: [(String, String)] {
        [
            ("enabled", enabled ? "yes" : "no"),
            ("slack", policy.slack.description),
            ("interpreter_floor", SizeText.render(bytes: policy.interpreterFloorBytes)),
            ("input_covariances", String(policy.inputCovariances)),
            ("mpi_rank_overhead", SizeText.render(bytes: policy.mpiRankOverheadBytes)),
            ("min_request", SizeText.render(mib: minRequestMiB)),
            ("max_request", maxRequestMiB.map { SizeText.render(mib: $0) } ?? "none"),
            ("default_model", policy.defaultModel.rawValue),
            ("measured_terms", policy.measuredTerms ? "yes" : "no"),
            ("user_memory", userMemory.rawValue),
            ("on_malformed", onMalformed.rawValue),
            ("comment_record", commentRecord ? "yes" : "no"),
        ]
    }

    /// Sets one key; returns what was wrong with the value, or nil.
    private mutating func set(_ key: String, _ value: String) -> SiteConfigError.Kind? {
        switch key {
        case "enabled":
            guard let flag = Self.parseBool(value) else {
                return .invalidValue(value, expected: "yes or no (also true/false, on/off, 1/0)")
            }
            enabled = flag
        case "slack":
            guard let slack = Slack.parse(value), slack.tenThousandths >= 10_000,
                  slack.tenThousandths <= 100_000
            else {
                return .invalidValue(value, expected: "a decimal from 1 to 10 with at most 4 places, such as 1.15")
            }
            policy.slack = slack
        case "interpreter_floor":
            guard let bytes = SizeText.parseBytes(value, defaultUnit: .mebi) else {
                return .invalidValue(value, expected: "a size such as 256M or 0.25G (no suffix means MiB)")
            }
            policy.interpreterFloorBytes = bytes
        case "mpi_rank_overhead":
            guard let bytes = SizeText.parseBytes(value, defaultUnit: .mebi) else {
                return .invalidValue(value, expected: "a size such as 128M or 0.125G (no suffix means MiB)")
            }
            policy.mpiRankOverheadBytes = bytes
        case "input_covariances":
            guard let count = UInt64(value), count <= 64 else {
                return .invalidValue(value, expected: "a whole number from 0 to 64")
            }
            policy.inputCovariances = count
        case "min_request":
            guard let mib = SizeText.parseMiB(value) else {
                return .invalidValue(value, expected: "a size such as 1G or 512M (no suffix means MiB)")
            }
            minRequestMiB = mib
        case "max_request":
            if value == "none" {
                maxRequestMiB = nil
            } else {
                guard let mib = SizeText.parseMiB(value), mib > 0 else {
                    return .invalidValue(value, expected: "a positive size such as 500G, or none")
                }
                maxRequestMiB = mib
            }
        case "default_model":
            guard let model = ModelVersion.parse(value) else {
                return .invalidValue(value, expected: ModelVersion.validSpellings)
            }
            policy.defaultModel = model
        case "measured_terms":
            guard let flag = Self.parseBool(value) else {
                return .invalidValue(value, expected: "yes or no (also true/false, on/off, 1/0)")
            }
            policy.measuredTerms = flag
        case "user_memory":
            guard let choice = UserMemoryPolicy(rawValue: value) else {
                return .invalidValue(value, expected: "override, larger or user")
            }
            userMemory = choice
        case "on_malformed":
            guard let choice = MalformedPolicy(rawValue: value) else {
                return .invalidValue(value, expected: "reject or warn")
            }
            onMalformed = choice
        case "comment_record":
            guard let flag = Self.parseBool(value) else {
                return .invalidValue(value, expected: "yes or no (also true/false, on/off, 1/0)")
            }
            commentRecord = flag
        default:
            return .unknownKey
        }
        return nil
    }

    /// A yes/no value (`ByteText.flag`: the rule job comments use too).
    static func parseBool(_ text: String) -> Bool? { ByteText.flag(text.utf8) }

    private static func trimmed(_ text: Substring) -> Substring {
        var start = text.startIndex
        var end = text.endIndex
        while start < end, text[start] == " " || text[start] == "\t" || text[start] == "\r" {
            start = text.index(after: start)
        }
        while end > start {
            let before = text.index(before: end)
            guard text[before] == " " || text[before] == "\t" || text[before] == "\r" else { break }
            end = before
        }
        return text[start..<end]
    }
}

/// A qubemem.conf error: which line, which key, what was wrong.
public struct SiteConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the line.
    public enum Kind: Sendable, Equatable {
        case missingEquals(String)
        case missingKey
        case unknownKey
        case duplicateKey(firstLine: Int)
        case invalidValue(String, expected: String)
    }

    /// 1-based line number in the file.
    public var line: Int
    /// The key on that line, when there was one.
    public var key: String?
    public var kind: Kind

    public var description: String {
        switch kind {
        case .missingEquals(let text):
            "line \(line): expected 'key = value', found '\(text)'"
        case .missingKey:
            "line \(line): missing key before '='"
        case .unknownKey:
            "line \(line): unknown key '\(key ?? "")' (valid keys: \(SiteConfig.keys.joined(separator: ", ")))"
        case .duplicateKey(let first):
            "line \(line): key '\(key ?? "")' already set on line \(first)"
        case .invalidValue(let value, let expected):
            "line \(line): the value '\(value)' is invalid for '\(key ?? "")': expected \(expected)"
        }
    }
}
