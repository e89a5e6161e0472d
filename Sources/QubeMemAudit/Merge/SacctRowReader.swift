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
            if skipLive(key, state) { return }
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
            // The names only a job listing shows: no String is made for the summary.
            let names = keeping == .jobs
                ? (text(field(.jobName)), text(field(.user)), text(field(.account)), text(field(.partition)))
                : ("", "", "", "")
            mergeAllocation(
                key: key, state: state, elapsed: elapsed, nodes: UInt32(nodes), cpus: UInt32(cpus), requested: requested,
                comment: comment, admin: admin, names: names)
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

    /// Adds a job's allocation read as figures instead of a sacct row (`audit --source db`
    /// through the client library, `JobRecordFigures`): counted and merged exactly as the sacct row
    /// with these figures would be. The names a sacct row carries (JobName, User, Account,
    /// Partition) are not given: with `keeping: .jobs` they are left empty, so this is for
    /// `keeping: .summary`, which does not keep them.
    /// - Parameters:
    ///   - state: nil for a state sacct prints as `UNKNOWN` (a malformed row, as there).
    ///   - elapsedSeconds: ElapsedRaw, seconds; `nodes`, `cpus`: NNodes and AllocCPUS.
    ///   - requested: ReqMem, or nil when the row has none.
    ///   - comment, adminComment: the Comment and AdminComment fields' bytes, as sacct prints them
    ///     (no `|` and no line break in either, else the row is not one sacct row).
    public mutating func addJob(
        key: JobKey, state: JobState?, elapsedSeconds: UInt64, nodes: UInt32, cpus: UInt32, requested: RequestedMemory?,
        comment: UnsafeBufferPointer<UInt8>, adminComment: UnsafeBufferPointer<UInt8>
    ) {
        lineNumber += 1
        sawFirstLine = true
        rows += 1
        guard let state else { return reject("State 'UNKNOWN' is not a SLURM job state") }
        if skipLive(key, state) { return }
        mergeAllocation(
            key: key, state: state, elapsed: elapsedSeconds, nodes: nodes, cpus: cpus, requested: requested,
            comment: comment, admin: adminComment, names: ("", "", "", ""))
    }

    /// Counts a job that has not ended (skipped: it has no peak yet); true when it is one.
    @inline(__always)
    private mutating func skipLive(_ key: JobKey, _ state: JobState) -> Bool {
        guard state.isLive else { return false }
        if liveKeys.insert(key).inserted { liveJobs += 1 }
        return true
    }

    /// An allocation row's checked figures merged into its job: whole (`keeping: .jobs`, with the
    /// row's JobName, User, Account and Partition in `names`), or as the summary keeps them.
    @inline(__always)
    private mutating func mergeAllocation(
        key: JobKey, state: JobState, elapsed: UInt64, nodes: UInt32, cpus: UInt32, requested: RequestedMemory?,
        comment: UnsafeBufferPointer<UInt8>, admin: UnsafeBufferPointer<UInt8>,
        names: (name: String, user: String, account: String, partition: String)
    ) {
        // Usually the job's first row: then its entry is made whole and appended, else the
        // entry its step rows started is completed.
        let existing = existingSlot(key)
        if let slot = existing,
           keeping == .jobs ? records[slot].hasAllocation : summary.jobs[slot].has(SummaryJob.hasAllocation)
        {
            return reject("second allocation row for job \(key)")
        }
        var record = AdminRecord.find(in: admin)
        if case .none = record {
            // Replaced by an epilog (jobstats): the plugin's copy in the comment, if it holds.
            record = CommentRecordCopy.find(in: comment, requested: requested, nodes: nodes, cpus: cpus)
        }
        if keeping == .summary {
            return addSummaryAllocation(
                key: key, slot: existing, state: state, elapsed: elapsed, nodes: nodes, cpus: cpus,
                requested: requested, record: record, comment: comment)
        }
        var hasRecord = false
        if case .record = record { hasRecord = true }
        let allocation = Allocation(
            state: state, name: names.name, user: names.user, account: names.account, partition: names.partition,
            elapsedSeconds: elapsed, nodes: nodes, cpus: cpus, requested: requested,
            comment: hasRecord ? "" : text(comment), record: record)
        if let slot = existing {
            allocation.apply(to: &records[slot])
        } else {
            var job = AccountedJob(key: key, line: lineNumber)
            allocation.apply(to: &job)
            append(consume job)
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
