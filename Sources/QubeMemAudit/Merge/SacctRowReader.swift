public import QubeMemSlurm

/// One sacct row read: its fields checked, then merged into its job (`SacctRowMerge.swift`), or
/// counted as malformed with the reason.
extension SacctAccumulator {
    mutating func handleLine(_ raw: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        var line = raw
        if let last = line.last, last == UInt8(ascii: "\r") {
            line = UnsafeBufferPointer(rebasing: line[0..<(line.count - 1)])
        }
        if line.isEmpty { return }
        if !sawFirstLine {
            sawFirstLine = true
            if let header = SacctRowFields.headerLayout(line) {
                switch header {
                case .success(let l): layout = l
                case .failure(let error): headerError = error.message
                }
                return
            }
        }
        rows += 1
        fields.split(line)
        let fieldCount = fields.count
        if fieldCount < layout.count || (fieldCount > layout.count && !layout.textLast) {
            return reject("expected \(layout.count) fields separated by '|', found \(fieldCount)")
        }
        @inline(__always) func start(_ c: Int) -> Int { c == 0 ? 0 : fields.ends[c - 1] + 1 }
        @inline(__always) func field(_ f: SacctField) -> UnsafeBufferPointer<UInt8> {
            let c = layout.column[f.ordinal]
            return UnsafeBufferPointer(rebasing: line[start(c)..<fields.ends[c]])
        }
        guard let id = JobIDField.parse(field(.jobID)) else {
            return reject("JobID '\(text(field(.jobID)))' is not a job or step id")
        }
        switch id {
        case .pendingArray:
            pendingArrayRows += 1
        case .job(let key):
            guard let state = JobState.parse(field(.state)) else {
                return reject("State '\(text(field(.state)))' is not a SLURM job state")
            }
            if state.isLive {
                if liveKeys.insert(key).inserted { liveJobs += 1 }
                return
            }
            guard let elapsed = number(field(.elapsedRaw)) else {
                return reject("ElapsedRaw '\(text(field(.elapsedRaw)))' is not a number of seconds")
            }
            guard let nodes = number(field(.nNodes)), nodes <= UInt32.max else {
                return reject("NNodes '\(text(field(.nNodes)))' is not a count")
            }
            guard let cpus = number(field(.allocCPUs)), cpus <= UInt32.max else {
                return reject("AllocCPUS '\(text(field(.allocCPUs)))' is not a count")
            }
            let reqField = field(.reqMem)
            var requested: RequestedMemory? = nil
            if !reqField.isEmpty {
                guard let r = RequestedMemory.parse(reqField) else {
                    return reject("ReqMem '\(text(reqField))' is not a memory size")
                }
                requested = r
            }
            // Usually the job's first row: then its entry is made whole and appended, else the
            // entry its step rows started is completed.
            let existing = existingSlot(key)
            if let slot = existing,
               keeping == .jobs ? records[slot].hasAllocation : summary.jobs[slot].has(SummaryJob.hasAllocation)
            {
                return reject("second allocation row for job \(key)")
            }
            let comment: UnsafeBufferPointer<UInt8>
            let admin: UnsafeBufferPointer<UInt8>
            if fieldCount > layout.count {
                // Extra '|' inside the free text: the last piece is AdminComment, the rest Comment.
                let commentColumn = layout.column[SacctField.comment.ordinal]
                comment = UnsafeBufferPointer(rebasing: line[start(commentColumn)..<fields.ends[fieldCount - 2]])
                admin = UnsafeBufferPointer(rebasing: line[start(fieldCount - 1)..<fields.ends[fieldCount - 1]])
            } else {
                comment = field(.comment)
                admin = field(.adminComment)
            }
            var record = AdminRecord.find(in: admin)
            if case .none = record {
                // Replaced by an epilog (jobstats): the plugin's copy in the comment, if it holds.
                record = CommentRecordCopy.find(in: comment, requested: requested, nodes: UInt32(nodes),
                                                cpus: UInt32(cpus))
            }
            if keeping == .summary {
                return addSummaryAllocation(
                    key: key, slot: existing, state: state, elapsed: elapsed, nodes: UInt32(nodes), cpus: UInt32(cpus),
                    requested: requested, record: record, comment: comment)
            }
            var hasRecord = false
            if case .record = record { hasRecord = true }
            let allocation = Allocation(
                state: state, name: text(field(.jobName)), user: text(field(.user)), account: text(field(.account)),
                partition: text(field(.partition)), elapsedSeconds: elapsed, nodes: UInt32(nodes),
                cpus: UInt32(cpus), requested: requested, comment: hasRecord ? "" : text(comment), record: record)
            if let slot = existing {
                allocation.apply(to: &records[slot])
            } else {
                var job = AccountedJob(key: key, line: lineNumber)
                allocation.apply(to: &job)
                append(consume job)
            }
        case .step(let key, _):
            let state = JobState.parse(field(.state))
            if state == nil && !field(.state).isEmpty {
                return reject("State '\(text(field(.state)))' is not a SLURM job state")
            }
            let maxRSS = MemorySize.parse(field(.maxRSS), bareUnitShift: 0)
            if maxRSS == .invalid {
                return reject("MaxRSS '\(text(field(.maxRSS)))' is not a memory size")
            }
            guard let tot = tresMemory(field(.tresUsageInTot)) else {
                return reject("TRESUsageInTot '\(text(field(.tresUsageInTot)))' has an unreadable mem figure")
            }
            let tasksField = field(.nTasks)
            let tasks = tasksField.isEmpty ? 1 : number(tasksField)
            let nodesField = field(.nNodes)
            let nodes = nodesField.isEmpty ? 1 : number(nodesField)
            guard let tasks, let nodes else {
                return reject("NTasks/NNodes '\(text(tasksField))'/'\(text(nodesField))' are not counts")
            }
            var peak: (UInt64, PeakBasis)? = nil
            if case .bytes(let rss) = maxRSS {
                peak = Self.nodePeak(maxRSS: rss, tasks: tasks, nodes: nodes, taskSum: tot)
            }
            mergeStep(key, outOfMemory: state == .outOfMemory, peak: peak)
        }
    }

