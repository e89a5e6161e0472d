/// The decision's three texts: the user's message, the AdminComment record (`qubemem:v1 ...`,
/// docs/design.md) and the log line, written into any `TextSink`, or as `String`s.
extension SubmissionDecision {
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