    /// Adds a step read as figures instead of a sacct row (`audit --source db` through the client
    /// library): counted and merged into its job exactly as the sacct row with these figures would
    /// be (`state` nil: a state sacct prints as UNKNOWN, a malformed row).
    /// - Parameters:
    ///   - maxRSS: the largest task's peak, bytes (nil: no figure); `taskSum`: the tasks' peaks
    ///     summed (TRESUsageInTot's mem), bytes.
    public mutating func addStep(
        job key: JobKey, state: JobState?, maxRSS: UInt64?, taskSum: UInt64?, tasks: UInt64, nodes: UInt64
    ) {
        lineNumber += 1
        rows += 1
        guard let state else { return reject("State 'UNKNOWN' is not a SLURM job state") }
        let peak = maxRSS.map { Self.nodePeak(maxRSS: $0, tasks: tasks, nodes: nodes, taskSum: taskSum) }
        mergeStep(key, outOfMemory: state == .outOfMemory, peak: peak)
    }

    @inline(__always)
    private mutating func mergeStep(_ key: JobKey, outOfMemory: Bool, peak: (UInt64, PeakBasis)?) {
        if keeping == .summary {
            let slot = existingSlot(key) ?? appendSummary(SummaryJob(key: key))
            summary.jobs[slot].addStep(outOfMemory: outOfMemory, peak: peak?.0)
            return
        }
        let slot = existingSlot(key) ?? append(AccountedJob(key: key, line: lineNumber))
        Self.addStep(to: &records[slot], outOfMemory: outOfMemory, peak: peak)
    }

    private mutating func reject(_ reason: String) {
        malformedCount += 1
        if malformed.count < Self.keptIssues {
            malformed.append(MalformedRow(line: lineNumber, reason: reason))
        }
    }
}
